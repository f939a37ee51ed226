// RUN: tp-opt %s --split-input-file --verify-diagnostics

func.func @negative_f64(%a: tensor<4x8xf64>, %b: tensor<8x2xf64>, %c: tensor<4x2xf64>) -> tensor<4x2xf64> {
  // expected-error @below {{'tp.gemm' op element type 'f64' is not supported (f32, f16 or bf16)}}
  %r = tp.gemm ins(%a, %b : tensor<4x8xf64>, tensor<8x2xf64>) outs(%c : tensor<4x2xf64>) epilogue(none) beta(0.0) -> tensor<4x2xf64>
  return %r : tensor<4x2xf64>
}

// -----

func.func @negative_mixed_types(%a: tensor<4x8xbf16>, %b: tensor<8x2xbf16>, %c: tensor<4x2xf32>) -> tensor<4x2xf32> {
  // expected-error @below {{operands must have one element type}}
  %r = tp.gemm ins(%a, %b : tensor<4x8xbf16>, tensor<8x2xbf16>) outs(%c : tensor<4x2xf32>) epilogue(none) beta(0.0) -> tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}

// -----

func.func @negative_k_mismatch(%a: tensor<4x8xf32>, %b: tensor<8x2xf32>, %c: tensor<4x2xf32>) -> tensor<4x2xf32> {
  // expected-error @below {{the contraction sizes of A and B differ (4 vs 8)}}
  %r = tp.gemm ins(%a, %b : tensor<4x8xf32>, tensor<8x2xf32>) outs(%c : tensor<4x2xf32>) trans_a epilogue(none) beta(0.0) -> tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}

// -----

func.func @negative_bias_without_epilogue(%a: tensor<4x8xf32>, %b: tensor<8x2xf32>, %bias: tensor<2xf32>, %c: tensor<4x2xf32>) -> tensor<4x2xf32> {
  // expected-error @below {{has a bias but epilogue 'gelu' does not add one}}
  %r = tp.gemm ins(%a, %b : tensor<4x8xf32>, tensor<8x2xf32>) bias(%bias : tensor<2xf32>) outs(%c : tensor<4x2xf32>) epilogue(gelu) beta(0.0) -> tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}

// -----

func.func @negative_epilogue_without_bias(%a: tensor<4x8xf32>, %b: tensor<8x2xf32>, %c: tensor<4x2xf32>) -> tensor<4x2xf32> {
  // expected-error @below {{epilogue 'bias_relu' needs a bias operand}}
  %r = tp.gemm ins(%a, %b : tensor<4x8xf32>, tensor<8x2xf32>) outs(%c : tensor<4x2xf32>) epilogue(bias_relu) beta(0.0) -> tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}

// -----

func.func @negative_bias_size(%a: tensor<4x8xf32>, %b: tensor<8x2xf32>, %bias: tensor<4xf32>, %c: tensor<4x2xf32>) -> tensor<4x2xf32> {
  // expected-error @below {{the bias size and the columns of C differ (4 vs 2)}}
  %r = tp.gemm ins(%a, %b : tensor<4x8xf32>, tensor<8x2xf32>) bias(%bias : tensor<4xf32>) outs(%c : tensor<4x2xf32>) epilogue(bias) beta(0.0) -> tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}

// -----

func.func @negative_batch_rank(%a: tensor<3x4x8xf32>, %b: tensor<8x2xf32>, %c: tensor<4x2xf32>) -> tensor<4x2xf32> {
  // expected-error @below {{C must be rank 3 exactly when A or B is}}
  %r = tp.gemm ins(%a, %b : tensor<3x4x8xf32>, tensor<8x2xf32>) outs(%c : tensor<4x2xf32>) epilogue(none) beta(0.0) -> tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}

// -----

func.func @negative_batch_size(%a: tensor<3x4x8xf32>, %b: tensor<8x2xf32>, %c: tensor<2x4x2xf32>) -> tensor<2x4x2xf32> {
  // expected-error @below {{the batch sizes of A and C differ (3 vs 2)}}
  %r = tp.gemm ins(%a, %b : tensor<3x4x8xf32>, tensor<8x2xf32>) outs(%c : tensor<2x4x2xf32>) epilogue(none) beta(0.0) -> tensor<2x4x2xf32>
  return %r : tensor<2x4x2xf32>
}

// -----

func.func @negative_mixed_kinds(%a: memref<4x8xf32>, %b: tensor<8x2xf32>, %c: tensor<4x2xf32>) -> tensor<4x2xf32> {
  // expected-error @below {{operands must be all tensors or all memrefs}}
  %r = tp.gemm ins(%a, %b : memref<4x8xf32>, tensor<8x2xf32>) outs(%c : tensor<4x2xf32>) epilogue(none) beta(0.0) -> tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}

// -----

func.func @negative_memref_result(%a: memref<4x8xf32>, %b: memref<8x2xf32>, %c: memref<4x2xf32>) {
  // expected-error @below {{on memrefs has no result}}
  %r = tp.gemm ins(%a, %b : memref<4x8xf32>, memref<8x2xf32>) outs(%c : memref<4x2xf32>) epilogue(none) beta(0.0) -> tensor<4x2xf32>
  return
}
