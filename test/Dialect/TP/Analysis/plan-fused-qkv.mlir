// Fused QKV projections (one weight [(H + 2G) * D, E], its output cut into
// Q, K and V by extract_slice, as torch-mlir emits `qkv.split(...)`): tp-plan
// splits the projection within each segment so every rank holds its heads of
// Q, K and V, and the layer keeps Megatron's two all-reduces.
//
// RUN: %gen_transformer --arch gpt2 --fused-qkv --hidden 64 --heads 4 --ffn 128 --seq 8 -o %t.gpt2.mlir
// RUN: tp-opt %t.gpt2.mlir --tp-plan="tp-size=4" | FileCheck %s --check-prefix=PLAN
// RUN: tp-opt %t.gpt2.mlir --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --check-prefix=PART
// RUN: tp-opt %t.gpt2.mlir --tp-plan="tp-size=2" --tp-partition="tp-size=2" | FileCheck %s --check-prefix=TWO
// RUN: %gen_transformer --arch llama --fused-qkv --hidden 64 --heads 4 --kv-heads 2 --ffn 128 --seq 8 -o %t.llama.mlir
// RUN: tp-opt %t.llama.mlir --tp-plan="tp-size=2" --tp-partition="tp-size=2" | FileCheck %s --check-prefix=GQA
// RUN: tp-opt %t.llama.mlir --tp-plan="tp-size=2" --tp-partition="tp-size=2" | FileCheck %s --check-prefix=TWO
// RUN: tp-opt %t.llama.mlir --tp-plan="tp-size=4" | FileCheck %s --check-prefix=FEW
// RUN: tp-opt %t.llama.mlir --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --check-prefix=FEWPART
// RUN: tp-opt %t.llama.mlir --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --check-prefix=TWO
// RUN: %gen_transformer --arch gpt2 --fused-qkv-view --hidden 64 --heads 4 --ffn 128 --seq 8 -o %t.view.mlir
// RUN: tp-opt %t.view.mlir --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --check-prefix=VIEW
// RUN: tp-opt %t.view.mlir --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --check-prefix=TWO
// A fused projection the cost check keeps whole is predicted whole: the
// output projection after it is not made row-parallel on its account.
// RUN: tp-opt %t.gpt2.mlir --tp-plan="tp-size=4 min-savings-ratio=1e9" | FileCheck %s --check-prefix=WHOLE
// RUN: tp-opt %t.gpt2.mlir --tp-plan="tp-size=4 min-savings-ratio=1e9" --tp-partition="tp-size=4" | not grep -E "tp\.(all_|reduce_scatter)"
// WHOLE-LABEL: func.func @gpt2_layer
// WHOLE-NOT: tp.parallel = "row"
// WHOLE: return
// TWO-COUNT-2: {{tp\.(all_reduce|all_gather|reduce_scatter)}}
// TWO-NOT: {{tp\.(all_reduce|all_gather|reduce_scatter)}}

// PLAN: linalg.matmul {tp.parallel = "column", tp.plan_reason = "column: output features split within each of the segments [64, 64, 64] (a fused projection); the split reaches the row layer at
// PLAN: linalg.matmul {tp.parallel = "row"
// PLAN: linalg.matmul {tp.parallel = "column"
// PLAN: linalg.matmul {tp.parallel = "row"

// The weight (torch layout [out, in]) and the bias hold a quarter of each
// segment; Q, K and V are local slices of one rank's 48 output features.
// PART-LABEL: func.func @gpt2_layer
// PART-SAME: tensor<48x64xf32> {tp.global_type = tensor<192x64xf32>, tp.sharding = #tp.sharding<split 0 segments [64, 64, 64]>}
// PART-SAME: tensor<48xf32> {tp.global_type = tensor<192xf32>, tp.sharding = #tp.sharding<split 0 segments [64, 64, 64]>}
// PART: tensor.extract_slice %{{.*}}[0, 0] [8, 16] [1, 1] : tensor<8x48xf32> to tensor<8x16xf32>
// PART: tensor.extract_slice %{{.*}}[0, 16] [8, 16] [1, 1] : tensor<8x48xf32> to tensor<8x16xf32>
// PART: tensor.extract_slice %{{.*}}[0, 32] [8, 16] [1, 1] : tensor<8x48xf32> to tensor<8x16xf32>
// PART: tensor.expand_shape {{.*}} output_shape [1, 8, 1, 16] : tensor<8x16xf32> into tensor<1x8x1x16xf32>
// PART-NOT: tp.all_gather
// PART-NOT: tp.all_slice
// PART: tp.all_reduce
// PART-NOT: tp.all_gather
// PART-NOT: tp.all_slice
// PART: tp.all_reduce
// PART-NOT: tp.all_gather
// PART-NOT: tp.all_slice
// PART: return

// Grouped-query attention (4 query heads, 2 KV heads): unequal segments.
// GQA-LABEL: func.func @llama_layer
// GQA-SAME: tensor<64x64xf32> {tp.global_type = tensor<128x64xf32>, tp.sharding = #tp.sharding<split 0 segments [64, 32, 32]>}
// GQA: tensor.extract_slice %{{.*}}[0, 0] [8, 32] [1, 1] : tensor<8x64xf32> to tensor<8x32xf32>
// GQA: tensor.extract_slice %{{.*}}[0, 32] [8, 16] [1, 1] : tensor<8x64xf32> to tensor<8x16xf32>
// GQA: tensor.extract_slice %{{.*}}[0, 48] [8, 16] [1, 1] : tensor<8x64xf32> to tensor<8x16xf32>

// With fewer KV heads (2) than ranks (4), every rank holds its query heads
// and all of K and V (as separate projections would: K and V replicated);
// the plan records which column form it chose.
// FEW: linalg.matmul {tp.parallel = "column", tp.plan_reason = "column: output features split within each of the segments [64, 32, 32] (a fused projection), except segments [1, 2] kept whole on every rank; the split reaches the row layer at {{.*}}", tp.result_sharding = #tp.sharding<split 1 segments [64, 32, 32] replicated [1, 2]>}
// FEWPART-LABEL: func.func @llama_layer
// FEWPART-SAME: tensor<80x64xf32> {tp.global_type = tensor<128x64xf32>, tp.sharding = #tp.sharding<split 0 segments [64, 32, 32] replicated [1, 2]>}
// FEWPART-NOT: tp.result_sharding
// FEWPART: tensor.extract_slice %{{.*}}[0, 0] [8, 16] [1, 1] : tensor<8x80xf32> to tensor<8x16xf32>
// FEWPART: tensor.extract_slice %{{.*}}[0, 16] [8, 32] [1, 1] : tensor<8x80xf32> to tensor<8x32xf32>
// FEWPART: tensor.extract_slice %{{.*}}[0, 48] [8, 32] [1, 1] : tensor<8x80xf32> to tensor<8x32xf32>
// FEWPART-NOT: tp.all_gather

// The fused output cut apart by a reshape instead: qkv.view(B, S, 3, H, D)
// .permute(2, 0, 3, 1, 4)[i]. The expand_shape takes the segmented [3 * E]
// to [.., 3, H / p, D]; the selects of Q, K and V are local.
// VIEW-LABEL: func.func @gpt2_layer
// VIEW-SAME: tensor<48x64xf32> {tp.global_type = tensor<192x64xf32>, tp.sharding = #tp.sharding<split 0 segments [64, 64, 64]>}
// VIEW: tensor.expand_shape {{.*}} output_shape [1, 8, 3, 1, 16] : tensor<8x48xf32> into tensor<1x8x3x1x16xf32>
// VIEW: tensor.extract_slice %{{.*}}[0, 0, 0, 0, 0] [1, 1, 1, 8, 16] [1, 1, 1, 1, 1] : tensor<3x1x1x8x16xf32> to tensor<1x1x8x16xf32>
// VIEW-NOT: tp.all_gather
// VIEW: tp.all_reduce
