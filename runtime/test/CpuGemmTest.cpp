//===- CpuGemmTest.cpp - tp_rt_gemm of the CPU (OpenBLAS) backend ---------===//
//
// Calls libtp_runtime_mpi.so's tp_rt_gemm (no MPI needed) on every layout
// it accepts -- transposes, padded leading dimensions, batch strides
// (including 0, a shared operand), beta 0 / 1, every epilogue, f32 / f16 /
// bf16 -- and compares with a double-precision reference computed from the
// same (rounded) inputs. Invalid arguments and an invalid TP_BLAS_THREADS
// must end the process with a message (checked in child processes).
//
//===----------------------------------------------------------------------===//

#include "Common/DType.h"
#include "TestUtil.h"
#include "tp/runtime/tp_runtime.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

using namespace tp::rt;
using tp::test::context;

namespace {

struct Case {
  int32_t dtype;
  bool transA, transB;
  int64_t batch, m, n, k;
  int64_t pad; // extra elements at the end of every row
  bool shareB; // B's batch stride is 0
  int32_t epilogue;
  float beta;
};

double geluRef(double x) {
  return 0.5 * x *
         (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
}

/// Buffers hold f32 values already rounded to the case's dtype.
struct Matrix {
  int64_t rows, cols, ld, stride, count;
  std::vector<float> values;
  Matrix(int64_t rows, int64_t cols, int64_t pad, int64_t count, int32_t dtype,
         std::mt19937 &rng)
      : rows(rows), cols(cols), ld(cols + pad), stride(rows * (cols + pad)),
        count(count), values(size_t(count * rows * (cols + pad))) {
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (float &v : values)
      v = round(dtype, dist(rng));
  }
  static float round(int32_t dtype, float v) {
    if (dtype == TP_F32)
      return v;
    uint16_t h = storeHalf(dtype, v);
    return loadHalf(dtype, &h, 0);
  }
  float at(int64_t b, int64_t i, int64_t j) const {
    return values[size_t(b * stride + i * ld + j)];
  }
  /// The buffer tp_rt_gemm reads (f32, or 16-bit storage).
  std::vector<uint8_t> bytes(int32_t dtype) const {
    size_t size = dtypeSize(dtype);
    std::vector<uint8_t> out(values.size() * size);
    for (size_t i = 0; i < values.size(); ++i) {
      if (dtype == TP_F32) {
        std::memcpy(&out[i * 4], &values[i], 4);
      } else {
        uint16_t h = storeHalf(dtype, values[i]);
        std::memcpy(&out[i * 2], &h, 2);
      }
    }
    return out;
  }
};

float loadAny(int32_t dtype, const std::vector<uint8_t> &bytes, size_t i) {
  if (dtype == TP_F32) {
    float f;
    std::memcpy(&f, &bytes[i * 4], 4);
    return f;
  }
  uint16_t h;
  std::memcpy(&h, &bytes[i * 2], 2);
  return loadHalf(dtype, &h, 0);
}

void runCase(const Case &c, std::mt19937 &rng) {
  char text[200];
  std::snprintf(text, sizeof(text),
                "dtype %d trans %d%d batch %lld m %lld n %lld k %lld pad %lld "
                "shareB %d epilogue %d beta %g",
                c.dtype, c.transA, c.transB, (long long)c.batch, (long long)c.m,
                (long long)c.n, (long long)c.k, (long long)c.pad, c.shareB,
                c.epilogue, c.beta);
  context() = text;
  Matrix a(c.transA ? c.k : c.m, c.transA ? c.m : c.k, c.pad, c.batch, c.dtype,
           rng);
  Matrix b(c.transB ? c.n : c.k, c.transB ? c.k : c.n, c.pad,
           c.shareB ? 1 : c.batch, c.dtype, rng);
  Matrix cm(c.m, c.n, c.pad, c.batch, c.dtype, rng);
  Matrix bias(1, c.n, 0, 1, c.dtype, rng);
  std::vector<uint8_t> aBytes = a.bytes(c.dtype), bBytes = b.bytes(c.dtype),
                       cBytes = cm.bytes(c.dtype),
                       biasBytes = bias.bytes(c.dtype);
  const bool useBias = c.epilogue == TP_EPILOGUE_BIAS ||
                       c.epilogue == TP_EPILOGUE_BIAS_GELU ||
                       c.epilogue == TP_EPILOGUE_BIAS_RELU;
  tp_rt_gemm(c.dtype, c.transA, c.transB, c.batch, c.m, c.n, c.k, aBytes.data(),
             a.ld, a.stride, bBytes.data(), b.ld, c.shareB ? 0 : b.stride,
             cBytes.data(), cm.ld, cm.stride,
             useBias ? biasBytes.data() : nullptr, c.epilogue, c.beta);

  const double tolerance = c.dtype == TP_F32   ? 1e-5
                           : c.dtype == TP_F16 ? 2e-3
                                               : 1e-2;
  double worst = 0;
  int64_t padTouched = 0;
  for (int64_t bi = 0; bi < c.batch; ++bi) {
    for (int64_t i = 0; i < c.m; ++i) {
      for (int64_t j = 0; j < c.n; ++j) {
        double sum = 0;
        for (int64_t p = 0; p < c.k; ++p) {
          double x = c.transA ? a.at(bi, p, i) : a.at(bi, i, p);
          int64_t bb = c.shareB ? 0 : bi;
          double y = c.transB ? b.at(bb, j, p) : b.at(bb, p, j);
          sum += x * y;
        }
        if (useBias)
          sum += bias.at(0, 0, j);
        if (c.epilogue == TP_EPILOGUE_GELU ||
            c.epilogue == TP_EPILOGUE_BIAS_GELU)
          sum = geluRef(sum);
        if (c.epilogue == TP_EPILOGUE_RELU ||
            c.epilogue == TP_EPILOGUE_BIAS_RELU)
          sum = std::max(sum, 0.0);
        sum += c.beta * cm.at(bi, i, j);
        double got =
            loadAny(c.dtype, cBytes, size_t(bi * cm.stride + i * cm.ld + j));
        worst = std::max(worst,
                         std::fabs(got - sum) / std::max(1.0, std::fabs(sum)));
      }
      // The padding after each row of C is never written.
      for (int64_t j = c.n; j < cm.ld; ++j)
        if (loadAny(c.dtype, cBytes, size_t(bi * cm.stride + i * cm.ld + j)) !=
            cm.at(bi, i, j))
          ++padTouched;
    }
  }
  TP_CHECK_MSG(worst <= tolerance,
               "max relative error " + std::to_string(worst));
  TP_CHECK(padTouched == 0);
}

/// Runs tp_rt_gemm with one bad argument in a child; it must exit non-zero.
void expectAbort(const char *what, int32_t dtype, int64_t k, int64_t lda,
                 int32_t epilogue) {
  context() = what;
  float a[16] = {}, b[16] = {}, c[16] = {};
  pid_t pid = fork();
  if (pid == 0) {
    tp_rt_gemm(dtype, 0, 0, 1, 2, 2, k, a, lda, 0, b, 2, 0, c, 2, 0, nullptr,
               epilogue, 0.0f);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  TP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) != 0);
}

/// In a child (the thread count is read once per process): with
/// TP_BLAS_THREADS=value a small GEMM must succeed (and be right) or end the
/// process with a message.
void checkThreadsSetting(const char *value, bool valid) {
  context() = std::string("TP_BLAS_THREADS=") + value;
  pid_t pid = fork();
  if (pid == 0) {
    setenv("TP_BLAS_THREADS", value, 1);
    float a[4] = {1, 2, 3, 4}, b[4] = {1, 0, 0, 1}, c[4] = {};
    tp_rt_gemm(TP_F32, 0, 0, 1, 2, 2, 2, a, 2, 0, b, 2, 0, c, 2, 0, nullptr,
               TP_EPILOGUE_NONE, 0.0f);
    _exit(c[0] == 1 && c[1] == 2 && c[2] == 3 && c[3] == 4 ? 0 : 2);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (valid)
    TP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  else
    TP_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1);
}

} // namespace

int main() {
  // Before any GEMM in this process (children inherit the configuration).
  checkThreadsSetting("1", true);
  checkThreadsSetting("2", true);
  checkThreadsSetting("auto", true);
  checkThreadsSetting("two", false);
  checkThreadsSetting("0", false);

  std::mt19937 rng(7);
  for (int32_t dtype : {TP_F32, TP_BF16, TP_F16})
    for (bool ta : {false, true})
      for (bool tb : {false, true})
        for (float beta : {0.0f, 1.0f})
          runCase({dtype, ta, tb, 3, 5, 7, 11, /*pad=*/ta ? 2 : 0,
                   /*shareB=*/tb, TP_EPILOGUE_NONE, beta},
                  rng);
  for (int32_t e = TP_EPILOGUE_NONE; e <= TP_EPILOGUE_BIAS_RELU; ++e)
    for (float beta : {0.0f, 1.0f})
      for (int32_t dtype : {TP_F32, TP_BF16})
        runCase({dtype, false, true, 2, 4, 9, 6, 1, false, e, beta}, rng);
  // A size OpenBLAS blocks (k and n beyond its inner kernels).
  runCase({TP_F32, false, false, 1, 33, 130, 300, 3, false,
           TP_EPILOGUE_BIAS_GELU, 0.0f},
          rng);
  // Empty problems do nothing.
  context() = "empty";
  tp_rt_gemm(TP_F32, 0, 0, 0, 4, 4, 4, nullptr, 4, 0, nullptr, 4, 0, nullptr, 4,
             0, nullptr, 0, 0.0f);

  expectAbort("k = 0", TP_F32, 0, 2, TP_EPILOGUE_NONE);
  expectAbort("lda too small", TP_F32, 2, 1, TP_EPILOGUE_NONE);
  expectAbort("bad dtype", TP_I32, 2, 2, TP_EPILOGUE_NONE);
  expectAbort("bias epilogue without bias", TP_F32, 2, 2, TP_EPILOGUE_BIAS);
  context().clear();
  return tp::test::testResult("tp_runtime_cpu_gemm_test");
}
