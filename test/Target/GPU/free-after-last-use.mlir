// RUN: tp-opt %s --tp-gpu-free-after-last-use --split-input-file | FileCheck %s
// RUN: tp-opt %s --tp-gpu-free-after-last-use --tp-gpu-async-chain --split-input-file | FileCheck %s --check-prefix=ASYNC

// Each temporary is freed right after the last launch that reads or writes
// it, not at the end of the function: %t after the second launch, %u after
// the third. With the async chain, each free waits on the token of that
// launch (the stream orders the free after the kernel, never before).
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @k(%a: memref<256xf32>, %b: memref<256xf32>) kernel {
      gpu.return
    }
  }
  // CHECK-LABEL: func @free_after_last_launch
  // CHECK: %[[T:.*]] = gpu.alloc () : memref<256xf32>
  // CHECK: gpu.launch_func @kernels::@k {{.*}} args(%arg0 : memref<256xf32>, %[[T]] : memref<256xf32>)
  // CHECK: %[[U:.*]] = gpu.alloc () : memref<256xf32>
  // CHECK: gpu.launch_func @kernels::@k {{.*}} args(%[[T]] : memref<256xf32>, %[[U]] : memref<256xf32>)
  // CHECK-NEXT: gpu.dealloc %[[T]]
  // CHECK: %[[V:.*]] = gpu.alloc () : memref<256xf32>
  // CHECK: gpu.launch_func @kernels::@k {{.*}} args(%[[U]] : memref<256xf32>, %[[V]] : memref<256xf32>)
  // CHECK-NEXT: gpu.dealloc %[[U]]
  // CHECK: gpu.launch_func @kernels::@k {{.*}} args(%[[V]] : memref<256xf32>, %arg1 : memref<256xf32>)
  // CHECK-NEXT: gpu.dealloc %[[V]]
  // CHECK-NEXT: return

  // ASYNC-LABEL: func @free_after_last_launch
  // ASYNC: gpu.launch_func async
  // ASYNC: %[[L1:.*]] = gpu.launch_func async
  // ASYNC-NEXT: gpu.dealloc async [%[[L1]]]
  // ASYNC: %[[L2:.*]] = gpu.launch_func async
  // ASYNC-NEXT: gpu.dealloc async [%[[L2]]]
  // ASYNC: %[[L3:.*]] = gpu.launch_func async
  // ASYNC-NEXT: %[[D:.*]] = gpu.dealloc async [%[[L3]]]
  // ASYNC-NEXT: gpu.wait [%[[D]]]
  func.func @free_after_last_launch(%in: memref<256xf32>, %out: memref<256xf32>) {
    %c1 = arith.constant 1 : index
    %t = gpu.alloc () : memref<256xf32>
    gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%in : memref<256xf32>, %t : memref<256xf32>)
    %u = gpu.alloc () : memref<256xf32>
    gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%t : memref<256xf32>, %u : memref<256xf32>)
    %v = gpu.alloc () : memref<256xf32>
    gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%u : memref<256xf32>, %v : memref<256xf32>)
    gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%v : memref<256xf32>, %out : memref<256xf32>)
    gpu.dealloc %t : memref<256xf32>
    gpu.dealloc %u : memref<256xf32>
    gpu.dealloc %v : memref<256xf32>
    return
  }
}

// -----

// A use through a view and a pointer: the GEMM call that receives the
// pointer of a reshaped view is the buffer's last use.
module attributes {gpu.container_module} {
  func.func private @tp_rt_gemm(!llvm.ptr, !llvm.ptr)
  // CHECK-LABEL: func @free_after_runtime_call_through_view
  // CHECK: %[[T:.*]] = gpu.alloc () : memref<4x64xf32>
  // CHECK: memref.collapse_shape %[[T]]
  // CHECK: call @tp_rt_gemm
  // CHECK-NEXT: gpu.dealloc %[[T]]
  // CHECK-NEXT: call @tp_rt_gemm
  // CHECK-NEXT: return
  func.func @free_after_runtime_call_through_view(%p: !llvm.ptr) {
    %t = gpu.alloc () : memref<4x64xf32>
    %v = memref.collapse_shape %t [[0, 1]] : memref<4x64xf32> into memref<256xf32>
    %i = memref.extract_aligned_pointer_as_index %v : memref<256xf32> -> index
    %n = arith.index_cast %i : index to i64
    %q = llvm.inttoptr %n : i64 to !llvm.ptr
    func.call @tp_rt_gemm(%q, %p) : (!llvm.ptr, !llvm.ptr) -> ()
    func.call @tp_rt_gemm(%p, %p) : (!llvm.ptr, !llvm.ptr) -> ()
    gpu.dealloc %t : memref<4x64xf32>
    return
  }
}

// -----

// A use inside host control flow is a use by the op that holds it.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @k(%a: memref<256xf32>) kernel {
      gpu.return
    }
  }
  // CHECK-LABEL: func @free_after_region
  // CHECK: scf.if
  // CHECK: gpu.launch_func
  // CHECK: }
  // CHECK-NEXT: gpu.dealloc
  // CHECK-NEXT: gpu.launch_func @kernels::@k {{.*}} args(%arg0
  func.func @free_after_region(%in: memref<256xf32>, %cond: i1) {
    %c1 = arith.constant 1 : index
    %t = gpu.alloc () : memref<256xf32>
    scf.if %cond {
      gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%t : memref<256xf32>)
    }
    gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%in : memref<256xf32>)
    gpu.dealloc %t : memref<256xf32>
    return
  }
}

// -----

// What stays: the free of an argument, and of a buffer whose view is
// returned (none is emitted for it, so nothing moves), and of a buffer
// allocated outside the block of its free.
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @k(%a: memref<256xf32>) kernel {
      gpu.return
    }
  }
  // CHECK-LABEL: func @negative_argument_and_outer_buffer
  // CHECK: %[[T:.*]] = gpu.alloc
  // CHECK: scf.if
  // CHECK-NEXT: gpu.launch_func
  // CHECK-NEXT: gpu.launch_func
  // CHECK-NEXT: gpu.dealloc %[[T]]
  // CHECK: gpu.launch_func
  // CHECK-NEXT: gpu.dealloc %arg0
  // CHECK-NEXT: return
  func.func @negative_argument_and_outer_buffer(%in: memref<256xf32>, %cond: i1) {
    %c1 = arith.constant 1 : index
    %t = gpu.alloc () : memref<256xf32>
    scf.if %cond {
      gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%t : memref<256xf32>)
      gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%in : memref<256xf32>)
      gpu.dealloc %t : memref<256xf32>
    }
    gpu.launch_func @kernels::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%in : memref<256xf32>)
    gpu.dealloc %in : memref<256xf32>
    return
  }
}
