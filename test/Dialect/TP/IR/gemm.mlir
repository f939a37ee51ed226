// RUN: tp-opt %s | tp-opt | FileCheck %s
// RUN: tp-opt %s --one-shot-bufferize="bufferize-function-boundaries" | FileCheck %s --check-prefix=BUF

// CHECK-LABEL: func @gemm_forms
// CHECK: tp.gemm ins(%arg0, %arg1 : tensor<64x768xf32>, tensor<3072x768xf32>) bias(%arg2 : tensor<3072xf32>) outs(%{{.*}} : tensor<64x3072xf32>) trans_b epilogue(bias_gelu) beta(0.000000e+00) -> tensor<64x3072xf32>
// CHECK: tp.gemm ins(%{{.*}}, %{{.*}} : tensor<12x16x8xbf16>, tensor<12x16x8xbf16>) outs(%{{.*}} : tensor<12x16x16xbf16>) trans_b epilogue(none) beta(1.000000e+00) -> tensor<12x16x16xbf16>
// CHECK: tp.gemm ins(%{{.*}}, %{{.*}} : memref<8x4xf16>, memref<2x8x4xf16>) outs(%{{.*}} : memref<2x4x4xf16>) trans_a epilogue(relu) beta(0.000000e+00)
func.func @gemm_forms(%x: tensor<64x768xf32>, %w: tensor<3072x768xf32>, %b: tensor<3072xf32>,
                      %q: tensor<12x16x8xbf16>, %k: tensor<12x16x8xbf16>, %s: tensor<12x16x16xbf16>,
                      %ma: memref<8x4xf16>, %mb: memref<2x8x4xf16>, %mc: memref<2x4x4xf16>) -> (tensor<64x3072xf32>, tensor<12x16x16xbf16>) {
  %e = tensor.empty() : tensor<64x3072xf32>
  %y = tp.gemm ins(%x, %w : tensor<64x768xf32>, tensor<3072x768xf32>) bias(%b : tensor<3072xf32>) outs(%e : tensor<64x3072xf32>) trans_b epilogue(bias_gelu) beta(0.0) -> tensor<64x3072xf32>
  %z = tp.gemm ins(%q, %k : tensor<12x16x8xbf16>, tensor<12x16x8xbf16>) outs(%s : tensor<12x16x16xbf16>) trans_b epilogue(none) beta(1.0) -> tensor<12x16x16xbf16>
  tp.gemm ins(%ma, %mb : memref<8x4xf16>, memref<2x8x4xf16>) outs(%mc : memref<2x4x4xf16>) trans_a epilogue(relu) beta(0.0)
  return %y, %z : tensor<64x3072xf32>, tensor<12x16x16xbf16>
}

// Bufferized in place into its init; the operands are read where they are.
// BUF-LABEL: func @gemm_bufferizes_in_place
// BUF-SAME: (%[[A:.*]]: memref<4x8xf32{{.*}}>, %[[B:.*]]: memref<8x2xf32{{.*}}>, %[[C:.*]]: memref<4x2xf32{{.*}}>)
// BUF: tp.gemm ins(%[[A]], %[[B]] : {{.*}}) outs(%[[C]] : {{.*}}) epilogue(none) beta(1.000000e+00)
// BUF-NEXT: return %[[C]]
func.func @gemm_bufferizes_in_place(%a: tensor<4x8xf32>, %b: tensor<8x2xf32>, %c: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %r = tp.gemm ins(%a, %b : tensor<4x8xf32>, tensor<8x2xf32>) outs(%c : tensor<4x2xf32>) epilogue(none) beta(1.0) -> tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}
