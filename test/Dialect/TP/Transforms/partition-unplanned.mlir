// tp-partition on a program with nothing annotated or planned says so (it
// would run every op replicated), and TOSA input to tp-partition or tp-plan
// gets a hint naming the conversion (tp-plan: plan-tosa-hint.mlir). At
// tp-size 1 there is nothing to say.
// RUN: tp-opt %s --split-input-file --verify-diagnostics --tp-partition="tp-size=2"
// RUN: sed "s,// expected-,// ," %s | tp-opt --split-input-file --tp-partition="tp-size=1" 2>&1 | FileCheck %s --check-prefix=SIZE1

// SIZE1-NOT: remark
// SIZE1-LABEL: func.func @unannotated_matmul
// expected-remark @+1 {{nothing is annotated or planned: every op runs replicated; run --tp-plan first (or annotate tp.parallel)}}
func.func @unannotated_matmul(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>) -> tensor<8x32xf32> {
  %z = tensor.empty() : tensor<8x32xf32>
  %y = linalg.matmul ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>)
      outs(%z : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// SIZE1-LABEL: func.func @tosa_matmul
// expected-remark @+1 {{nothing is annotated or planned}}
func.func @tosa_matmul(%x: tensor<1x8x16xf32>, %w: tensor<1x16x32xf32>) -> tensor<1x8x32xf32> {
  // expected-warning @+1 {{tp-partition works on linalg, and TOSA ops run replicated: convert first with --tosa-to-linalg-pipeline --tosa-to-tensor --tosa-to-arith --canonicalize (tp-run converts TOSA input itself)}}
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %y = tosa.matmul %x, %w, %zp, %zp : (tensor<1x8x16xf32>, tensor<1x16x32xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x8x32xf32>
  return %y : tensor<1x8x32xf32>
}
