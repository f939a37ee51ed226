// RUN: tp-opt %s --tp-gpu-async-chain | FileCheck %s

// One token (one stream) per function; every GPU op waits for the previous
// one; runtime calls (same stream) need no synchronization; one wait at the
// end.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @scale(%a: memref<256xf32>) kernel {
      gpu.return
    }
  }
  func.func private @tp_rt_all_reduce(!llvm.ptr, !llvm.ptr, i64, i32, i32)

  // CHECK-LABEL: func @chain
  // CHECK: %[[T0:.*]] = gpu.wait async
  // CHECK: %[[M:.*]], %[[T1:.*]] = gpu.alloc async [%[[T0]]] () : memref<256xf32>
  // CHECK-NEXT: %[[T2:.*]] = gpu.memcpy async [%[[T1]]] %[[M]], %arg0
  // CHECK-NEXT: %[[T3:.*]] = gpu.launch_func async [%[[T2]]] @kernels::@scale
  // CHECK-NEXT: call @tp_rt_all_reduce
  // CHECK-NEXT: scf.if
  // CHECK-NEXT: gpu.dealloc async [%[[T3]]] %arg0
  // CHECK: %[[T4:.*]] = gpu.launch_func async [%[[T3]]] @kernels::@scale
  // CHECK-NEXT: gpu.wait [%[[T4]]]
  // CHECK-NEXT: return %[[M]]
  // CHECK-NOT: gpu.wait async
  func.func @chain(%a: memref<256xf32>, %p: !llvm.ptr, %cond: i1) -> memref<256xf32> {
    %c1 = arith.constant 1 : index
    %c256 = arith.constant 256 : index
    %n = arith.constant 256 : i64
    %z = arith.constant 0 : i32
    %m = gpu.alloc () : memref<256xf32>
    gpu.memcpy %m, %a : memref<256xf32>, memref<256xf32>
    gpu.launch_func @kernels::@scale blocks in (%c1, %c1, %c1) threads in (%c256, %c1, %c1) args(%m : memref<256xf32>)
    func.call @tp_rt_all_reduce(%p, %p, %n, %z, %z) : (!llvm.ptr, !llvm.ptr, i64, i32, i32) -> ()
    scf.if %cond {
      gpu.dealloc %a : memref<256xf32>
    }
    gpu.launch_func @kernels::@scale blocks in (%c1, %c1, %c1) threads in (%c256, %c1, %c1) args(%m : memref<256xf32>)
    return %m : memref<256xf32>
  }

  // CHECK-LABEL: func @host_only
  // CHECK-NOT: gpu.wait
  func.func @host_only(%x: i32) -> i32 {
    return %x : i32
  }
}
