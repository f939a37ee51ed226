//===- Gemm.cpp - tp_rt_gemm on the CPU through OpenBLAS ------------------===//
//
// The CPU backend's tp_rt_gemm: the ABI of tp_runtime.h (row-major, leading
// dimensions, batch strides, beta, bias/GELU/ReLU epilogue) mapped onto
// cblas_sgemm, one call per batch matrix. OpenBLAS was chosen over BLIS by
// measurement (Debian 12: OpenBLAS 0.3.21 runs the GPT-2 MLP's GEMMs about 3x
// faster than BLIS 0.9.0 on one core; bench/README.md). Debian's OpenBLAS has
// no bf16 GEMM (sbgemm), so f16 / bf16 operands are widened to f32 scratch
// buffers, multiplied with sgemm (f32 accumulation, as cuBLASLt does) and the
// result rounded once, after the epilogue.
//
// Threads: one BLAS thread per rank by default; TP_BLAS_THREADS=N sets N,
// TP_BLAS_THREADS=auto the usable cores / ranks (read on the first call).
//
//===----------------------------------------------------------------------===//

#include "Common/DType.h"
#include "Common/Epilogue.h"
#include "tp/runtime/tp_runtime.h"

#include <cblas.h>

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern "C" void openblas_set_num_threads(int);

using namespace tp::rt;

namespace {

[[noreturn]] void fail(const std::string &why) {
  std::string message = "tp_rt_gemm: " + why;
  tp_abort(1, message.c_str());
}

int usableCores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0)
    return std::max(1, CPU_COUNT(&set));
  return 1;
}

/// TP_BLAS_THREADS: unset or empty -> 1, "auto" -> cores / ranks, N -> N.
int blasThreads() {
  const char *value = std::getenv("TP_BLAS_THREADS");
  if (!value || !*value)
    return 1;
  if (std::strcmp(value, "auto") == 0)
    return std::max(1, usableCores() / std::max(1, tp_size()));
  char *end = nullptr;
  long n = std::strtol(value, &end, 10);
  if (*end != '\0' || n < 1 || n > 1024)
    fail(std::string("TP_BLAS_THREADS='") + value +
         "' is not a thread count or 'auto'");
  return static_cast<int>(n);
}

void configureThreads() {
  static const bool configured = [] {
    openblas_set_num_threads(blasThreads());
    return true;
  }();
  (void)configured;
}

float gelu(float x) {
  // The tanh approximation, as cuBLASLt's GELU epilogue.
  constexpr float c = 0.7978845608028654f; // sqrt(2 / pi)
  return 0.5f * x * (1.0f + std::tanh(c * (x + 0.044715f * x * x * x)));
}

struct Call {
  int32_t dtype, transA, transB;
  int64_t batch, m, n, k;
  const void *a;
  int64_t lda, strideA;
  const void *b;
  int64_t ldb, strideB;
  void *c;
  int64_t ldc, strideC;
  const void *bias;
  int32_t epilogue;
  float beta;
};

void check(const Call &g) {
  auto num = [](int64_t v) { return std::to_string(v); };
  if (g.dtype != TP_F32 && g.dtype != TP_F16 && g.dtype != TP_BF16)
    fail("dtype " + num(g.dtype) + " (supported: f32, f16, bf16)");
  if (g.batch < 0 || g.m < 0 || g.n < 0)
    fail("negative size (batch " + num(g.batch) + ", m " + num(g.m) + ", n " +
         num(g.n) + ")");
  if (g.k < 1)
    fail("k = " + num(g.k) + " (must be at least 1)");
  if (g.epilogue < TP_EPILOGUE_NONE || g.epilogue > TP_EPILOGUE_BIAS_RELU)
    fail("unknown epilogue " + num(g.epilogue));
  // Stored shapes: A is m x k (k x m when transposed), B k x n (n x k).
  int64_t aCols = g.transA ? g.m : g.k, bCols = g.transB ? g.k : g.n;
  if (g.lda < std::max<int64_t>(1, aCols) ||
      g.ldb < std::max<int64_t>(1, bCols) || g.ldc < std::max<int64_t>(1, g.n))
    fail("a leading dimension is smaller than its row (lda " + num(g.lda) +
         ", ldb " + num(g.ldb) + ", ldc " + num(g.ldc) + " for m " + num(g.m) +
         ", n " + num(g.n) + ", k " + num(g.k) + ")");
  if (g.ldc > INT32_MAX || g.lda > INT32_MAX || g.ldb > INT32_MAX ||
      g.m > INT32_MAX || g.n > INT32_MAX || g.k > INT32_MAX)
    fail("a size or leading dimension exceeds the BLAS's 32-bit int");
  if (g.batch > 1 && (g.strideA < 0 || g.strideB < 0 || g.strideC < 0))
    fail("negative batch stride");
  if (g.batch == 0 || g.m == 0 || g.n == 0)
    return;
  if (!g.a || !g.b || !g.c)
    fail("null matrix pointer");
  if (epilogueHasBias(g.epilogue) && !g.bias)
    fail("the epilogue needs a bias, and bias is null");
}

/// For the m x n row-major f32 matrix c (leading dimension ldc):
/// c := beta * c + act(p + bias), with p the product in `product` (leading
/// dimension ldp; it may be c itself when beta is 0).
void applyEpilogue(const Call &g, float *c, int64_t ldc, const float *product,
                   int64_t ldp, const float *bias, float beta) {
  const bool useBias = epilogueHasBias(g.epilogue);
  const int32_t e = g.epilogue;
  for (int64_t i = 0; i < g.m; ++i) {
    float *row = c + i * ldc;
    const float *p = product + i * ldp;
    for (int64_t j = 0; j < g.n; ++j) {
      float x = p[j] + (useBias ? bias[j] : 0.0f);
      if (e == TP_EPILOGUE_GELU || e == TP_EPILOGUE_BIAS_GELU)
        x = gelu(x);
      else if (e == TP_EPILOGUE_RELU || e == TP_EPILOGUE_BIAS_RELU)
        x = x > 0.0f ? x : 0.0f;
      row[j] = (beta == 0.0f ? 0.0f : beta * row[j]) + x;
    }
  }
}

/// One f32 GEMM: C := beta * C + act(op(A) op(B) + bias).
void gemmF32(const Call &g, const float *a, const float *b, float *c,
             const float *bias, std::vector<float> &scratch) {
  auto ta = g.transA ? CblasTrans : CblasNoTrans;
  auto tb = g.transB ? CblasTrans : CblasNoTrans;
  int m = int(g.m), n = int(g.n), k = int(g.k);
  if (!epilogueHasActivation(g.epilogue) || g.beta == 0.0f) {
    // The product lands in C with the BLAS's beta; bias and activation are
    // then applied in place.
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, int(g.lda), b,
                int(g.ldb), g.beta, c, int(g.ldc));
    if (g.epilogue != TP_EPILOGUE_NONE)
      applyEpilogue(g, c, g.ldc, c, g.ldc, bias, /*beta=*/0.0f);
    return;
  }
  // beta * C + act(...): the product goes to a dense temporary first.
  scratch.resize(size_t(g.m * g.n));
  cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.0f, a, int(g.lda), b,
              int(g.ldb), 0.0f, scratch.data(), n);
  applyEpilogue(g, c, g.ldc, scratch.data(), g.n, bias, g.beta);
}

/// Widens a rows x cols f16/bf16 matrix (leading dimension ld) into a dense
/// f32 one.
void widen(int32_t dtype, const uint16_t *src, int64_t rows, int64_t cols,
           int64_t ld, std::vector<float> &dst) {
  dst.resize(size_t(rows * cols));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      dst[size_t(i * cols + j)] = loadHalf(dtype, src, i * ld + j);
}

void gemmHalf(const Call &g) {
  thread_local std::vector<float> a, b, c, bias, scratch;
  const int64_t aRows = g.transA ? g.k : g.m, aCols = g.transA ? g.m : g.k;
  const int64_t bRows = g.transB ? g.n : g.k, bCols = g.transB ? g.k : g.n;
  if (epilogueHasBias(g.epilogue))
    widen(g.dtype, static_cast<const uint16_t *>(g.bias), 1, g.n, g.n, bias);
  Call dense = g;
  dense.lda = aCols;
  dense.ldb = bCols;
  dense.ldc = g.n;
  for (int64_t i = 0; i < g.batch; ++i) {
    auto *aHalf = static_cast<const uint16_t *>(g.a) + i * g.strideA;
    auto *bHalf = static_cast<const uint16_t *>(g.b) + i * g.strideB;
    auto *cHalf = static_cast<uint16_t *>(g.c) + i * g.strideC;
    // A batch stride of 0 (a shared operand) is widened once.
    if (i == 0 || g.strideA != 0)
      widen(g.dtype, aHalf, aRows, aCols, g.lda, a);
    if (i == 0 || g.strideB != 0)
      widen(g.dtype, bHalf, bRows, bCols, g.ldb, b);
    if (g.beta != 0.0f)
      widen(g.dtype, cHalf, g.m, g.n, g.ldc, c);
    else
      c.assign(size_t(g.m * g.n), 0.0f);
    gemmF32(dense, a.data(), b.data(), c.data(), bias.data(), scratch);
    for (int64_t r = 0; r < g.m; ++r)
      for (int64_t j = 0; j < g.n; ++j)
        cHalf[r * g.ldc + j] = storeHalf(g.dtype, c[size_t(r * g.n + j)]);
  }
}

} // namespace

extern "C" TP_API void
tp_rt_gemm(int32_t dtype, int32_t trans_a, int32_t trans_b, int64_t batch,
           int64_t m, int64_t n, int64_t k, const void *a, int64_t lda,
           int64_t stride_a, const void *b, int64_t ldb, int64_t stride_b,
           void *c, int64_t ldc, int64_t stride_c, const void *bias,
           int32_t epilogue, float beta) {
  Call g{dtype, trans_a != 0, trans_b != 0, batch,    m,   n,        k,
         a,     lda,          stride_a,     b,        ldb, stride_b, c,
         ldc,   stride_c,     bias,         epilogue, beta};
  check(g);
  if (batch == 0 || m == 0 || n == 0)
    return;
  configureThreads();
  if (dtype != TP_F32)
    return gemmHalf(g);
  thread_local std::vector<float> scratch;
  for (int64_t i = 0; i < batch; ++i)
    gemmF32(g, static_cast<const float *>(a) + i * stride_a,
            static_cast<const float *>(b) + i * stride_b,
            static_cast<float *>(c) + i * stride_c,
            static_cast<const float *>(bias), scratch);
}
