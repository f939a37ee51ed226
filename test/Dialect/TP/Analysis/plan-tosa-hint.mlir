// tp-plan on TOSA input: a hint naming the conversion to linalg. A
// tp-partition right after it does not repeat it: the bodies tp-plan checked
// (and kept the sharding problems of) are not walked again.
// RUN: tp-opt %s --verify-diagnostics --tp-plan="tp-size=2" -o /dev/null
// RUN: sed "s,// expected-,// ," %s | tp-opt --tp-plan="tp-size=2" --tp-partition="tp-size=2" -o /dev/null 2>&1 | FileCheck %s --check-prefix=ONCE
// ONCE: warning: tp-plan works on linalg, and TOSA ops run replicated
// ONCE-NOT: works on linalg

func.func @tosa_matmul(%x: tensor<1x8x16xf32>, %w: tensor<1x16x32xf32>) -> tensor<1x8x32xf32> {
  // expected-warning @+1 {{tp-plan works on linalg, and TOSA ops run replicated: convert first with --tosa-to-linalg-pipeline --tosa-to-tensor --tosa-to-arith --canonicalize (tp-run converts TOSA input itself)}}
  %zp = "tosa.const"() <{values = dense<0.0> : tensor<1xf32>}> : () -> tensor<1xf32>
  %y = tosa.matmul %x, %w, %zp, %zp : (tensor<1x8x16xf32>, tensor<1x16x32xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x8x32xf32>
  return %y : tensor<1x8x32xf32>
}
