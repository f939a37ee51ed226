// RUN: tp-opt %s --tp-form-gemms --split-input-file --verify-diagnostics | FileCheck %s

// The erf form of GELU is not the tanh form cuBLASLt computes: the GEMM
// keeps its bias, the GELU stays a kernel.
// CHECK-LABEL: func @negative_erf_gelu_not_folded
// CHECK: %[[Y:.*]] = tp.gemm {{.*}} bias(%arg2 : tensor<32xf32>) {{.*}} epilogue(bias)
// CHECK: linalg.generic {{.*}} ins(%[[Y]] : tensor<8x32xf32>)
// CHECK: math.erf
func.func @negative_erf_gelu_not_folded(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %b: tensor<32xf32>) -> tensor<8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %half = arith.constant 0.5 : f32
  %one = arith.constant 1.0 : f32
  %rsqrt2 = arith.constant 0.707106769 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %mm = linalg.matmul ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%f : tensor<8x32xf32>) -> tensor<8x32xf32>
  %h = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %b : tensor<8x32xf32>, tensor<32xf32>) outs(%e : tensor<8x32xf32>) {
  ^bb0(%a: f32, %bias: f32, %out: f32):
    %v = arith.addf %a, %bias : f32
    linalg.yield %v : f32
  } -> tensor<8x32xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%h : tensor<8x32xf32>) outs(%e : tensor<8x32xf32>) {
  ^bb0(%v: f32, %out: f32):
    %s = arith.mulf %v, %rsqrt2 : f32
    %t = math.erf %s : f32
    %u = arith.addf %t, %one : f32
    %w2 = arith.mulf %v, %half : f32
    %r = arith.mulf %w2, %u : f32
    linalg.yield %r : f32
  } -> tensor<8x32xf32>
  return %g : tensor<8x32xf32>
}

// -----

// The erf form in bf16 (1/sqrt(2) rounded to bf16): GELU's constants are
// compared in the body's type, but erf is no tanh with other constants.
// CHECK-LABEL: func @negative_erf_gelu_bf16_not_folded
// CHECK: %[[Y:.*]] = tp.gemm {{.*}} epilogue(none)
// CHECK: linalg.generic {{.*}} ins(%[[Y]], %arg2 : tensor<8x32xbf16>, tensor<32xbf16>)
// CHECK: math.erf
func.func @negative_erf_gelu_bf16_not_folded(%x: tensor<8x16xbf16>, %w: tensor<16x32xbf16>, %b: tensor<32xbf16>) -> tensor<8x32xbf16> {
  %zero = arith.constant 0.0 : bf16
  %half = arith.constant 0.5 : bf16
  %one = arith.constant 1.0 : bf16
  %rsqrt2 = arith.constant 0.707106769 : bf16
  %e = tensor.empty() : tensor<8x32xbf16>
  %f = linalg.fill ins(%zero : bf16) outs(%e : tensor<8x32xbf16>) -> tensor<8x32xbf16>
  %mm = linalg.matmul ins(%x, %w : tensor<8x16xbf16>, tensor<16x32xbf16>) outs(%f : tensor<8x32xbf16>) -> tensor<8x32xbf16>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %b : tensor<8x32xbf16>, tensor<32xbf16>) outs(%e : tensor<8x32xbf16>) {
  ^bb0(%a: bf16, %bias: bf16, %out: bf16):
    %v = arith.addf %a, %bias : bf16
    %s = arith.mulf %v, %rsqrt2 : bf16
    %t = math.erf %s : bf16
    %u = arith.addf %t, %one : bf16
    %w2 = arith.mulf %v, %half : bf16
    %r = arith.mulf %w2, %u : bf16
    linalg.yield %r : bf16
  } -> tensor<8x32xbf16>
  return %g : tensor<8x32xbf16>
}

// -----

// tanh-GELU in f32 with bf16's constants is no f32 tanh-GELU: f32 bodies are
// held to f32's precision.
// CHECK-LABEL: func @negative_f32_gelu_with_bf16_constants
// CHECK: tp.gemm {{.*}} epilogue(none)
// CHECK: math.tanh
func.func @negative_f32_gelu_with_bf16_constants(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>) -> tensor<8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %half = arith.constant 5.000000e-01 : f32
  %one = arith.constant 1.000000e+00 : f32
  %c0 = arith.constant 0.044677734375 : f32
  %c1 = arith.constant 0.796875 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %mm = linalg.matmul ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%f : tensor<8x32xf32>) -> tensor<8x32xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%mm : tensor<8x32xf32>) outs(%e : tensor<8x32xf32>) {
  ^bb0(%v: f32, %out: f32):
    %v2 = arith.mulf %v, %v : f32
    %v3 = arith.mulf %v2, %v : f32
    %t0 = arith.mulf %v3, %c0 : f32
    %t1 = arith.addf %v, %t0 : f32
    %t2 = arith.mulf %t1, %c1 : f32
    %t3 = math.tanh %t2 : f32
    %t4 = arith.addf %t3, %one : f32
    %t5 = arith.mulf %v, %half : f32
    %r = arith.mulf %t5, %t4 : f32
    linalg.yield %r : f32
  } -> tensor<8x32xf32>
  return %g : tensor<8x32xf32>
}

// -----

// A bias indexed by the row is not a cuBLASLt bias.
// CHECK-LABEL: func @negative_bias_along_rows
// CHECK: %[[Y:.*]] = tp.gemm {{.*}} epilogue(none)
// CHECK: linalg.generic {{.*}} ins(%[[Y]], %arg2 : tensor<8x32xf32>, tensor<8xf32>)
func.func @negative_bias_along_rows(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %b: tensor<8xf32>) -> tensor<8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %mm = linalg.matmul ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%f : tensor<8x32xf32>) -> tensor<8x32xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %b : tensor<8x32xf32>, tensor<8xf32>) outs(%e : tensor<8x32xf32>) {
  ^bb0(%a: f32, %bias: f32, %out: f32):
    %v = arith.addf %a, %bias : f32
    linalg.yield %v : f32
  } -> tensor<8x32xf32>
  return %g : tensor<8x32xf32>
}

// -----

// The product is also returned: the epilogue cannot replace it.
// CHECK-LABEL: func @negative_product_used_twice
// CHECK: %[[Y:.*]] = tp.gemm {{.*}} epilogue(none)
// CHECK: linalg.generic
// CHECK: return %[[Y]],
func.func @negative_product_used_twice(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %b: tensor<32xf32>) -> (tensor<8x32xf32>, tensor<8x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %mm = linalg.matmul ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%f : tensor<8x32xf32>) -> tensor<8x32xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %b : tensor<8x32xf32>, tensor<32xf32>) outs(%e : tensor<8x32xf32>) {
  ^bb0(%a: f32, %bias: f32, %out: f32):
    %v = arith.addf %a, %bias : f32
    linalg.yield %v : f32
  } -> tensor<8x32xf32>
  return %mm, %g : tensor<8x32xf32>, tensor<8x32xf32>
}

// -----

// An activation applies to A B + bias only, not to an accumulated C.
// CHECK-LABEL: func @negative_accumulate_with_relu
// CHECK: tp.gemm {{.*}} outs(%arg2 : tensor<8x32xf32>) epilogue(none) beta(1.000000e+00)
// CHECK: arith.maximumf
func.func @negative_accumulate_with_relu(%x: tensor<8x16xf32>, %w: tensor<16x32xf32>, %c: tensor<8x32xf32>) -> tensor<8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %mm = linalg.matmul ins(%x, %w : tensor<8x16xf32>, tensor<16x32xf32>) outs(%c : tensor<8x32xf32>) -> tensor<8x32xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%mm : tensor<8x32xf32>) outs(%e : tensor<8x32xf32>) {
  ^bb0(%a: f32, %out: f32):
    %r = arith.maximumf %a, %zero : f32
    linalg.yield %r : f32
  } -> tensor<8x32xf32>
  return %g : tensor<8x32xf32>
}

// -----

// Contractions tp_rt_gemm cannot take stay linalg (a kernel), with a remark.
// CHECK-LABEL: func @negative_f64
// CHECK: linalg.matmul
func.func @negative_f64(%a: tensor<4x8xf64>, %b: tensor<8x2xf64>, %c: tensor<4x2xf64>) -> tensor<4x2xf64> {
  // expected-remark @below {{contraction stays a generated GPU kernel: element type 'f64' (tp_rt_gemm supports f32, f16 and bf16)}}
  %r = linalg.matmul ins(%a, %b : tensor<4x8xf64>, tensor<8x2xf64>) outs(%c : tensor<4x2xf64>) -> tensor<4x2xf64>
  return %r : tensor<4x2xf64>
}

// -----

// CHECK-LABEL: func @negative_mixed_types
// CHECK: linalg.matmul
func.func @negative_mixed_types(%a: tensor<4x8xbf16>, %b: tensor<8x2xbf16>, %c: tensor<4x2xf32>) -> tensor<4x2xf32> {
  // expected-remark @below {{contraction stays a generated GPU kernel: operands have different element types (tp_rt_gemm takes one element type)}}
  %r = linalg.matmul ins(%a, %b : tensor<4x8xbf16>, tensor<8x2xbf16>) outs(%c : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}

// -----

// CHECK-LABEL: func @negative_transposed_output
// CHECK: linalg.generic
func.func @negative_transposed_output(%a: tensor<4x8xf32>, %b: tensor<8x2xf32>, %c: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-remark @below {{contraction stays a generated GPU kernel: the output is not indexed ([batch], m, n)}}
  %r = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (n, m)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<4x8xf32>, tensor<8x2xf32>) outs(%c : tensor<2x4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func @negative_matvec
// CHECK: linalg.matvec
func.func @negative_matvec(%a: tensor<4x8xf32>, %x: tensor<8xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  // expected-remark @below {{contraction stays a generated GPU kernel: it has no m, n or k loop (a matrix-vector product)}}
  %r = linalg.matvec ins(%a, %x : tensor<4x8xf32>, tensor<8xf32>) outs(%y : tensor<4xf32>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// CHECK-LABEL: func @negative_dynamic
// CHECK: linalg.matmul
func.func @negative_dynamic(%a: tensor<?x8xf32>, %b: tensor<8x2xf32>, %c: tensor<?x2xf32>) -> tensor<?x2xf32> {
  // expected-remark @below {{contraction stays a generated GPU kernel: dynamic shapes}}
  %r = linalg.matmul ins(%a, %b : tensor<?x8xf32>, tensor<8x2xf32>) outs(%c : tensor<?x2xf32>) -> tensor<?x2xf32>
  return %r : tensor<?x2xf32>
}
