// tp-lower-gemm-to-runtime's errors: a tp.gemm must be bufferized
// first, and needs static shapes (tp_rt_gemm takes its sizes as
// constants).
// RUN: tp-opt %s --split-input-file --tp-lower-gemm-to-runtime -verify-diagnostics -o /dev/null

func.func @gemm_on_tensors(%a: tensor<16x32xf32>, %b: tensor<32x8xf32>, %c: tensor<16x8xf32>) -> tensor<16x8xf32> {
  // expected-error @+1 {{'tp.gemm' op must be bufferized before tp-lower-gemm-to-runtime}}
  %r = tp.gemm ins(%a, %b : tensor<16x32xf32>, tensor<32x8xf32>) outs(%c : tensor<16x8xf32>) epilogue(none) beta(0.0) -> tensor<16x8xf32>
  return %r : tensor<16x8xf32>
}

// -----

func.func @gemm_dynamic(%a: memref<?x32xf32>, %b: memref<32x8xf32>, %c: memref<?x8xf32>) {
  // expected-error @+1 {{'tp.gemm' op needs static shapes to be lowered to tp_rt_gemm}}
  tp.gemm ins(%a, %b : memref<?x32xf32>, memref<32x8xf32>) outs(%c : memref<?x8xf32>) epilogue(none) beta(0.0)
  return
}
