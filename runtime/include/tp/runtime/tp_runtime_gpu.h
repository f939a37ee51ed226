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

/* tp_rt_gemm's epilogue argument. The numbers are the ABI. */
typedef enum {
  TP_EPILOGUE_NONE = 0,
  TP_EPILOGUE_BIAS = 1,      /* + bias[n], broadcast over the rows of C   */
  TP_EPILOGUE_GELU = 2,      /* gelu (tanh approximation)                 */
  TP_EPILOGUE_BIAS_GELU = 3, /* bias, then gelu                           */
  TP_EPILOGUE_RELU = 4,
  TP_EPILOGUE_BIAS_RELU = 5 /* bias, then relu                           */
} tp_gemm_epilogue;

/* For each b < batch:
 *   C_b := beta * C_b + act(op(A_b) @ op(B_b) [+ bias])
 * where act and the bias come from `epilogue`. (cuBLASLt's own epilogues
 * compute act(A B + beta C + bias); the two agree when beta == 0 or there is
 * no activation, which is the fast path; an activation with beta != 0 costs
 * one more pass over C.)
 * All matrices are row-major; lda/ldb/ldc are leading dimensions (elements
 * between rows); stride_* are elements between consecutive batch matrices
 * (ignored when batch == 1). op(X) = X, or X^T when trans_* = 1: op(A) is
 * m x k, op(B) is k x n, C is m x n. dtype (TP_F32, TP_F16, TP_BF16) is that
 * of A, B, C and bias; accumulation is f32 (f32 GEMMs use TF32 tensor cores
 * only when TP_ALLOW_TF32=1 was set when the runtime initialized). bias has
 * n elements, shared by every batch. Enqueued on the persistent stream.
 * batch, m or n = 0 does nothing; k = 0 is refused. */
TP_API void tp_rt_gemm(int32_t dtype, int32_t trans_a, int32_t trans_b,
                       int64_t batch, int64_t m, int64_t n, int64_t k,
                       const void *a, int64_t lda, int64_t stride_a,
                       const void *b, int64_t ldb, int64_t stride_b, void *c,
                       int64_t ldc, int64_t stride_c, const void *bias,
                       int32_t epilogue, float beta);

/* Waits until everything enqueued on the persistent stream has finished;
 * aborts on any asynchronous CUDA or NCCL error. The launcher calls it after
 * tp_entry. */
TP_API void tp_rt_sync(void);

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
