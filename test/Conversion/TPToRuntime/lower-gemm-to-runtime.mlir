// RUN: tp-opt %s --tp-lower-gemm-to-runtime --split-input-file | FileCheck %s

// tp_rt_gemm(dtype, trans_a, trans_b, batch, m, n, k, a, lda, stride_a,
//            b, ldb, stride_b, c, ldc, stride_c, bias, epilogue, beta)

// CHECK-LABEL: func @row_major_bias_gelu
// CHECK-DAG: %[[F32:.*]] = arith.constant 0 : i32
// CHECK-DAG: %[[NT:.*]] = arith.constant 1 : i32
// CHECK-DAG: %[[BATCH:.*]] = arith.constant 1 : i64
// CHECK-DAG: %[[M:.*]] = arith.constant 64 : i64
// CHECK-DAG: %[[N:.*]] = arith.constant 3072 : i64
// CHECK-DAG: %[[K:.*]] = arith.constant 768 : i64
// CHECK-DAG: %[[S0:.*]] = arith.constant 0 : i64
// CHECK-DAG: %[[EPI:.*]] = arith.constant 3 : i32
// CHECK-DAG: %[[BETA:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[BIAS:.*]] = llvm.inttoptr
// CHECK: %[[A:.*]] = llvm.inttoptr
// CHECK: %[[B:.*]] = llvm.inttoptr
// CHECK: %[[C:.*]] = llvm.inttoptr
// CHECK: call @tp_rt_gemm(%[[F32]], %[[F32]], %[[NT]], %[[BATCH]], %[[M]], %[[N]], %[[K]], %[[A]], %[[K]], %[[S0]], %[[B]], %[[K]], %[[S0]], %[[C]], %[[N]], %[[S0]], %[[BIAS]], %[[EPI]], %[[BETA]])
// CHECK-NOT: tp.gemm
// CHECK-NOT: memref.alloc
func.func @row_major_bias_gelu(%x: memref<64x768xf32>, %w: memref<3072x768xf32>, %b: memref<3072xf32>, %y: memref<64x3072xf32>) {
  tp.gemm ins(%x, %w : memref<64x768xf32>, memref<3072x768xf32>) bias(%b : memref<3072xf32>) outs(%y : memref<64x3072xf32>) trans_b epilogue(bias_gelu) beta(0.0)
  return
}

// -----

// Batched bf16 with padded leading dimensions (views of larger buffers) and
// beta 1; no bias: a null pointer.
// CHECK-LABEL: func @batched_strided_views_bf16
// CHECK-DAG: %[[BF16:.*]] = arith.constant 3 : i32
// CHECK-DAG: %[[ZERO32:.*]] = arith.constant 0 : i32
// CHECK-DAG: %[[BATCH:.*]] = arith.constant 12 : i64
// CHECK-DAG: %[[M:.*]] = arith.constant 16 : i64
// CHECK-DAG: %[[K:.*]] = arith.constant 8 : i64
// CHECK-DAG: %[[LDA:.*]] = arith.constant 24 : i64
// CHECK-DAG: %[[SA:.*]] = arith.constant 384 : i64
// CHECK-DAG: %[[SB:.*]] = arith.constant 128 : i64
// CHECK-DAG: %[[SC:.*]] = arith.constant 256 : i64
// CHECK-DAG: %[[BETA:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK: call @tp_rt_gemm(%[[BF16]], %[[ZERO32]], %[[ZERO32]], %[[BATCH]], %[[M]], %[[M]], %[[K]], %{{.*}}, %[[LDA]], %[[SA]], %{{.*}}, %[[M]], %[[SB]], %{{.*}}, %[[M]], %[[SC]], %[[NULL]], %[[ZERO32]], %[[BETA]])
func.func @batched_strided_views_bf16(%a: memref<12x16x8xbf16, strided<[384, 24, 1], offset: 4>>, %b: memref<12x8x16xbf16>, %c: memref<12x16x16xbf16>) {
  tp.gemm ins(%a, %b : memref<12x16x8xbf16, strided<[384, 24, 1], offset: 4>>, memref<12x8x16xbf16>) outs(%c : memref<12x16x16xbf16>) epilogue(none) beta(1.0)
  return
}

// -----

// A column-major view (row stride 1) is the transpose of a row-major
// matrix: read in place with the trans flag flipped.
// CHECK-LABEL: func @column_major_view_flips_trans
// CHECK-DAG: %[[ZERO32:.*]] = arith.constant 0 : i32
// CHECK-DAG: %[[ONE32:.*]] = arith.constant 1 : i32
// CHECK-DAG: %[[LDB:.*]] = arith.constant 16 : i64
// CHECK: call @tp_rt_gemm(%[[ZERO32]], %[[ZERO32]], %[[ONE32]], {{.*}}, %[[LDB]], {{.*}})
// CHECK-NOT: memref.copy
func.func @column_major_view_flips_trans(%a: memref<4x16xf32>, %b: memref<16x8xf32, strided<[1, 16]>>, %c: memref<4x8xf32>) {
  tp.gemm ins(%a, %b : memref<4x16xf32>, memref<16x8xf32, strided<[1, 16]>>) outs(%c : memref<4x8xf32>) epilogue(none) beta(0.0)
  return
}

// -----

// Only a layout with no unit stride is copied into a contiguous temporary;
// a result that is not row-major is computed in one and copied back.
// CHECK-LABEL: func @non_unit_strides_copied
// CHECK: %[[TA:.*]] = memref.alloc() : memref<4x16xf32>
// CHECK: memref.copy %arg0, %[[TA]]
// CHECK: %[[TC:.*]] = memref.alloc() : memref<4x8xf32>
// CHECK-NOT: memref.copy %arg2
// CHECK: call @tp_rt_gemm
// CHECK: memref.copy %[[TC]], %arg2
// CHECK-DAG: memref.dealloc %[[TA]]
// CHECK-DAG: memref.dealloc %[[TC]]
func.func @non_unit_strides_copied(%a: memref<4x16xf32, strided<[64, 2]>>, %b: memref<16x8xf32>, %c: memref<4x8xf32, strided<[1, 4]>>) {
  tp.gemm ins(%a, %b : memref<4x16xf32, strided<[64, 2]>>, memref<16x8xf32>) outs(%c : memref<4x8xf32, strided<[1, 4]>>) epilogue(none) beta(0.0)
  return
}
