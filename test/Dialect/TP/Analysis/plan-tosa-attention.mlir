// TOSA attention through upstream's conversions, then tp-plan: the Q/K/V
// projections are column, the heads are split through tosa.reshape /
// tosa.transpose / the batched tosa.matmul and the softmax, the output
// projection is row: one all-reduce.
//
// RUN: tp-opt %S/../../../Integration/Inputs/tosa-attention.mlir --tosa-to-linalg-pipeline --tosa-to-tensor --tosa-to-arith --canonicalize --tp-plan="tp-size=2" --tp-partition="tp-size=2" | FileCheck %s

// CHECK-LABEL: func.func @tosa_attention
// Each rank projects 16 of the 32 features (2 of the 4 heads) ...
// CHECK-COUNT-3: } -> tensor<1x16x16xf32>
// ... and computes the scores of its 2 heads.
// CHECK: } -> tensor<1x2x16x16xf32>
// CHECK: tp.all_reduce sum %{{.*}} over 2 : tensor<1x16x32xf32>
// CHECK-NOT: tp.all_gather
// CHECK: return
