// tp-gpu-pipeline on the GPT-2 MLP at tp 2 (examples/gpt2-mlp.mlir):
//  - both local GEMMs are tp_rt_gemm calls (cuBLASLt); the column layer's
//    bias + tanh GELU is its epilogue (3), the row layer has none (0) and no
//    bias: its bias is added once, after the all-reduce;
//  - the all-reduce is a tp_rt_all_reduce call (NCCL on the GPU runtime);
//  - temporaries are gpu.alloc (device memory); the hidden activation is
//    freed right after the row GEMM, its last use, in stream order after it
//    and before the all-reduce's buffer is allocated;
//  - the one remaining elementwise op (the row bias, 64 x 768 f32) is a
//    kernel of 4 elements per thread (16-byte vectors), in 48 blocks of 256
//    threads;
//  - every GPU op hangs on one async token chain from one gpu.wait async (one
//    stream), and the function ends with one wait;
//  - in the final LLVM-dialect module no linalg is left, one stream is
//    created per call, the launch uses it, and the kernels are one sm_90
//    binary.
//
// REQUIRES: cuda
// RUN: tp-opt %tp_src_root/examples/gpt2-mlp.mlir --tp-partition-pipeline="tp-size=2" --tp-gpu-pipeline="tp-size=2" --mlir-print-ir-after=tp-gpu-async-chain -o %t.mlir 2>&1 | FileCheck %s --check-prefix=CHAIN
// RUN: FileCheck %s --check-prefix=FINAL --implicit-check-not=linalg. < %t.mlir
// RUN: grep -c "llvm.call @mgpuStreamCreate" %t.mlir | FileCheck %s --check-prefix=ONE
// RUN: grep -c "llvm.call @tp_rt_gemm" %t.mlir | FileCheck %s --check-prefix=TWO

// CHAIN-LABEL: func.func @mlp(
// CHAIN-SAME: memref<1536x768xf32> {tp.global_type = tensor<3072x768xf32>, tp.sharding = #tp.sharding<split 0>}
// CHAIN: %[[T0:.*]] = gpu.wait async
// CHAIN: %[[H:.*]], %[[T1:.*]] = gpu.alloc async [%[[T0]]] () : memref<64x1536xf32>
// CHAIN: call @tp_rt_gemm(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c64_i64, %c1536_i64, %c768_i64, {{.*}}, %c3_i32, %{{.*}})
// CHAIN: %[[Y:.*]], %[[T2:.*]] = gpu.alloc async [%[[T1]]] () : memref<64x768xf32>
// CHAIN: call @tp_rt_gemm(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %c64_i64, %c768_i64, %c1536_i64, {{.*}}, %c0_i32, %{{.*}})
// CHAIN: %[[D:.*]] = gpu.dealloc async [%[[T2]]] %[[H]] : memref<64x1536xf32>
// CHAIN-NEXT: %[[R:.*]], %[[T3:.*]] = gpu.alloc async [%[[D]]] () : memref<64x768xf32>
// CHAIN: call @tp_rt_all_reduce(
// CHAIN: %[[T4:.*]] = gpu.launch_func async [%[[T3]]] @{{.*}}::@{{.*}} blocks in (%c48, %c1, %c1) threads in (%c256, %c1, %c1)
// CHAIN-NOT: gpu.wait async
// CHAIN: gpu.wait [%{{.*}}]
// CHAIN-NEXT: return
// CHAIN: gpu.module

// FINAL: llvm.func @tp_rt_gemm(
// FINAL: llvm.func @tp_rt_all_reduce(
// FINAL: llvm.func @mlp(
// FINAL: %[[S:.*]] = llvm.call @mgpuStreamCreate()
// FINAL: llvm.call @tp_rt_gemm(
// FINAL: llvm.call @tp_rt_gemm(
// FINAL: llvm.call @tp_rt_all_reduce(
// FINAL: gpu.launch_func <%[[S]] : !llvm.ptr>
// FINAL: llvm.call @mgpuStreamSynchronize(%[[S]])
// FINAL: gpu.binary @{{.*}} [#gpu.object<#nvvm.target<O = 3, chip = "sm_90", features = "+ptx80">
// FINAL: llvm.func @tp_entry(

// ONE: {{^1$}}
// TWO: {{^2$}}
