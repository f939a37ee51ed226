// The unannotated GPT-2 layer (examples/gpt2-layer.mlir: LayerNorm, 12 heads,
// batch 2, GELU MLP): tp-plan finds Megatron's plan, and the partitioned layer
// has exactly two all-reduces and nothing else.
//
// RUN: tp-opt %tp_src_root/examples/gpt2-layer.mlir --tp-plan="tp-size=4" | FileCheck %s --check-prefix=PLAN
// RUN: tp-opt %tp_src_root/examples/gpt2-layer.mlir --tp-plan="tp-size=4" --tp-partition="tp-size=4" | FileCheck %s --check-prefix=PART
// RUN: tp-opt %tp_src_root/examples/gpt2-layer.mlir --tp-plan="tp-size=2" --tp-partition="tp-size=2" | FileCheck %s --check-prefix=TWO
// TWO-COUNT-2: {{tp\.(all_reduce|all_gather|reduce_scatter)}}
// TWO-NOT: {{tp\.(all_reduce|all_gather|reduce_scatter)}}

// Q, K, V: column (their split reaches the output projection); output
// projection: row; MLP: column then row.
// PLAN: linalg.matmul {tp.parallel = "column", tp.plan_reason = "column: output features split; the split reaches the row layer at
// PLAN: linalg.matmul {tp.parallel = "column", tp.plan_reason = "column: output features split; the split reaches the row layer at
// PLAN: linalg.matmul {tp.parallel = "column", tp.plan_reason = "column: output features split; the split reaches the row layer at
// PLAN: linalg.matmul {tp.parallel = "row", tp.plan_reason = "row: its input arrives split along the contraction dimension
// PLAN: linalg.matmul {tp.parallel = "column"
// PLAN: linalg.matmul {tp.parallel = "row"

// Heads are split (12 / 4 = 3 per rank) through the reshapes and attention.
// PART-LABEL: func.func @gpt2_layer
// PART: tensor.expand_shape {{.*}} output_shape [2, 16, 3, 8] : tensor<32x24xf32> into tensor<2x16x3x8xf32>
// PART: } -> tensor<2x3x16x16xf32>
// PART: tp.all_reduce sum %{{.*}} over 4 : tensor<32x96xf32>
// PART: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<32x96xf32>, tensor<96x96xf32>) outs(%{{.*}} : tensor<32x96xf32>)
// PART: tp.all_reduce sum %{{.*}} over 4 : tensor<32x96xf32>
// PART-NOT: tp.all_gather
// PART-NOT: tp.all_slice
// PART: return
