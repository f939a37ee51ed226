// RUN: tp-opt %s --tp-partition-pipeline="tp-size=2" --tp-cpu-pipeline | FileCheck %s
// arith.addf on whole tensors (no linalg at all) through the CPU pipeline.

// CHECK-LABEL: llvm.func @add_tensors(
// CHECK-NOT: bufferization.clone
// CHECK-NOT: builtin.unrealized_conversion_cast
// CHECK: llvm.fadd
// CHECK: llvm.func @tp_entry(
func.func @add_tensors(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %y = arith.addf %x, %x : tensor<8x16xf32>
  return %y : tensor<8x16xf32>
}
