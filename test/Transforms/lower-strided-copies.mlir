// tp-lower-strided-copies: a memref.copy with a strided side becomes a
// linalg.copy (loops later, no runtime library call); a copy between
// contiguous buffers stays a memref.copy (a memcpy).
//
// RUN: tp-opt %s --tp-lower-strided-copies | FileCheck %s

// CHECK-LABEL: func.func @strided_source
// CHECK: %[[SUB:.*]] = memref.subview
// CHECK-NOT: memref.copy
// CHECK: linalg.copy ins(%[[SUB]] : memref<4x10xf32, strided<[12, 1]>>) outs(%{{.*}} : memref<4x10xf32>)
func.func @strided_source(%src: memref<4x12xf32>, %dst: memref<4x10xf32>) {
  %sub = memref.subview %src[0, 0] [4, 10] [1, 1] : memref<4x12xf32> to memref<4x10xf32, strided<[12, 1]>>
  memref.copy %sub, %dst : memref<4x10xf32, strided<[12, 1]>> to memref<4x10xf32>
  return
}

// CHECK-LABEL: func.func @strided_target
// CHECK: linalg.copy ins(%{{.*}} : memref<4x3xf32>) outs(%{{.*}} : memref<4x3xf32, strided<[12, 1], offset: 3>>)
func.func @strided_target(%src: memref<4x3xf32>, %dst: memref<4x12xf32>) {
  %sub = memref.subview %dst[0, 3] [4, 3] [1, 1] : memref<4x12xf32> to memref<4x3xf32, strided<[12, 1], offset: 3>>
  memref.copy %src, %sub : memref<4x3xf32> to memref<4x3xf32, strided<[12, 1], offset: 3>>
  return
}

// CHECK-LABEL: func.func @contiguous
// CHECK: memref.copy %{{.*}}, %{{.*}} : memref<2x3xf32, strided<[3, 1], offset: 6>> to memref<2x3xf32>
// CHECK-NOT: linalg.copy
func.func @contiguous(%src: memref<4x3xf32>, %dst: memref<2x3xf32>) {
  %sub = memref.subview %src[2, 0] [2, 3] [1, 1] : memref<4x3xf32> to memref<2x3xf32, strided<[3, 1], offset: 6>>
  memref.copy %sub, %dst : memref<2x3xf32, strided<[3, 1], offset: 6>> to memref<2x3xf32>
  return
}
