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
