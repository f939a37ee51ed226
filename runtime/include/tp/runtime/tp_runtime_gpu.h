/*===- tp_runtime_gpu.h - GPU additions to the tp runtime ABI ---*- C -*-===*\
|*                                                                            *|
|* Exported by libtp_runtime_nccl.so, besides everything in tp_runtime.h     *|
|* (whose collectives then take DEVICE pointers) and MLIR 22's mgpu* entry   *|
|* points. All device work of a process -- generated kernels, GEMMs, NCCL    *|
|* collectives, mgpu* copies -- goes to ONE persistent CUDA stream, so       *|
|* stream order is the only synchronization compiled code needs.             *|
|*                                                                            *|
|* Like the tp_rt_* collectives, these never return an error: a failure      *|
|* prints "tp: rank R: <call>: <reason>" and aborts every rank.              *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef TP_RUNTIME_TP_RUNTIME_GPU_H
#define TP_RUNTIME_TP_RUNTIME_GPU_H

#include "tp/runtime/tp_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* tp_rt_gemm (declared in tp_runtime.h) here runs on cuBLASLt, on device
 * pointers, enqueued on the persistent stream; f32 GEMMs use TF32 tensor
 * cores only when TP_ALLOW_TF32=1 was set when the runtime initialized. */

/* Scaled dot-product attention through cuDNN's fused SDPA, if it can run
 * here: for every batch n < batch,
 *   O_n = softmax(scale * Q_n K_n^T [+ mask_n] [causal]) V_n
 * with Q_n [sq, d], K_n [skv, d], V_n [skv, dv], O_n [sq, dv], the optional
 * additive mask [sq, skv] (NULL for none; batch stride 0 when shared) and,
 * with causal != 0, keys after the query's position masked. Strides are in
 * elements, (batch, row, column) per operand; dtype is TP_F16 or TP_BF16
 * (TP_F32 is declined). Device pointers; enqueued on the persistent stream.
 *
 * Returns 1 when the attention was enqueued, 0 when it was not -- cuDNN is
 * not loadable (TP_CUDNN_LIBRARY names the library to dlopen, "off" for
 * none; default libcudnn.so.9), older than 9.0, or declines this shape,
 * type or GPU, or any cuDNN call failed -- and the caller computes it
 * itself (compiled programs run their generated kernels). Never aborts.
 * TP_ATTENTION_VERBOSE=1 prints each reason, and each first fused run of a
 * shape, once. This path has never run on a GPU. */
TP_API int32_t tp_rt_attention(
    int32_t dtype, int64_t batch, int64_t sq, int64_t skv, int64_t d,
    int64_t dv, const void *q, int64_t q_sb, int64_t q_sr, int64_t q_sc,
    const void *k, int64_t k_sb, int64_t k_sr, int64_t k_sc, const void *v,
    int64_t v_sb, int64_t v_sr, int64_t v_sc, const void *mask,
    int64_t mask_sb, int64_t mask_sr, int64_t mask_sc, void *o, int64_t o_sb,
    int64_t o_sr, int64_t o_sc, float scale, int32_t causal);

/* Waits until everything enqueued on the persistent stream has finished;
 * aborts on any asynchronous CUDA or NCCL error. The launcher calls it after
 * tp_entry. */
TP_API void tp_rt_sync(void);

/* Step timing on the device (tp-launch --repeat): tp_rt_timer_start records
 * a CUDA event on the persistent stream; tp_rt_timer_stop records a second
 * one, waits for the stream (as tp_rt_sync) and returns the milliseconds
 * between the two events: the device time of the work enqueued in between. */
TP_API void tp_rt_timer_start(void);
TP_API double tp_rt_timer_stop(void);

/* The most device memory the process's stream-ordered allocations
 * (mgpuMemAlloc, tp_rt_gemm's temporaries) have held at once, in bytes
 * (the default memory pool's cudaMemPoolAttrUsedMemHigh); -1 if the driver
 * cannot say. cuBLASLt's workspace, NCCL's buffers and managed memory are
 * not included. */
TP_API int64_t tp_rt_device_memory_peak(void);

/* One step as a CUDA graph (tp-launch captures its second call of tp_entry
 * and replays it; --no-cuda-graph turns this off). tp_rt_graph_begin waits
 * for the persistent stream and starts capturing it on this thread; it
 * returns 1, or 0 with tp_last_error() saying why capture is not possible
 * here (collectives over host memory, TP_STRICT_SYNC=1, managed memory).
 * While capturing, nothing enqueued runs, and what cannot be captured (a
 * host wait, a copy from host memory, managed memory, any CUDA error) does
 * not abort: the first reason is kept and tp_rt_graph_end returns NULL with
 * it in tp_last_error() -- the caller then runs the step again without
 * capture. Otherwise tp_rt_graph_end returns the instantiated graph (its
 * allocations are freed on relaunch if the caller has not freed them).
 * tp_rt_graph_launch enqueues it on the persistent stream (aborts on
 * failure); tp_rt_graph_destroy frees it. */
TP_API int32_t tp_rt_graph_begin(void);
TP_API void *tp_rt_graph_end(void);
TP_API void tp_rt_graph_launch(void *graph);
TP_API void tp_rt_graph_destroy(void *graph);

/* Before tp_init: how the collectives move data. "nccl" (the default):
 * NCCL, one device per rank. "host": through host memory shared by the
 * ranks of one node (GPU/HostCollectives.h), so that several ranks can share
 * one device (tp-launch --collectives host: sharded programs checked on a
 * one-GPU machine; slow, every collective waits for the stream). Returns
 * TP_ERR_INVALID_ARGUMENT for another name, TP_ERR_STATE after tp_init. */
TP_API tp_status tp_set_collectives(const char *kind);

/* The persistent stream (a cudaStream_t / CUstream), creating the CUDA
 * context on first use. */
TP_API void *tp_rt_stream(void);

/* The CUDA device ordinal this process uses (TP_DEVICE, else local rank %
 * visible devices), creating the context on first use. */
TP_API int32_t tp_rt_device(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TP_RUNTIME_TP_RUNTIME_GPU_H */
