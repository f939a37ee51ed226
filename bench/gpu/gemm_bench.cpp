//===- gemm_bench.cpp - tp_rt_gemm against cuBLAS on GPT-2's local GEMMs --===//
//
//   tp_gemm_bench [--batch B] [--seq S] [--tp 1,2,4] [--dtype bf16,f32]
//                 [--iters N]
//
// The local GEMMs one rank runs in a GPT-2-small layer (hidden 768, 12 heads
// of 64, MLP 3072) under Megatron tensor parallelism at tp = 1, 2, 4 with
// B * S tokens: QKV (column parallel), attention output (row parallel), MLP
// up (column) and down (row), and the per-head attention scores Q K^T and
// context P V (batched over B * 12 / tp heads). Each is timed (CUDA events
// on the runtime's stream, median of N after warm-up) three ways:
//   tp_rt_gemm with no epilogue, cuBLAS called directly (cublasGemm-
//   StridedBatchedEx, same layouts, same compute type), and tp_rt_gemm with
//   the epilogue the compiler would fuse (bias, bias + gelu).
// Prints a Markdown table of TFLOP/s and the tp_rt_gemm / cuBLAS ratio.
// f32 uses TF32 only if TP_ALLOW_TF32=1 (for both). Needs a GPU.
//
//===----------------------------------------------------------------------===//

#include "tp/runtime/tp_runtime.h"
#include "tp/runtime/tp_runtime_gpu.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace {

void checkCuda(cudaError_t e, const char *what) {
  if (e != cudaSuccess) {
    std::fprintf(stderr, "tp_gemm_bench: %s: %s\n", what,
                 cudaGetErrorString(e));
    std::exit(1);
  }
}

void checkCublas(cublasStatus_t s, const char *what) {
  if (s != CUBLAS_STATUS_SUCCESS) {
    std::fprintf(stderr, "tp_gemm_bench: %s: %s\n", what,
                 cublasGetStatusString(s));
    std::exit(1);
  }
}

struct Shape {
  std::string name;
  int transB;
  int64_t batch, m, n, k;
  int epilogue; // what the compiler fuses
};

std::vector<Shape> gpt2Shapes(int64_t batch, int64_t seq, int tp) {
  const int64_t tokens = batch * seq, hidden = 768, ffn = 3072, heads = 12,
                dh = 64;
  return {
      {"qkv (col)", 0, 1, tokens, 3 * hidden / tp, hidden, TP_EPILOGUE_BIAS},
      {"attn out (row)", 0, 1, tokens, hidden, hidden / tp, TP_EPILOGUE_NONE},
      {"mlp up (col)", 0, 1, tokens, ffn / tp, hidden, TP_EPILOGUE_BIAS_GELU},
      {"mlp down (row)", 0, 1, tokens, hidden, ffn / tp, TP_EPILOGUE_NONE},
      {"scores QK^T", 1, batch * heads / tp, seq, seq, dh, TP_EPILOGUE_NONE},
      {"context PV", 0, batch * heads / tp, seq, dh, seq, TP_EPILOGUE_NONE},
  };
}

double medianMs(cudaStream_t stream, int iters,
                const std::function<void()> &run) {
  for (int i = 0; i < 3; ++i)
    run();
  checkCuda(cudaStreamSynchronize(stream), "warm-up");
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  std::vector<float> times;
  for (int i = 0; i < iters; ++i) {
    cudaEventRecord(start, stream);
    run();
    cudaEventRecord(stop, stream);
    checkCuda(cudaEventSynchronize(stop), "cudaEventSynchronize");
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    times.push_back(ms);
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

std::vector<std::string> split(const std::string &text) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos)
      comma = text.size();
    if (comma > start)
      items.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return items;
}

} // namespace

int main(int argc, char **argv) {
  int64_t batch = 8, seq = 1024;
  int iters = 20;
  std::string tps = "1,2,4", dtypes = "bf16,f32";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--batch")
      batch = std::atoll(v.c_str());
    else if (a == "--seq")
      seq = std::atoll(v.c_str());
    else if (a == "--iters")
      iters = std::atoi(v.c_str());
    else if (a == "--tp")
      tps = v;
    else if (a == "--dtype")
      dtypes = v;
    else {
      std::fprintf(stderr, "usage: tp_gemm_bench [--batch B] [--seq S] [--tp "
                           "1,2,4] [--dtype bf16,f32] [--iters N]\n");
      return 2;
    }
  }
  const bool tf32 = std::getenv("TP_ALLOW_TF32") &&
                    std::strcmp(std::getenv("TP_ALLOW_TF32"), "1") == 0;
  cudaStream_t stream = static_cast<cudaStream_t>(tp_rt_stream());
  cudaDeviceProp prop;
  checkCuda(cudaGetDeviceProperties(&prop, tp_rt_device()),
            "cudaGetDeviceProperties");
  cublasHandle_t handle;
  checkCublas(cublasCreate(&handle), "cublasCreate");
  checkCublas(cublasSetStream(handle, stream), "cublasSetStream");
  void *workspace = nullptr;
  checkCuda(cudaMalloc(&workspace, 32u << 20), "cudaMalloc");
  checkCublas(cublasSetWorkspace(handle, workspace, 32u << 20),
              "cublasSetWorkspace");

  std::printf("GEMM benchmark on %s: GPT-2 small local GEMMs, batch %lld x "
              "seq %lld tokens, median of %d, TF32 %s\n\n",
              prop.name, (long long)batch, (long long)seq, iters,
              tf32 ? "on" : "off");
  std::printf("| dtype | tp | GEMM | batch x m x n x k | tp_rt_gemm TFLOP/s | "
              "cuBLAS TFLOP/s | ratio | fused epilogue TFLOP/s |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  for (const std::string &dt : split(dtypes)) {
    const int dtype = dt == "f32" ? TP_F32 : dt == "f16" ? TP_F16 : TP_BF16;
    const cudaDataType_t type = dtype == TP_F32   ? CUDA_R_32F
                                : dtype == TP_F16 ? CUDA_R_16F
                                                  : CUDA_R_16BF;
    const cublasComputeType_t compute = dtype == TP_F32 && tf32
                                            ? CUBLAS_COMPUTE_32F_FAST_TF32
                                            : CUBLAS_COMPUTE_32F;
    const size_t es = dtype == TP_F32 ? 4 : 2;
    for (const std::string &tpText : split(tps)) {
      const int tp = std::atoi(tpText.c_str());
      for (const Shape &s : gpt2Shapes(batch, seq, tp)) {
        const int64_t lda = s.k, ldb = s.transB ? s.k : s.n, ldc = s.n;
        const int64_t sa = s.m * s.k, sb = s.k * s.n, sc = s.m * s.n;
        void *a, *b, *c, *bias;
        checkCuda(cudaMalloc(&a, size_t(s.batch * sa) * es), "cudaMalloc A");
        checkCuda(cudaMalloc(&b, size_t(s.batch * sb) * es), "cudaMalloc B");
        checkCuda(cudaMalloc(&c, size_t(s.batch * sc) * es), "cudaMalloc C");
        checkCuda(cudaMalloc(&bias, size_t(s.n) * es), "cudaMalloc bias");
        cudaMemsetAsync(a, 0, size_t(s.batch * sa) * es, stream);
        cudaMemsetAsync(b, 0, size_t(s.batch * sb) * es, stream);
        cudaMemsetAsync(bias, 0, size_t(s.n) * es, stream);
        auto ours = [&](int epilogue) {
          return [&, epilogue] {
            tp_rt_gemm(dtype, 0, s.transB, s.batch, s.m, s.n, s.k, a, lda, sa,
                       b, ldb, sb, c, ldc, sc, bias, epilogue, 0.0f);
          };
        };
        const float one = 1.0f, zero = 0.0f;
        // Row-major C = A op(B) is column-major C^T = op(B)^T A^T.
        auto theirs = [&] {
          checkCublas(cublasGemmStridedBatchedEx(
                          handle, s.transB ? CUBLAS_OP_T : CUBLAS_OP_N,
                          CUBLAS_OP_N, int(s.n), int(s.m), int(s.k), &one, b,
                          type, int(ldb), sb, a, type, int(lda), sa, &zero, c,
                          type, int(ldc), sc, int(s.batch), compute,
                          CUBLAS_GEMM_DEFAULT),
                      "cublasGemmStridedBatchedEx");
        };
        const double flops = 2.0 * double(s.batch) * s.m * s.n * s.k;
        double tOurs = medianMs(stream, iters, ours(TP_EPILOGUE_NONE));
        double tTheirs = medianMs(stream, iters, theirs);
        double tFused = s.epilogue == TP_EPILOGUE_NONE
                            ? tOurs
                            : medianMs(stream, iters, ours(s.epilogue));
        auto tflops = [&](double ms) { return flops / (ms * 1e-3) / 1e12; };
        std::printf("| %s | %d | %s | %lldx%lldx%lldx%lld | %.1f | %.1f | "
                    "%.2f | %.1f%s |\n",
                    dt.c_str(), tp, s.name.c_str(), (long long)s.batch,
                    (long long)s.m, (long long)s.n, (long long)s.k,
                    tflops(tOurs), tflops(tTheirs), tTheirs / tOurs,
                    tflops(tFused),
                    s.epilogue == TP_EPILOGUE_BIAS        ? " (bias)"
                    : s.epilogue == TP_EPILOGUE_BIAS_GELU ? " (bias+gelu)"
                                                          : "");
        std::fflush(stdout);
        tp_rt_sync();
        for (void *p : {a, b, c, bias})
          cudaFree(p);
      }
    }
  }
  std::printf("\nratio = cuBLAS time / tp_rt_gemm time (> 1: tp_rt_gemm is "
              "faster)\n");
  cublasDestroy(handle);
  return 0;
}
