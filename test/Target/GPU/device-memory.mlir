// RUN: tp-opt %s --tp-gpu-device-memory --split-input-file | FileCheck %s

// Host-level buffers live in device memory.
// CHECK-LABEL: func @allocations_and_copies
// CHECK: %[[T:.*]] = gpu.alloc () : memref<4x8xf32>
// CHECK: gpu.memcpy %[[T]], %arg0 : memref<4x8xf32>, memref<4x8xf32>
// CHECK: %[[V:.*]] = memref.subview
// CHECK: linalg.copy ins(%[[V]] : {{.*}}) outs(%arg1 : memref<2x8xf32>)
// CHECK: gpu.dealloc %[[T]] : memref<4x8xf32>
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.copy
// CHECK-NOT: memref.dealloc
func.func @allocations_and_copies(%a: memref<4x8xf32>, %b: memref<2x8xf32>) {
  %t = memref.alloc() : memref<4x8xf32>
  memref.copy %a, %t : memref<4x8xf32> to memref<4x8xf32>
  %v = memref.subview %t[1, 0] [2, 8] [1, 1] : memref<4x8xf32> to memref<2x8xf32, strided<[8, 1], offset: 8>>
  memref.copy %v, %b : memref<2x8xf32, strided<[8, 1], offset: 8>> to memref<2x8xf32>
  memref.dealloc %t : memref<4x8xf32>
  return
}

// -----

// A constant is copied into device memory, and freed unless returned.
memref.global "private" constant @cst : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
// CHECK-LABEL: func @constant_to_device
// CHECK: %[[G:.*]] = memref.get_global @cst : memref<4xf32>
// CHECK: %[[D:.*]] = gpu.alloc () : memref<4xf32>
// CHECK: gpu.memcpy %[[D]], %[[G]]
// CHECK: linalg.copy ins(%[[D]]
// CHECK: gpu.dealloc %[[D]]
// CHECK-NEXT: return
func.func @constant_to_device(%out: memref<4xf32>) {
  %g = memref.get_global @cst : memref<4xf32>
  linalg.copy ins(%g : memref<4xf32>) outs(%out : memref<4xf32>)
  return
}
// CHECK-LABEL: func @returned_constant_not_freed
// CHECK: %[[D:.*]] = gpu.alloc () : memref<4xf32>
// CHECK-NOT: gpu.dealloc
// CHECK: return %[[D]]
func.func @returned_constant_not_freed() -> memref<4xf32> {
  %g = memref.get_global @cst : memref<4xf32>
  return %g : memref<4xf32>
}

// -----

// A linalg op without parallel loops runs as a one-iteration parallel loop
// (a one-thread kernel), never on the host.
// CHECK-LABEL: func @full_reduction_on_device
// CHECK: scf.parallel (%{{.*}}) = (%c0) to (%c1) step (%c1)
// CHECK-NEXT: linalg.generic {{.*}}iterator_types = ["reduction"]
func.func @full_reduction_on_device(%a: memref<128xf32>, %s: memref<f32>) {
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
      ins(%a : memref<128xf32>) outs(%s : memref<f32>) {
  ^bb0(%x: f32, %acc: f32):
    %r = arith.addf %x, %acc : f32
    linalg.yield %r : f32
  }
  return
}
