/*===- tp_runtime.h - tp-mlir collective runtime, flat C ABI ----*- C -*-===*\
|*                                                                            *|
|* The one ABI between compiled tp-mlir programs (and the tp-launch launcher) *|
|* and a collective backend. Two backends implement it with the same symbols: *|
|* libtp_runtime_mpi.so (CPU ranks, MPI) and libtp_runtime_nccl.so (GPU       *|
|* ranks, NCCL, device pointers; GPU additions in tp_runtime_gpu.h).          *|
|*                                                                            *|
|* Conventions shared by every function below:                               *|
|*  - Counts are in elements, never bytes.                                    *|
|*  - Every rank of the communicator must make the same sequence of          *|
|*    collective calls with the same counts, dtypes and ops.                  *|
|*  - Functions returning tp_status never throw and never abort; on failure   *|
|*    they return a non-zero status and tp_last_error() says why. A failure   *|
|*    on one rank is not seen by the others: the caller should tp_abort().    *|
|*  - A pointer may be NULL only when the element count it covers is 0.       *|
|*  - Not thread-safe: call the collectives from one thread at a time.        *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef TP_RUNTIME_TP_RUNTIME_H
#define TP_RUNTIME_TP_RUNTIME_H

#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define TP_API __attribute__((visibility("default")))
#define TP_NORETURN __attribute__((noreturn))
#else
#define TP_API
#define TP_NORETURN
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this ABI; bumped on any incompatible change. */
#define TP_RUNTIME_ABI_VERSION 1

typedef enum {
  TP_OK = 0,
  TP_ERR_INVALID_ARGUMENT = 1, /* a bad pointer, count, dtype or op */
  TP_ERR_BACKEND = 2,          /* MPI / NCCL / CUDA reported an error */
  TP_ERR_IO = 3,               /* a file could not be read or written */
  TP_ERR_TIMEOUT = 4,          /* an operation did not finish in time */
  TP_ERR_STATE = 5,            /* called before tp_init (or after a failed
                                  one) or after tp_finalize */
  TP_ERR_UNSUPPORTED = 6       /* valid, but not implemented by this backend */
} tp_status;

/* Element types. The numeric values are part of the ABI: compiled code passes
 * them as int32_t to the tp_rt_* functions. */
typedef enum {
  TP_F32 = 0,
  TP_F64 = 1,
  TP_F16 = 2,  /* IEEE binary16, stored as uint16_t */
  TP_BF16 = 3, /* bfloat16 (upper half of an f32), stored as uint16_t */
  TP_I32 = 4,
  TP_I64 = 5
} tp_dtype;

/* Reductions. f16/bf16 are reduced in f32 and rounded to nearest-even after
 * each combine step; for f16/bf16, MAX and MIN propagate NaN. For f32/f64 the
 * NaN behaviour of MAX/MIN is the backend's. */
typedef enum { TP_SUM = 0, TP_MAX = 1, TP_MIN = 2 } tp_reduce_op;

/*---------------------------------------------------------------------------
 * Setup
 *---------------------------------------------------------------------------*/

/* Initializes the backend (MPI_Init_thread with MPI_THREAD_FUNNELED, or
 * adopts MPI if the host program already initialized it) and creates the
 * runtime's communicator, once, with every rank of MPI_COMM_WORLD. argc/argv
 * may both be NULL. Calling tp_init again while initialized is a no-op that
 * returns TP_OK; calling it after tp_finalize returns TP_ERR_STATE (MPI cannot
 * be re-initialized). A tp_init that fails once the ranks have started
 * creating the communicator together (MPI_Comm_dup; the NCCL backend's
 * rendezvous) leaves the runtime uninitialized for good: every later tp_init
 * returns the same status and message at once. One that fails before (bad
 * arguments; the NCCL backend's TP_* variables) can be retried. */
TP_API tp_status tp_init(int *argc, char ***argv);

/* Frees the communicator; finalizes MPI only if tp_init initialized it.
 * TP_ERR_STATE if not initialized. */
TP_API tp_status tp_finalize(void);

/* This process's rank in [0, tp_size()), or -1 before tp_init / after
 * tp_finalize. */
TP_API int tp_rank(void);

/* Number of ranks, or -1 before tp_init / after tp_finalize. */
TP_API int tp_size(void);

/* Name of the backend implementing this ABI: "mpi" or "nccl". */
TP_API const char *tp_backend_name(void);

/*---------------------------------------------------------------------------
 * Collectives (blocking; return when dst holds the result on this rank)
 *---------------------------------------------------------------------------*/

/* Element-wise reduction of `count` elements across all ranks; every rank
 * gets the result. src == dst is allowed (in place); any other overlap is an
 * error.
 *
 *   before:  rank0 src = [a0 a1 a2]   rank1 src = [b0 b1 b2]
 *   after:   rank0 dst = rank1 dst = [a0+b0 a1+b1 a2+b2]      (op = TP_SUM)
 */
TP_API tp_status tp_all_reduce(const void *src, void *dst, int64_t count,
                               tp_dtype dtype, tp_reduce_op op);

/* Gathers along a middle dimension. src is [outer][chunk] on each rank; dst
 * (outer * size * chunk elements, on every rank) is [outer][size][chunk] with
 *   dst[o][r][c] = src_of_rank_r[o][c].
 * outer = 1 is the plain concatenation of the ranks' src buffers; gathering
 * dim d of a row-major tensor uses outer = prod(shape[0:d]) and
 * chunk = local_shape[d] * prod(shape[d+1:]). src and dst must not overlap.
 *
 *   outer = 2, chunk = 2, size = 2:
 *   before:  rank0 src = [a0 a1 | a2 a3]     rank1 src = [b0 b1 | b2 b3]
 *   after:   dst on both = [a0 a1 b0 b1 | a2 a3 b2 b3]
 */
TP_API tp_status tp_all_gather(const void *src, void *dst, int64_t outer,
                               int64_t chunk, tp_dtype dtype);

/* Reduces, then scatters along a middle dimension. src (outer * size * chunk
 * elements) is [outer][size][chunk] on each rank; dst is [outer][chunk] with
 *   dst[o][c] = reduce over r of src_of_rank_r[o][rank][c]
 * i.e. rank `rank` gets the reduced block `rank` of every outer row. src and
 * dst must not overlap.
 *
 *   outer = 1, chunk = 2, size = 2, op = TP_SUM:
 *   before:  rank0 src = [a0 a1 a2 a3]       rank1 src = [b0 b1 b2 b3]
 *   after:   rank0 dst = [a0+b0 a1+b1]       rank1 dst = [a2+b2 a3+b3]
 */
TP_API tp_status tp_reduce_scatter(const void *src, void *dst, int64_t outer,
                                   int64_t chunk, tp_dtype dtype,
                                   tp_reduce_op op);

/* Returns once every rank has entered tp_barrier. */
TP_API tp_status tp_barrier(void);

/*---------------------------------------------------------------------------
 * Errors
 *---------------------------------------------------------------------------*/

/* Message of the last failed call made by this thread, "" if none has failed.
 * A successful call does not clear it. The pointer stays valid until the next
 * failing call on the same thread. */
TP_API const char *tp_last_error(void);

/* Writes "tp: rank R: <message>\n" to stderr (R omitted when unknown) and
 * terminates every rank of the job with exit_code (0 becomes 1). Never
 * returns. On the thread that called tp_init (or before tp_init) it calls
 * MPI_Abort. On any other thread it only exits this process, because
 * MPI_Abort is not safe there while a collective runs; mpiexec then kills the
 * other ranks (and may report another exit code than exit_code). */
TP_API TP_NORETURN void tp_abort(int exit_code, const char *message);

/* 1 while this process is inside a collective (or tp_barrier), else 0.
 * When another rank aborts the job, MPI may end this process with exit()
 * from inside a collective; a launcher uses this to tell that apart from a
 * model that called exit() itself. Safe to call from any context. */
TP_API int tp_in_collective(void);

/*---------------------------------------------------------------------------
 * Entry points called by COMPILED MODEL CODE
 *
 * Same semantics as the functions above, with dtype / op passed as int32_t
 * (the tp_dtype / tp_reduce_op values). They never return an error: any
 * failure (including a call before tp_init) aborts every rank through
 * tp_abort with a message naming the function.
 *---------------------------------------------------------------------------*/

TP_API int32_t tp_rt_rank(void);
TP_API int32_t tp_rt_size(void);
TP_API void tp_rt_all_reduce(const void *src, void *dst, int64_t count,
                             int32_t dtype, int32_t op);
TP_API void tp_rt_all_gather(const void *src, void *dst, int64_t outer,
                             int64_t chunk, int32_t dtype);
TP_API void tp_rt_reduce_scatter(const void *src, void *dst, int64_t outer,
                                 int64_t chunk, int32_t dtype, int32_t op);

/* tp_rt_gemm's epilogue argument. The numbers are the ABI. */
typedef enum {
  TP_EPILOGUE_NONE = 0,
  TP_EPILOGUE_BIAS = 1,      /* + bias[n], broadcast over the rows of C   */
  TP_EPILOGUE_GELU = 2,      /* gelu (tanh approximation)                 */
  TP_EPILOGUE_BIAS_GELU = 3, /* bias, then gelu                           */
  TP_EPILOGUE_RELU = 4,
  TP_EPILOGUE_BIAS_RELU = 5 /* bias, then relu                           */
} tp_gemm_epilogue;

/* A local GEMM (tp.gemm), implemented by both backends: OpenBLAS on host
 * pointers in libtp_runtime_mpi.so, cuBLASLt on device pointers in
 * libtp_runtime_nccl.so (tp_runtime_gpu.h). For each b < batch:
 *   C_b := beta * C_b + act(op(A_b) @ op(B_b) [+ bias])
 * where act and the bias come from `epilogue`. (cuBLASLt's own epilogues
 * compute act(A B + beta C + bias); the two agree when beta == 0 or there is
 * no activation, which is the fast path; an activation with beta != 0 costs
 * one more pass over C.)
 * All matrices are row-major; lda/ldb/ldc are leading dimensions (elements
 * between rows); stride_* are elements between consecutive batch matrices
 * (ignored when batch == 1). op(X) = X, or X^T when trans_* = 1: op(A) is
 * m x k, op(B) is k x n, C is m x n. dtype (TP_F32, TP_F16, TP_BF16) is that
 * of A, B, C and bias; accumulation is f32 (the CPU backend widens f16 / bf16
 * to f32, calls sgemm and rounds once, after the epilogue). bias has n
 * elements, shared by every batch. batch, m or n = 0 does nothing; k = 0 is
 * refused. The CPU backend uses one BLAS thread per rank unless
 * TP_BLAS_THREADS is set (a count, or "auto": usable cores / ranks). */
TP_API void tp_rt_gemm(int32_t dtype, int32_t trans_a, int32_t trans_b,
                       int64_t batch, int64_t m, int64_t n, int64_t k,
                       const void *a, int64_t lda, int64_t stride_a,
                       const void *b, int64_t ldb, int64_t stride_b, void *c,
                       int64_t ldc, int64_t stride_c, const void *bias,
                       int32_t epilogue, float beta);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TP_RUNTIME_TP_RUNTIME_H */
