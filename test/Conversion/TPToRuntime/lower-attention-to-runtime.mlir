// RUN: tp-opt %s --tp-gpu-lower-attention-to-runtime --cse --split-input-file | FileCheck %s

// tp.attention on memrefs becomes one tp_rt_attention call: strides in
// elements (batch, row, column) per operand, K^T passed as K with its last
// two strides swapped, a shared mask with batch stride 0, no mask as null;
// `handled` is the call's status != 0.

// CHECK-LABEL: func.func @bf16_key_transposed_shared_mask
// CHECK-DAG: %[[BF16:.*]] = arith.constant 3 : i32
// CHECK-DAG: %[[N:.*]] = arith.constant 24 : i64
// CHECK-DAG: %[[S:.*]] = arith.constant 128 : i64
// CHECK-DAG: %[[D:.*]] = arith.constant 64 : i64
// CHECK-DAG: %[[SD:.*]] = arith.constant 8192 : i64
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1 : i64
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0 : i64
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 1.250000e-01 : f32
// CHECK-DAG: %[[CAUSAL:.*]] = arith.constant 1 : i32
// CHECK: %[[STATUS:.*]] = call @tp_rt_attention(%[[BF16]], %[[N]], %[[S]], %[[S]], %[[D]], %[[D]],
// CHECK-SAME: %{{[0-9]+}}, %[[SD]], %[[D]], %[[ONE]],
// CHECK-SAME: %{{[0-9]+}}, %[[SD]], %[[ONE]], %[[S]],
// CHECK-SAME: %{{[0-9]+}}, %[[SD]], %[[D]], %[[ONE]],
// CHECK-SAME: %{{[0-9]+}}, %[[ZERO]], %[[S]], %[[ONE]],
// CHECK-SAME: %{{[0-9]+}}, %[[SD]], %[[D]], %[[ONE]], %[[SCALE]], %[[CAUSAL]]) : ({{.*}}) -> i32
// CHECK: %[[OK:.*]] = arith.cmpi ne, %[[STATUS]], %{{.*}} : i32
// CHECK: return %[[OK]] : i1
// CHECK-NOT: tp.attention
func.func @bf16_key_transposed_shared_mask(%q: memref<24x128x64xbf16>,
    %kt: memref<24x64x128xbf16>, %v: memref<24x128x64xbf16>,
    %mask: memref<128x128xbf16>, %o: memref<24x128x64xbf16>) -> i1 {
  %ok = tp.attention ins(%q, %kt, %v : memref<24x128x64xbf16>, memref<24x64x128xbf16>, memref<24x128x64xbf16>)
      mask(%mask : memref<128x128xbf16>) outs(%o : memref<24x128x64xbf16>)
      scale(0.125) causal key_transposed -> i1
  return %ok : i1
}

// -----

// CHECK-LABEL: func.func @f32_no_mask
// CHECK: %[[NULL:.*]] = llvm.mlir.zero : !llvm.ptr
// CHECK: call @tp_rt_attention({{([%a-z0-9_]+, )+}}%[[NULL]], %[[Z:[a-z0-9_]+]], %[[Z]], %[[Z]],
func.func @f32_no_mask(%q: memref<8x16x8xf32>, %k: memref<8x16x8xf32>,
    %v: memref<8x16x8xf32>, %o: memref<8x16x8xf32>) -> i1 {
  %ok = tp.attention ins(%q, %k, %v : memref<8x16x8xf32>, memref<8x16x8xf32>, memref<8x16x8xf32>)
      outs(%o : memref<8x16x8xf32>) scale(1.0) -> i1
  return %ok : i1
}
