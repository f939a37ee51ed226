//===- Gemm.cpp - tp_rt_gemm through cuBLASLt -----------------------------===//
//
// Row-major GEMMs mapped to cuBLASLt with the swap trick (GemmPlan.h). One
// cuBLASLt handle and one 32 MiB workspace per process, created on first
// use; per shape (GemmKey: dtype, transposes, sizes, leading dimensions,
// batch strides, epilogue, pointer alignments, TF32) the descriptors and the
// algorithm from cublasLtMatmulAlgoGetHeuristic are created once and cached.
// Everything is enqueued on the persistent stream.
//
//===----------------------------------------------------------------------===//

#include "Common/Epilogue.h"
#include "GPU/Cuda.h"
#include "GPU/GemmPlan.h"

#include "tp/runtime/tp_runtime_gpu.h"

#include <cublasLt.h>

#include <memory>
#include <mutex>
#include <unordered_map>

using namespace tp::gpu;

namespace {

constexpr size_t workspaceBytes = 32u << 20;

void checkLt(cublasStatus_t status, const char *call, const GemmArgs &args) {
  if (status != CUBLAS_STATUS_SUCCESS)
    failOrAbsorb(std::string("tp_rt_gemm: ") + call + ": " +
                 cublasLtGetStatusString(status) + " (" + describeGemm(args) +
                 ")");
}

cublasLtMatrixLayout_t makeLayout(const LtLayout &l, const GemmArgs &args) {
  cublasLtMatrixLayout_t layout = nullptr;
  checkLt(cublasLtMatrixLayoutCreate(&layout, l.type, l.rows, l.cols, l.ld),
          "cublasLtMatrixLayoutCreate", args);
  if (l.batchCount > 1) {
    checkLt(cublasLtMatrixLayoutSetAttribute(
                layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &l.batchCount,
                sizeof(l.batchCount)),
            "cublasLtMatrixLayoutSetAttribute(BATCH_COUNT)", args);
    checkLt(cublasLtMatrixLayoutSetAttribute(
                layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                &l.batchStride, sizeof(l.batchStride)),
            "cublasLtMatrixLayoutSetAttribute(STRIDED_BATCH_OFFSET)", args);
  }
  return layout;
}

/// Cached per GemmKey.
struct Entry {
  GemmPlan plan;
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t first = nullptr, second = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo;
  // An activation with beta != 0: the product goes to a dense temporary
  // first, then C = 1 * tmp + beta * C (cublasLtMatrixTransform).
  cublasLtMatrixLayout_t dense = nullptr;
  cublasLtMatrixTransformDesc_t transform = nullptr;
};

struct Gemms {
  std::mutex mutex;
  cublasLtHandle_t handle = nullptr;
  void *workspace = nullptr;
  std::unordered_map<GemmKey, std::unique_ptr<Entry>, GemmKeyHash> cache;
};

Gemms &gemms() {
  static auto *g = new Gemms; // never destroyed (see Cuda.cpp)
  return *g;
}

/// Creates `entry`'s matmul descriptor: compute and scale types,
/// transposes, epilogue (and the bias type and pointer it reads).
void createDesc(Entry &entry, const GemmArgs &args) {
  const GemmPlan &plan = entry.plan;
  checkLt(cublasLtMatmulDescCreate(&entry.desc, plan.compute, plan.scaleType),
          "cublasLtMatmulDescCreate", args);
  auto setDesc = [&](cublasLtMatmulDescAttributes_t attribute,
                     const void *value, size_t size, const char *what) {
    checkLt(cublasLtMatmulDescSetAttribute(entry.desc, attribute, value, size),
            what, args);
  };
  setDesc(CUBLASLT_MATMUL_DESC_TRANSA, &plan.transFirst,
          sizeof(plan.transFirst), "cublasLtMatmulDescSetAttribute(TRANSA)");
  setDesc(CUBLASLT_MATMUL_DESC_TRANSB, &plan.transSecond,
          sizeof(plan.transSecond), "cublasLtMatmulDescSetAttribute(TRANSB)");
  setDesc(CUBLASLT_MATMUL_DESC_EPILOGUE, &plan.epilogue, sizeof(plan.epilogue),
          "cublasLtMatmulDescSetAttribute(EPILOGUE)");
  if (plan.usesBias) {
    setDesc(CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &plan.biasType,
            sizeof(plan.biasType),
            "cublasLtMatmulDescSetAttribute(BIAS_DATA_TYPE)");
    // The heuristic reads the pointer for its alignment.
    setDesc(CUBLASLT_MATMUL_DESC_BIAS_POINTER, &args.bias, sizeof(args.bias),
            "cublasLtMatmulDescSetAttribute(BIAS_POINTER)");
  }
}

/// Creates `entry`'s matrix layouts; with `activationWithBeta` also the
/// dense temporary's layout and the transform that adds it to C.
void createLayouts(Entry &entry, const GemmArgs &args,
                   bool activationWithBeta) {
  const GemmPlan &plan = entry.plan;
  entry.first = makeLayout(plan.first, args);
  entry.second = makeLayout(plan.second, args);
  entry.c = makeLayout(plan.c, args);
  if (!activationWithBeta)
    return;
  LtLayout dense = plan.c;
  dense.ld = int64_t(dense.rows);
  dense.batchStride =
      dense.batchCount > 1 ? int64_t(dense.rows * dense.cols) : 0;
  entry.dense = makeLayout(dense, args);
  checkLt(cublasLtMatrixTransformDescCreate(&entry.transform, CUDA_R_32F),
          "cublasLtMatrixTransformDescCreate", args);
}

/// Sets `entry`'s algorithm: cuBLASLt's first choice for the workspace and
/// the pointers' alignments (fatal when it has none).
void chooseAlgo(Gemms &g, Entry &entry, const GemmArgs &args,
                bool activationWithBeta) {
  const GemmPlan &plan = entry.plan;
  cublasLtMatmulPreference_t preference = nullptr;
  checkLt(cublasLtMatmulPreferenceCreate(&preference),
          "cublasLtMatmulPreferenceCreate", args);
  auto setPreference = [&](cublasLtMatmulPreferenceAttributes_t attribute,
                           const void *value, size_t size) {
    checkLt(cublasLtMatmulPreferenceSetAttribute(preference, attribute, value,
                                                 size),
            "cublasLtMatmulPreferenceSetAttribute", args);
  };
  uint64_t maxWorkspace = workspaceBytes;
  setPreference(CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &maxWorkspace,
                sizeof(maxWorkspace));
  setPreference(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &plan.alignFirst,
                sizeof(plan.alignFirst));
  setPreference(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &plan.alignSecond,
                sizeof(plan.alignSecond));
  // With the temporary, D is the (256-byte aligned) temporary.
  uint32_t alignD = activationWithBeta ? 256u : plan.alignC;
  setPreference(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &alignD,
                sizeof(alignD));
  setPreference(CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &alignD,
                sizeof(alignD));
  cublasLtMatmulHeuristicResult_t result = {};
  int found = 0;
  cublasLtMatrixLayout_t outLayout = activationWithBeta ? entry.dense : entry.c;
  checkLt(cublasLtMatmulAlgoGetHeuristic(g.handle, entry.desc, entry.first,
                                         entry.second, outLayout, outLayout,
                                         preference, 1, &result, &found),
          "cublasLtMatmulAlgoGetHeuristic", args);
  cublasLtMatmulPreferenceDestroy(preference);
  if (found < 1 || result.state != CUBLAS_STATUS_SUCCESS)
    fatal("tp_rt_gemm: cuBLASLt has no algorithm for " + describeGemm(args));
  entry.algo = result.algo;
}

/// The cached descriptors and algorithm for `args`' shape, created on first
/// use.
Entry &entryFor(Gemms &g, const GemmArgs &args, bool activationWithBeta) {
  GemmKey key = gemmKey(args, allowTf32());
  auto found = g.cache.find(key);
  if (found != g.cache.end())
    return *found->second;

  auto entry = std::make_unique<Entry>();
  std::string error;
  if (!planGemm(args, allowTf32(), entry->plan, error))
    fatal(error);
  createDesc(*entry, args);
  createLayouts(*entry, args, activationWithBeta);
  chooseAlgo(g, *entry, args, activationWithBeta);
  Entry &ref = *entry;
  g.cache.emplace(key, std::move(entry));
  return ref;
}

/// Creates the process's cuBLASLt handle and workspace on its first GEMM;
/// false (the capture failed) when that first GEMM is being captured.
bool ensureHandle(Gemms &g, const GemmArgs &args) {
  if (g.handle)
    return true;
  // Created once, outside any capture: a workspace allocated inside one
  // would vanish with a discarded capture.
  if (capturingHere()) {
    captureFailed("tp_rt_gemm: the process's first GEMM ran inside "
                  "a CUDA graph capture (cuBLASLt's handle and "
                  "workspace are created outside, on a plain call)");
    return false;
  }
  checkLt(cublasLtCreate(&g.handle), "cublasLtCreate", args);
  checkCuda(cudaMalloc(&g.workspace, workspaceBytes),
            "tp_rt_gemm: cudaMalloc(workspace)");
  return true;
}

/// Enqueues the GEMM on the stream: C = act(A B + bias) + beta C in one
/// matmul, or, for an activation with beta != 0, through a dense temporary
/// (matmul, then C = 1 * tmp + beta * C).
void enqueueGemm(Gemms &g, const Entry &entry, const GemmArgs &args,
                 bool activationWithBeta) {
  auto s = reinterpret_cast<cudaStream_t>(stream());
  const float one = 1.0f, zero = 0.0f;
  const void *a = args.a, *b = args.b;
  void *c = args.c;
  const float beta = args.beta;
  if (!activationWithBeta) {
    checkLt(cublasLtMatmul(g.handle, entry.desc, &one, b, entry.first, a,
                           entry.second, &beta, c, entry.c, c, entry.c,
                           &entry.algo, g.workspace, workspaceBytes, s),
            "cublasLtMatmul", args);
    return;
  }
  // C = 1 * act(A B + bias) + beta * C, through a dense temporary.
  const size_t elementBytes = args.dtype == TP_F32 ? 4 : 2;
  void *tmp = nullptr;
  checkCuda(cudaMallocAsync(
                &tmp, size_t(args.batch * args.m * args.n) * elementBytes, s),
            "tp_rt_gemm: cudaMallocAsync(temporary)");
  checkLt(cublasLtMatmul(g.handle, entry.desc, &one, b, entry.first, a,
                         entry.second, &zero, tmp, entry.dense, tmp,
                         entry.dense, &entry.algo, g.workspace, workspaceBytes,
                         s),
          "cublasLtMatmul", args);
  checkLt(cublasLtMatrixTransform(g.handle, entry.transform, &one, tmp,
                                  entry.dense, &beta, c, entry.c, c, entry.c,
                                  s),
          "cublasLtMatrixTransform", args);
  checkCuda(cudaFreeAsync(tmp, s), "tp_rt_gemm: cudaFreeAsync(temporary)");
}

} // namespace

extern "C" void tp_rt_gemm(int32_t dtype, int32_t trans_a, int32_t trans_b,
                           int64_t batch, int64_t m, int64_t n, int64_t k,
                           const void *a, int64_t lda, int64_t stride_a,
                           const void *b, int64_t ldb, int64_t stride_b,
                           void *c, int64_t ldc, int64_t stride_c,
                           const void *bias, int32_t epilogue, float beta) {
  ensureContext();
  const GemmArgs args{dtype, trans_a,  trans_b,  batch,    m,   n,        k,
                      a,     lda,      stride_a, b,        ldb, stride_b, c,
                      ldc,   stride_c, bias,     epilogue, beta};

  // Validate every call (cheap), not only the first of a shape.
  GemmPlan check;
  std::string error;
  if (!planGemm(args, allowTf32(), check, error))
    fatal(error);
  if (check.empty)
    return;

  Gemms &g = gemms();
  std::lock_guard<std::mutex> lock(g.mutex);
  if (!ensureHandle(g, args))
    return;
  const bool activationWithBeta =
      tp::rt::epilogueHasActivation(epilogue) && beta != 0.0f;
  Entry &entry = entryFor(g, args, activationWithBeta);
  if (entry.plan.usesBias)
    checkLt(cublasLtMatmulDescSetAttribute(entry.desc,
                                           CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                           &bias, sizeof(bias)),
            "cublasLtMatmulDescSetAttribute(BIAS_POINTER)", args);
  enqueueGemm(g, entry, args, activationWithBeta);
}
