// RUN: tp-opt %s --tp-gpu-tile-parallel-loops --split-input-file --verify-diagnostics | FileCheck %s
// RUN: tp-opt %s --tp-gpu-tile-parallel-loops --gpu-map-parallel-loops --convert-parallel-loops-to-gpu --canonicalize --split-input-file --verify-diagnostics | FileCheck %s --check-prefix=LAUNCH

// A 2-D loop is collapsed (the innermost dimension varies fastest between
// threads) and cut into blocks of 256 threads, the last block guarded.
// CHECK-LABEL: func @elementwise_2d
// CHECK: arith.muli
// CHECK: %[[N:.*]] = arith.muli
// CHECK: arith.constant 256 : index
// CHECK: scf.parallel (%{{.*}}) = (%{{.*}}) to (%[[N]]) step (%[[STEP:.*]])
// CHECK:   scf.parallel (%{{.*}}) = (%{{.*}}) to (%[[STEP]]) step
// CHECK:     arith.cmpi ult, %{{.*}}, %[[N]]
// CHECK:     scf.if
// CHECK:       arith.remsi
// CHECK:       arith.divsi
// LAUNCH-LABEL: func @elementwise_2d
// LAUNCH-DAG: %[[C1:.*]] = arith.constant 1 : index
// LAUNCH-DAG: %[[C256:.*]] = arith.constant 256 : index
// LAUNCH-DAG: %[[C768:.*]] = arith.constant 768 : index
// LAUNCH: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C768]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]]) threads(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C256]], %{{.*}} = %[[C1]], %{{.*}} = %[[C1]])
func.func @elementwise_2d(%a: memref<64x3072xf32>, %b: memref<64x3072xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %c3072 = arith.constant 3072 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c64, %c3072) step (%c1, %c1) {
    %x = memref.load %a[%i, %j] : memref<64x3072xf32>
    %y = math.tanh %x : f32
    memref.store %y, %b[%i, %j] : memref<64x3072xf32>
  }
  return
}

// -----

// Fewer iterations than a block: one block of exactly that many threads
// (never one thread per block). A nested parallel loop runs inside its
// thread.
// CHECK-LABEL: func @small_loop_with_nested_parallel
// CHECK: arith.constant 48 : index
// CHECK: scf.parallel
// CHECK:   scf.parallel
// CHECK:     scf.for
// CHECK-NOT: scf.parallel
// LAUNCH-LABEL: func @small_loop_with_nested_parallel
// LAUNCH-DAG: %[[C1:.*]] = arith.constant 1 : index
// LAUNCH-DAG: %[[C48:.*]] = arith.constant 48 : index
// LAUNCH: gpu.launch blocks({{.*}}) in ({{.*}} = %[[C1]], {{.*}} = %[[C1]], {{.*}} = %[[C1]]) threads({{.*}}) in ({{.*}} = %[[C48]], {{.*}} = %[[C1]], {{.*}} = %[[C1]])
func.func @small_loop_with_nested_parallel(%a: memref<6x8x16xf32>, %b: memref<6x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c6 = arith.constant 6 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c6, %c8) step (%c1, %c1) {
    scf.parallel (%k) = (%c0) to (%c16) step (%c1) {
      %x = memref.load %a[%i, %j, %k] : memref<6x8x16xf32>
      memref.store %x, %b[%i, %j] : memref<6x8xf32>
    }
  }
  return
}

// -----

func.func @negative_host_access(%a: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  // expected-error @below {{accesses device memory in host code; the GPU target runs such accesses inside kernels only}}
  %x = memref.load %a[%c0] : memref<4xf32>
  return %x : f32
}

// -----

func.func @negative_parallel_reduction(%a: memref<4xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  // expected-error @below {{has reductions, which the GPU target does not map to kernels}}
  %s = scf.parallel (%i) = (%c0) to (%c4) step (%c1) init (%zero) -> f32 {
    %x = memref.load %a[%i] : memref<4xf32>
    scf.reduce(%x : f32) {
    ^bb0(%l: f32, %r: f32):
      %t = arith.addf %l, %r : f32
      scf.reduce.return %t : f32
    }
  }
  return %s : f32
}
