//===- GemmPlan.h - Row-major GEMM -> cuBLASLt description ------*- C++ -*-===//
//
// tp_rt_gemm takes row-major matrices; cuBLASLt is column-major. We use the
// swap trick rather than CUBLASLT_ORDER_ROW: a row-major r x c matrix with
// leading dimension ld is the column-major c x r matrix with the same ld, so
//     C = op(A) op(B)   (row-major, m x n)
// is computed as the column-major product
//     C^T = op(B)^T op(A)^T   (n x m)
// i.e. cuBLASLt's first operand is our B and its second our A, with M' = n,
// N' = m, K' = k. Each operand keeps its own transpose flag: our B stored
// row-major k x n (trans_b = 0) is column-major n x k = op(B)^T (no
// transpose); stored n x k (trans_b = 1) is column-major k x n and needs
// CUBLAS_OP_T. Same for A. The bias, indexed by the column of row-major C,
// is then indexed by the ROW of cuBLASLt's D, which is exactly what the
// CUBLASLT_EPILOGUE_*BIAS epilogues broadcast (length = rows of D = n). With
// CUBLASLT_ORDER_ROW the bias would run along the wrong dimension, and fewer
// kernels support row order.
//
// Everything here is pure (cuBLASLt enums only, no library call), so the
// mapping and the heuristic cache key are unit-tested without a GPU.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_GPU_GEMMPLAN_H
#define TP_RUNTIME_GPU_GEMMPLAN_H

#include <cublasLt.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace tp::gpu {

/// tp_rt_gemm's arguments (pointers only matter through their alignment),
/// in the order of its parameters.
struct GemmArgs {
  int32_t dtype = 0;
  int32_t transA = 0, transB = 0;
  int64_t batch = 1, m = 0, n = 0, k = 0;
  const void *a = nullptr;
  int64_t lda = 0, strideA = 0;
  const void *b = nullptr;
  int64_t ldb = 0, strideB = 0;
  void *c = nullptr;
  int64_t ldc = 0, strideC = 0;
  const void *bias = nullptr;
  int32_t epilogue = 0; ///< a tp_gemm_epilogue (tp_runtime.h)
  float beta = 0;
};

/// One cuBLASLt matrix layout (column-major, CUBLASLT_ORDER_COL).
struct LtLayout {
  cudaDataType_t type = CUDA_R_32F;
  uint64_t rows = 0, cols = 0;
  int64_t ld = 0;
  int32_t batchCount = 1;
  int64_t batchStride = 0; ///< elements
  bool operator==(const LtLayout &o) const {
    return type == o.type && rows == o.rows && cols == o.cols && ld == o.ld &&
           batchCount == o.batchCount && batchStride == o.batchStride;
  }
};

/// What tp_rt_gemm passes to cuBLASLt.
struct GemmPlan {
  bool empty = false; ///< batch, m or n is 0: nothing to do
  cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
  cudaDataType_t scaleType = CUDA_R_32F;
  cublasOperation_t transFirst = CUBLAS_OP_N;  ///< CUBLASLT_MATMUL_DESC_TRANSA
  cublasOperation_t transSecond = CUBLAS_OP_N; ///< CUBLASLT_MATMUL_DESC_TRANSB
  LtLayout first;                              ///< cuBLASLt's A = our B
  LtLayout second;                             ///< cuBLASLt's B = our A
  LtLayout c;                                  ///< C and D (in place)
  cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
  bool usesBias = false;
  cudaDataType_t biasType = CUDA_R_32F;
  /// Pointer alignments in bytes (powers of two, at most 256), given to the
  /// heuristic as CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_*_BYTES.
  uint32_t alignFirst = 256, alignSecond = 256, alignC = 256, alignBias = 256;
};

/// Checks the arguments and maps them. False with a message naming the
/// argument ("tp_rt_gemm: lda (3) is smaller than the 4 columns of A").
bool planGemm(const GemmArgs &args, bool allowTf32, GemmPlan &plan,
              std::string &error);

/// Largest power of two (<= 256) dividing the address; 256 for null.
uint32_t pointerAlignment(const void *p);

/// Heuristic cache key: everything that decides the algorithm and the
/// descriptors, nothing that changes per call (pointers -- but their
/// alignments are in --, beta's value -- but whether an activation meets a
/// non-zero beta is in).
struct GemmKey {
  int32_t dtype = 0, transA = 0, transB = 0, epilogue = 0;
  int64_t batch = 0, m = 0, n = 0, k = 0;
  int64_t lda = 0, ldb = 0, ldc = 0;
  int64_t strideA = 0, strideB = 0, strideC = 0;
  uint32_t alignA = 0, alignB = 0, alignC = 0, alignBias = 0;
  bool tf32 = false;
  /// An activation with beta != 0 (computed through a temporary).
  bool betaPass = false;
  bool operator==(const GemmKey &o) const;
};

GemmKey gemmKey(const GemmArgs &args, bool allowTf32);

struct GemmKeyHash {
  size_t operator()(const GemmKey &key) const;
};

/// "f32 N/T 1x768x3072x768 (batch 1, epilogue bias+gelu)" for messages.
std::string describeGemm(const GemmArgs &args);

const char *epilogueName(int32_t epilogue);

} // namespace tp::gpu

#endif // TP_RUNTIME_GPU_GEMMPLAN_H
