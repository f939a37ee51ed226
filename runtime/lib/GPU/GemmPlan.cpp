//===- GemmPlan.cpp - Row-major GEMM -> cuBLASLt description --------------===//

#include "GPU/GemmPlan.h"

#include "Common/DType.h"
#include "Common/Epilogue.h"

#include <climits>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace tp::gpu {

const char *epilogueName(int32_t epilogue) {
  switch (epilogue) {
  case TP_EPILOGUE_NONE:
    return "none";
  case TP_EPILOGUE_BIAS:
    return "bias";
  case TP_EPILOGUE_GELU:
    return "gelu";
  case TP_EPILOGUE_BIAS_GELU:
    return "bias+gelu";
  case TP_EPILOGUE_RELU:
    return "relu";
  case TP_EPILOGUE_BIAS_RELU:
    return "bias+relu";
  default:
    return "?";
  }
}

uint32_t pointerAlignment(const void *p) {
  auto address = reinterpret_cast<uintptr_t>(p);
  if (address == 0)
    return 256;
  uint32_t alignment = 1;
  while (alignment < 256 && (address & alignment) == 0)
    alignment <<= 1;
  return alignment;
}

std::string describeGemm(const GemmArgs &args) {
  char text[256];
  std::snprintf(
      text, sizeof(text), "%s %s%s m=%lld n=%lld k=%lld batch=%lld epilogue=%s",
      rt::dtypeName(args.dtype), args.transA ? "T" : "N",
      args.transB ? "T" : "N", static_cast<long long>(args.m),
      static_cast<long long>(args.n), static_cast<long long>(args.k),
      static_cast<long long>(args.batch), epilogueName(args.epilogue));
  return text;
}

namespace {

bool fail(std::string &error, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

bool fail(std::string &error, const char *format, ...) {
  char text[512];
  va_list list;
  va_start(list, format);
  std::vsnprintf(text, sizeof(text), format, list);
  va_end(list);
  error = std::string("tp_rt_gemm: ") + text;
  return false;
}

/// Layout of a row-major `rows` x `cols` matrix stored with `ld`, as
/// cuBLASLt sees it: column-major cols x rows.
LtLayout columnMajorView(cudaDataType_t type, int64_t rows, int64_t cols,
                         int64_t ld, int64_t batch, int64_t stride) {
  LtLayout layout;
  layout.type = type;
  layout.rows = uint64_t(cols);
  layout.cols = uint64_t(rows);
  layout.ld = ld;
  layout.batchCount = int32_t(batch);
  layout.batchStride = batch > 1 ? stride : 0;
  return layout;
}

/// The cuBLASLt data type of `args.dtype` and the plan's compute and scale
/// types (TF32 for f32 when allowed).
bool chooseTypes(const GemmArgs &args, bool allowTf32, GemmPlan &plan,
                 cudaDataType_t &type, std::string &error) {
  switch (args.dtype) {
  case TP_F32:
    type = CUDA_R_32F;
    plan.compute =
        allowTf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
    break;
  case TP_F16:
    type = CUDA_R_16F;
    plan.compute = CUBLAS_COMPUTE_32F;
    break;
  case TP_BF16:
    type = CUDA_R_16BF;
    plan.compute = CUBLAS_COMPUTE_32F;
    break;
  default:
    return fail(error, "dtype %d is not supported (0 f32, 2 f16, 3 bf16)",
                int(args.dtype));
  }
  plan.scaleType = CUDA_R_32F;
  return true;
}

/// Checks the scalar arguments: transposes, epilogue and sizes.
bool checkScalars(const GemmArgs &args, std::string &error) {
  if ((args.transA != 0 && args.transA != 1) ||
      (args.transB != 0 && args.transB != 1))
    return fail(error, "trans_a / trans_b must be 0 or 1, got %d / %d",
                int(args.transA), int(args.transB));
  if (args.epilogue < TP_EPILOGUE_NONE || args.epilogue > TP_EPILOGUE_BIAS_RELU)
    return fail(error,
                "epilogue %d is unknown (0 none, 1 bias, 2 gelu, 3 bias+gelu, "
                "4 relu, 5 bias+relu)",
                int(args.epilogue));
  if (args.batch < 0 || args.m < 0 || args.n < 0 || args.k < 0)
    return fail(error, "negative size (batch %lld, m %lld, n %lld, k %lld)",
                static_cast<long long>(args.batch),
                static_cast<long long>(args.m), static_cast<long long>(args.n),
                static_cast<long long>(args.k));
  if (args.batch > INT32_MAX)
    return fail(error, "batch %lld exceeds cuBLASLt's limit of %d",
                static_cast<long long>(args.batch), INT32_MAX);
  return true;
}

/// Checks how a non-empty GEMM's matrices are stored: leading dimensions
/// against the stored shapes, batch strides, pointers (and the bias
/// pointer when the epilogue `usesBias`).
bool checkStorage(const GemmArgs &args, bool usesBias, std::string &error) {
  const int64_t aCols = args.transA ? args.m : args.k;
  const int64_t bCols = args.transB ? args.k : args.n;
  if (args.lda < aCols)
    return fail(error,
                "lda (%lld) is smaller than the %lld columns of A as "
                "stored (%s)",
                static_cast<long long>(args.lda), static_cast<long long>(aCols),
                describeGemm(args).c_str());
  if (args.ldb < bCols)
    return fail(error,
                "ldb (%lld) is smaller than the %lld columns of B as "
                "stored (%s)",
                static_cast<long long>(args.ldb), static_cast<long long>(bCols),
                describeGemm(args).c_str());
  if (args.ldc < args.n)
    return fail(error, "ldc (%lld) is smaller than the %lld columns of C (%s)",
                static_cast<long long>(args.ldc),
                static_cast<long long>(args.n), describeGemm(args).c_str());
  if (args.batch > 1 &&
      (args.strideA < 0 || args.strideB < 0 || args.strideC <= 0))
    return fail(error,
                "batch strides must be >= 0 for A and B and > 0 for C, got "
                "%lld, %lld, %lld",
                static_cast<long long>(args.strideA),
                static_cast<long long>(args.strideB),
                static_cast<long long>(args.strideC));
  if (!args.a || !args.b || !args.c)
    return fail(error, "a null matrix pointer (a %p, b %p, c %p)", args.a,
                args.b, static_cast<const void *>(args.c));
  if (usesBias && !args.bias)
    return fail(error, "epilogue %s needs a bias pointer",
                epilogueName(args.epilogue));
  return true;
}

/// cuBLASLt's epilogue for one of ours (checked by checkScalars).
cublasLtEpilogue_t ltEpilogue(int32_t epilogue) {
  switch (epilogue) {
  case TP_EPILOGUE_BIAS:
    return CUBLASLT_EPILOGUE_BIAS;
  case TP_EPILOGUE_GELU:
    return CUBLASLT_EPILOGUE_GELU;
  case TP_EPILOGUE_BIAS_GELU:
    return CUBLASLT_EPILOGUE_GELU_BIAS;
  case TP_EPILOGUE_RELU:
    return CUBLASLT_EPILOGUE_RELU;
  case TP_EPILOGUE_BIAS_RELU:
    return CUBLASLT_EPILOGUE_RELU_BIAS;
  default:
    return CUBLASLT_EPILOGUE_DEFAULT;
  }
}

} // namespace

bool planGemm(const GemmArgs &args, bool allowTf32, GemmPlan &plan,
              std::string &error) {
  plan = GemmPlan();
  cudaDataType_t type = CUDA_R_32F; // set by chooseTypes
  if (!chooseTypes(args, allowTf32, plan, type, error) ||
      !checkScalars(args, error))
    return false;
  plan.usesBias = rt::epilogueHasBias(args.epilogue);
  if (args.batch == 0 || args.m == 0 || args.n == 0) {
    plan.empty = true;
    return true;
  }
  if (args.k == 0)
    return fail(error, "k = 0 is not supported (%s)",
                describeGemm(args).c_str());
  if (!checkStorage(args, plan.usesBias, error))
    return false;

  // The stored (row-major) shapes; B is cuBLASLt's first operand and A its
  // second (the swap trick, GemmPlan.h).
  const int64_t aRows = args.transA ? args.k : args.m;
  const int64_t aCols = args.transA ? args.m : args.k;
  const int64_t bRows = args.transB ? args.n : args.k;
  const int64_t bCols = args.transB ? args.k : args.n;
  plan.first =
      columnMajorView(type, bRows, bCols, args.ldb, args.batch, args.strideB);
  plan.second =
      columnMajorView(type, aRows, aCols, args.lda, args.batch, args.strideA);
  plan.c =
      columnMajorView(type, args.m, args.n, args.ldc, args.batch, args.strideC);
  plan.transFirst = args.transB ? CUBLAS_OP_T : CUBLAS_OP_N;
  plan.transSecond = args.transA ? CUBLAS_OP_T : CUBLAS_OP_N;
  plan.epilogue = ltEpilogue(args.epilogue);
  plan.biasType = type;
  plan.alignFirst = pointerAlignment(args.b);
  plan.alignSecond = pointerAlignment(args.a);
  plan.alignC = pointerAlignment(args.c);
  plan.alignBias = plan.usesBias ? pointerAlignment(args.bias) : 256;
  return true;
}

bool GemmKey::operator==(const GemmKey &o) const {
  return dtype == o.dtype && transA == o.transA && transB == o.transB &&
         epilogue == o.epilogue && batch == o.batch && m == o.m && n == o.n &&
         k == o.k && lda == o.lda && ldb == o.ldb && ldc == o.ldc &&
         strideA == o.strideA && strideB == o.strideB && strideC == o.strideC &&
         alignA == o.alignA && alignB == o.alignB && alignC == o.alignC &&
         alignBias == o.alignBias && tf32 == o.tf32 && betaPass == o.betaPass;
}

GemmKey gemmKey(const GemmArgs &args, bool allowTf32) {
  GemmKey key;
  key.dtype = args.dtype;
  key.transA = args.transA;
  key.transB = args.transB;
  key.epilogue = args.epilogue;
  key.batch = args.batch;
  key.m = args.m;
  key.n = args.n;
  key.k = args.k;
  key.lda = args.lda;
  key.ldb = args.ldb;
  key.ldc = args.ldc;
  // Strides do not matter for a single matrix.
  key.strideA = args.batch > 1 ? args.strideA : 0;
  key.strideB = args.batch > 1 ? args.strideB : 0;
  key.strideC = args.batch > 1 ? args.strideC : 0;
  key.alignA = pointerAlignment(args.a);
  key.alignB = pointerAlignment(args.b);
  key.alignC = pointerAlignment(args.c);
  key.alignBias =
      rt::epilogueHasBias(args.epilogue) ? pointerAlignment(args.bias) : 0;
  key.tf32 = args.dtype == TP_F32 && allowTf32;
  key.betaPass = rt::epilogueHasActivation(args.epilogue) && args.beta != 0.0f;
  return key;
}

size_t GemmKeyHash::operator()(const GemmKey &key) const {
  // FNV-1a over the fields.
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  };
  for (int64_t v : {int64_t(key.dtype),
                    int64_t(key.transA),
                    int64_t(key.transB),
                    int64_t(key.epilogue),
                    key.batch,
                    key.m,
                    key.n,
                    key.k,
                    key.lda,
                    key.ldb,
                    key.ldc,
                    key.strideA,
                    key.strideB,
                    key.strideC,
                    int64_t(key.alignA),
                    int64_t(key.alignB),
                    int64_t(key.alignC),
                    int64_t(key.alignBias),
                    int64_t(key.tf32),
                    int64_t(key.betaPass)})
    mix(uint64_t(v));
  return size_t(h);
}

} // namespace tp::gpu
