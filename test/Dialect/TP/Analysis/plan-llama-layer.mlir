// The unannotated Llama layer (examples/llama-layer.mlir: RMSNorm, 32 query
// and 8 KV heads, SwiGLU): KV heads are split with the query heads, the gate
// and up projections are column, down is row; two all-reduces at tp 2, 4, 8.
//
// RUN: tp-opt %tp_src_root/examples/llama-layer.mlir --tp-plan="tp-size=8" | FileCheck %s --check-prefix=PLAN
// RUN: tp-opt %tp_src_root/examples/llama-layer.mlir --tp-plan="tp-size=8" --tp-partition="tp-size=8" | FileCheck %s --check-prefix=PART
// RUN: tp-opt %tp_src_root/examples/llama-layer.mlir --tp-plan="tp-size=2" --tp-partition="tp-size=2" | FileCheck %s --check-prefix=TWO
// RUN: tp-opt %tp_src_root/examples/llama-layer.mlir --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --check-prefix=TWO
// RUN: tp-opt %tp_src_root/examples/llama-layer.mlir --tp-plan="tp-size=8" --tp-partition="tp-size=8" | FileCheck %s --check-prefix=TWO
// TWO-COUNT-2: {{tp\.(all_reduce|all_gather|reduce_scatter)}}
// TWO-NOT: {{tp\.(all_reduce|all_gather|reduce_scatter)}}

// PLAN-COUNT-3: linalg.matmul {tp.parallel = "column"
// PLAN: linalg.matmul {tp.parallel = "row"
// PLAN-COUNT-2: linalg.matmul {tp.parallel = "column"
// PLAN: linalg.matmul {tp.parallel = "row"

// 8 KV heads over 8 ranks: one each; the repeat to 4 query heads is local.
// PART-LABEL: func.func @llama_layer
// PART-SAME: %{{[a-z0-9_]+}}: tensor<8x256xf32> {tp.global_type = tensor<64x256xf32>, tp.sharding = #tp.sharding<split 0>}
// PART: tensor.expand_shape {{.*}} into tensor<2x16x4x8xf32>
// PART: tensor.expand_shape {{.*}} into tensor<2x16x1x8xf32>
// PART: } -> tensor<2x1x4x16x8xf32>
// PART: tp.all_reduce sum
// PART: tp.all_reduce sum
// PART-NOT: tp.all_gather
