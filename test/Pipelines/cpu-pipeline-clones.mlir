// RUN: tp-opt %s --tp-partition-pipeline="tp-size=2" --tp-cpu-pipeline | FileCheck %s
// Buffer deallocation returns a bufferization.clone of a buffer the
// function does not own (an argument returned as it is); arith on whole
// tensors becomes linalg. Both reach the LLVM dialect: no clone and no
// unrealized cast is left for the translation to LLVM IR to fail on.

// CHECK-LABEL: llvm.func @returns_argument(
// CHECK-NOT: bufferization.clone
// CHECK-NOT: builtin.unrealized_conversion_cast
// CHECK: llvm.func @tp_entry(
func.func @returns_argument(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>) -> (tensor<8x32xf32>, tensor<8x16xf32>) {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %m = linalg.matmul {tp.parallel = "column"} ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%f : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %m, %x : tensor<8x32xf32>, tensor<8x16xf32>
}
