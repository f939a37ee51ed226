// RUN: tp-opt %s --tp-lower-to-runtime --split-input-file | FileCheck %s

// tp_rt_all_reduce(src, dst, count, dtype, op) and
// tp_rt_all_gather / tp_rt_reduce_scatter(src, dst, outer, chunk, dtype[, op]):
// a contiguous buffer is passed in place, at its aligned pointer plus its
// offset in bytes (offset times the element's size).

// CHECK-LABEL: func.func @f64_views_in_place
// CHECK-DAG: %[[STATIC:.*]] = arith.constant 24 : index
// CHECK-DAG: %[[F64:.*]] = arith.constant 1 : i32
// CHECK-DAG: %[[COUNT:.*]] = arith.constant 32 : i64
// CHECK-DAG: %[[BYTES:.*]] = arith.constant 8 : index
// CHECK: %[[SRC:.*]] = memref.extract_aligned_pointer_as_index %arg0
// CHECK: arith.addi %[[SRC]], %[[STATIC]] : index
// CHECK: %{{.*}}, %[[OFFSET:.*]], %{{.*}}:2, %{{.*}}:2 = memref.extract_strided_metadata %arg1
// CHECK: arith.muli %[[OFFSET]], %[[BYTES]] : index
// CHECK: call @tp_rt_all_reduce(%{{.*}}, %{{.*}}, %[[COUNT]], %[[F64]], %[[F64]])
// CHECK-NOT: memref.alloc
func.func @f64_views_in_place(%in: memref<4x8xf64, strided<[8, 1], offset: 3>>,
    %out: memref<4x8xf64, strided<[8, 1], offset: ?>>) {
  tp.buffer.all_reduce max %in, %out over 2 : memref<4x8xf64, strided<[8, 1], offset: 3>>, memref<4x8xf64, strided<[8, 1], offset: ?>>
  return
}

// -----

// CHECK-LABEL: func.func @bf16_view_in_place
// CHECK-DAG: %[[BF16:.*]] = arith.constant 3 : i32
// CHECK-DAG: %[[BYTES:.*]] = arith.constant 2 : index
// CHECK: %{{.*}}, %[[OFFSET:.*]], %{{.*}}, %{{.*}} = memref.extract_strided_metadata %arg0
// CHECK: arith.muli %[[OFFSET]], %[[BYTES]] : index
// CHECK: call @tp_rt_all_reduce(%{{.*}}, %{{.*}}, %{{.*}}, %[[BF16]], %{{.*}})
func.func @bf16_view_in_place(%buf: memref<8xbf16, strided<[1], offset: ?>>) {
  tp.buffer.all_reduce sum %buf, %buf over 2 : memref<8xbf16, strided<[1], offset: ?>>, memref<8xbf16, strided<[1], offset: ?>>
  return
}

// -----

// A strided buffer goes through a contiguous temporary of its (dynamic)
// shape: the input copied in before the call, the output copied out after
// it; both freed.
// CHECK-LABEL: func.func @strided_gather_through_temporaries
// CHECK: %[[IN_DIM:.*]] = memref.dim %arg0
// CHECK: %[[IN:.*]] = memref.alloc(%[[IN_DIM]]) : memref<4x?xi32>
// CHECK: linalg.copy ins(%arg0 : {{.*}}) outs(%[[IN]] : memref<4x?xi32>)
// CHECK: %[[OUT_DIM:.*]] = memref.dim %arg1
// CHECK: %[[OUT:.*]] = memref.alloc(%[[OUT_DIM]]) : memref<4x?xi32>
// CHECK-NOT: linalg.copy
// CHECK: call @tp_rt_all_gather
// CHECK: linalg.copy ins(%[[OUT]] : memref<4x?xi32>) outs(%arg1 : {{.*}})
// CHECK-DAG: memref.dealloc %[[IN]]
// CHECK-DAG: memref.dealloc %[[OUT]]
func.func @strided_gather_through_temporaries(%in: memref<4x?xi32, strided<[?, 2]>>,
    %out: memref<4x?xi32, strided<[?, 2]>>) {
  tp.buffer.all_gather %in, %out dim 1 over 2 : memref<4x?xi32, strided<[?, 2]>>, memref<4x?xi32, strided<[?, 2]>>
  return
}
