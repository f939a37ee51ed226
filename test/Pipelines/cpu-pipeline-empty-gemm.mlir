// A contraction with a zero-sized operand stays loops on the CPU target (the
// loops do nothing; its buffers may have no strided layout to hand to
// tp_rt_gemm): found by scripts/fuzz_programs.py, a crash in
// tp-lower-gemm-to-runtime before.
// RUN: tp-opt %s --tp-cpu-pipeline 2>&1 | FileCheck %s

// CHECK: remark: contraction stays generated CPU loops: an operand has no elements
// CHECK: remark: contraction stays generated CPU loops: an operand has no elements
// CHECK-NOT: tp_rt_gemm
// CHECK: llvm.func @empty_contractions
func.func @empty_contractions(%a: tensor<6x0xf32>, %b: tensor<0x4xf32>, %c: tensor<2x6x0xf32>, %d: tensor<2x0x6xf32>) -> (tensor<6x4xf32>, tensor<2x6x6xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<6x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<6x4xf32>) -> tensor<6x4xf32>
  %y = linalg.matmul ins(%a, %b : tensor<6x0xf32>, tensor<0x4xf32>) outs(%f : tensor<6x4xf32>) -> tensor<6x4xf32>
  %e2 = tensor.empty() : tensor<2x6x6xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<2x6x6xf32>) -> tensor<2x6x6xf32>
  %z = linalg.batch_matmul ins(%c, %d : tensor<2x6x0xf32>, tensor<2x0x6xf32>) outs(%f2 : tensor<2x6x6xf32>) -> tensor<2x6x6xf32>
  return %y, %z : tensor<6x4xf32>, tensor<2x6x6xf32>
}
