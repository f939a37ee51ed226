// RUN: tp-opt %s --tp-form-gemms="target=cpu" --split-input-file --verify-diagnostics | FileCheck %s

// The CPU pipeline's wording: a contraction tp_rt_gemm cannot take stays
// loops.

func.func @negative_f64_matmul_stays_loops(%a: tensor<4x8xf64>, %b: tensor<8x4xf64>,
                                           %c: tensor<4x4xf64>) -> tensor<4x4xf64> {
  // expected-remark @below {{contraction stays generated CPU loops: element type 'f64' (tp_rt_gemm supports f32, f16 and bf16)}}
  %0 = linalg.matmul ins(%a, %b : tensor<4x8xf64>, tensor<8x4xf64>)
      outs(%c : tensor<4x4xf64>) -> tensor<4x4xf64>
  return %0 : tensor<4x4xf64>
}

// -----

// CHECK-LABEL: func.func @f32_matmul_is_gemm(
// CHECK: tp.gemm
// CHECK-NOT: linalg.matmul
func.func @f32_matmul_is_gemm(%a: tensor<4x8xf32>, %b: tensor<8x4xf32>,
                              %c: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x4xf32>)
      outs(%c : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}
