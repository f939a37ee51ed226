//===- GpuLogicTest.cpp - The GPU runtime's pure logic, without a GPU -----===//
//
//  - tp_rt_gemm's mapping to cuBLASLt (GemmPlan): checked by executing the
//    plan with a host emulation of cuBLASLt's column-major matmul and
//    comparing with a direct row-major reference, for every transpose pair,
//    batches, padded leading dimensions, bias and activations; the enum
//    values passed; argument errors; the heuristic cache key;
//  - the all_gather / reduce_scatter packing as 2-D copies, against
//    Common/Layout.h's transposeBlocks;
//  - the stream sync policy; memref geometry for host registration and TMA;
//  - the launcher's device ArgumentMemory over fake mgpu* functions;
//  - reading tp_manifest from an ELF file without loading it;
//  - tp-launch's CUDA graph of a step (StepGraph) over fake tp_rt_graph_*
//    functions: capture on the second call and replay, the results struct
//    restored on replay, refusal and failed capture falling back to plain
//    calls (the discarded capture's results forgotten), off.
//
// Links no CUDA library (CUDA headers only).
//
//===----------------------------------------------------------------------===//

#include "Common/DType.h"
#include "Common/Layout.h"
#include "GPU/DeviceLayout.h"
#include "GPU/GemmPlan.h"
#include "Launch/ArgumentMemory.h"
#include "Launch/ElfManifest.h"
#include "Launch/StepGraph.h"
#include "TestUtil.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fstream>
#include <vector>

using namespace tp;
using namespace tp::gpu;

namespace {

//===----------------------------------------------------------------------===//
// GEMM plan
//===----------------------------------------------------------------------===//

float gelu(float x) {
  return 0.5f * x *
         (1.0f + std::tanh(0.7978845608f * (x + 0.044715f * x * x * x)));
}

float activate(int32_t epilogue, float x) {
  if (epilogue == TP_EPILOGUE_GELU || epilogue == TP_EPILOGUE_BIAS_GELU)
    return gelu(x);
  if (epilogue == TP_EPILOGUE_RELU || epilogue == TP_EPILOGUE_BIAS_RELU)
    return x > 0 ? x : 0;
  return x;
}

bool hasBias(int32_t e) {
  return e == TP_EPILOGUE_BIAS || e == TP_EPILOGUE_BIAS_GELU ||
         e == TP_EPILOGUE_BIAS_RELU;
}

/// The row-major semantics tp_rt_gemm promises (f32 data).
void referenceGemm(const GemmArgs &g, const float *a, const float *b, float *c,
                   const float *bias) {
  for (int64_t t = 0; t < g.batch; ++t)
    for (int64_t i = 0; i < g.m; ++i)
      for (int64_t j = 0; j < g.n; ++j) {
        float sum = 0;
        for (int64_t p = 0; p < g.k; ++p) {
          float x = g.transA ? a[t * g.strideA + p * g.lda + i]
                             : a[t * g.strideA + i * g.lda + p];
          float y = g.transB ? b[t * g.strideB + j * g.ldb + p]
                             : b[t * g.strideB + p * g.ldb + j];
          sum += x * y;
        }
        if (hasBias(g.epilogue))
          sum += bias[j];
        float &out = c[t * g.strideC + i * g.ldc + j];
        out = g.beta * out + activate(g.epilogue, sum);
      }
}

/// What cuBLASLt does with the plan (column-major; D = act(op(A') op(B') +
/// beta C + bias[row])), with the plan's first operand = `first` etc.
void emulateLt(const GemmPlan &plan, const float *first, const float *second,
               float *c, const float *bias, float beta, int32_t epilogue) {
  const LtLayout &lc = plan.c;
  const uint64_t mPrime = lc.rows, nPrime = lc.cols;
  // K' is the inner dimension of op(first).
  const uint64_t kPrime =
      plan.transFirst == CUBLAS_OP_N ? plan.first.cols : plan.first.rows;
  auto element = [](const LtLayout &l, cublasOperation_t op, const float *x,
                    int64_t batch, uint64_t r, uint64_t col) {
    // op(X)(r, col) of column-major X.
    uint64_t rr = op == CUBLAS_OP_N ? r : col, cc = op == CUBLAS_OP_N ? col : r;
    return x[batch * l.batchStride + int64_t(rr) + int64_t(cc) * l.ld];
  };
  for (int64_t t = 0; t < lc.batchCount; ++t)
    for (uint64_t i = 0; i < mPrime; ++i)
      for (uint64_t j = 0; j < nPrime; ++j) {
        float sum = 0;
        for (uint64_t p = 0; p < kPrime; ++p)
          sum += element(plan.first, plan.transFirst, first, t, i, p) *
                 element(plan.second, plan.transSecond, second, t, p, j);
        float &out = c[t * lc.batchStride + int64_t(i) + int64_t(j) * lc.ld];
        float v = sum + beta * out + (plan.usesBias ? bias[i] : 0.0f);
        out = activate(epilogue, v);
      }
}

std::vector<float> randomVector(size_t n, unsigned &seed) {
  std::vector<float> v(n);
  for (float &x : v) {
    seed = seed * 1103515245u + 12345u;
    x = float(int((seed >> 16) % 9) - 4) * 0.25f;
  }
  return v;
}

void checkPlanAgainstReference(int32_t transA, int32_t transB, int64_t batch,
                               int32_t epilogue, float beta, int64_t pad) {
  GemmArgs g;
  g.dtype = TP_F32;
  g.transA = transA;
  g.transB = transB;
  g.batch = batch;
  g.m = 5;
  g.n = 7;
  g.k = 3;
  g.lda = (transA ? g.m : g.k) + pad;
  g.ldb = (transB ? g.k : g.n) + pad;
  g.ldc = g.n + pad;
  g.strideA = (transA ? g.k : g.m) * g.lda + pad;
  g.strideB = (transB ? g.n : g.k) * g.ldb;
  g.strideC = g.m * g.ldc + 2 * pad;
  g.epilogue = epilogue;
  g.beta = beta;
  unsigned seed = unsigned(transA * 7 + transB * 13 + batch * 17 + epilogue);
  std::vector<float> a = randomVector(size_t(batch * g.strideA + 64), seed);
  std::vector<float> b = randomVector(size_t(batch * g.strideB + 64), seed);
  std::vector<float> c = randomVector(size_t(batch * g.strideC + 64), seed);
  std::vector<float> bias = randomVector(size_t(g.n), seed);
  g.a = a.data();
  g.b = b.data();
  g.c = c.data();
  g.bias = hasBias(epilogue) ? bias.data() : nullptr;
  GemmPlan plan;
  std::string error;
  TP_CHECK_MSG(planGemm(g, false, plan, error), error);
  std::vector<float> expected = c, got = c;
  referenceGemm(g, a.data(), b.data(), expected.data(), bias.data());
  // cuBLASLt's first operand is our B, the second our A.
  emulateLt(plan, b.data(), a.data(), got.data(), bias.data(), beta, epilogue);
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i)
    worst = std::fmax(worst, std::fabs(got[i] - expected[i]));
  TP_CHECK_MSG(worst < 1e-5, describeGemm(g) + " pad " + std::to_string(pad) +
                                 " max error " + std::to_string(worst));
}

void testGemmMapping() {
  for (int32_t ta : {0, 1})
    for (int32_t tb : {0, 1})
      for (int64_t batch : {1, 3})
        for (int64_t pad : {0, 3}) {
          for (int32_t e : {0, 1}) // no activation: any beta
            for (float beta : {0.0f, 0.5f})
              checkPlanAgainstReference(ta, tb, batch, e, beta, pad);
          for (int32_t e : {2, 3, 4, 5}) // activations: the beta == 0 path
            checkPlanAgainstReference(ta, tb, batch, e, 0.0f, pad);
        }
}

GemmArgs simpleArgs() {
  static float buffer[4096] __attribute__((aligned(256)));
  GemmArgs g;
  g.dtype = TP_BF16;
  g.m = 64;
  g.n = 768;
  g.k = 3072;
  g.lda = 3072;
  g.ldb = 768;
  g.ldc = 768;
  g.a = buffer;
  g.b = buffer + 64;
  g.c = buffer + 128;
  g.bias = buffer + 256;
  return g;
}

void testGemmPlanDetails() {
  GemmArgs g = simpleArgs();
  GemmPlan p;
  std::string error;
  TP_CHECK(planGemm(g, false, p, error));
  // Swap trick: first = B (n x k col-major), second = A, D = n x m.
  TP_CHECK(p.first == (LtLayout{CUDA_R_16BF, 768, 3072, 768, 1, 0}));
  TP_CHECK(p.second == (LtLayout{CUDA_R_16BF, 3072, 64, 3072, 1, 0}));
  TP_CHECK(p.c == (LtLayout{CUDA_R_16BF, 768, 64, 768, 1, 0}));
  TP_CHECK(p.transFirst == CUBLAS_OP_N && p.transSecond == CUBLAS_OP_N);
  TP_CHECK(p.compute == CUBLAS_COMPUTE_32F && p.scaleType == CUDA_R_32F);
  TP_CHECK(p.alignFirst == 256 && p.alignSecond == 256 && p.alignC == 256);
  // Batched attention scores: Q K^T, [S, 64] x [S, 64]^T per head.
  GemmArgs s = g;
  s.dtype = TP_F16;
  s.transB = 1;
  s.batch = 12;
  s.m = s.n = 128;
  s.k = 64;
  s.lda = s.ldb = 64;
  s.ldc = 128;
  s.strideA = s.strideB = 128 * 64;
  s.strideC = 128 * 128;
  TP_CHECK(planGemm(s, false, p, error));
  TP_CHECK(p.transFirst == CUBLAS_OP_T && p.transSecond == CUBLAS_OP_N);
  TP_CHECK(p.first == (LtLayout{CUDA_R_16F, 64, 128, 64, 12, 128 * 64}));
  TP_CHECK(p.c == (LtLayout{CUDA_R_16F, 128, 128, 128, 12, 128 * 128}));
  // Epilogues and compute types.
  const cublasLtEpilogue_t lt[] = {
      CUBLASLT_EPILOGUE_DEFAULT, CUBLASLT_EPILOGUE_BIAS,
      CUBLASLT_EPILOGUE_GELU,    CUBLASLT_EPILOGUE_GELU_BIAS,
      CUBLASLT_EPILOGUE_RELU,    CUBLASLT_EPILOGUE_RELU_BIAS};
  for (int32_t e = 0; e <= 5; ++e) {
    GemmArgs x = g;
    x.epilogue = e;
    TP_CHECK(planGemm(x, false, p, error));
    TP_CHECK(p.epilogue == lt[e]);
    TP_CHECK(p.usesBias == hasBias(e));
    TP_CHECK(!p.usesBias || p.biasType == CUDA_R_16BF);
  }
  GemmArgs f = g;
  f.dtype = TP_F32;
  TP_CHECK(planGemm(f, false, p, error) && p.compute == CUBLAS_COMPUTE_32F &&
           p.first.type == CUDA_R_32F);
  TP_CHECK(planGemm(f, true, p, error) &&
           p.compute == CUBLAS_COMPUTE_32F_FAST_TF32);
  // Alignment of an offset pointer.
  GemmArgs o = g;
  o.a = static_cast<const char *>(g.a) + 2;
  TP_CHECK(planGemm(o, false, p, error) && p.alignSecond == 2);
  TP_CHECK(pointerAlignment(reinterpret_cast<void *>(0x1040)) == 64);
  TP_CHECK(pointerAlignment(reinterpret_cast<void *>(0x1000)) == 256);
  TP_CHECK(pointerAlignment(nullptr) == 256);
}

void gemmFails(GemmArgs g, const std::string &message) {
  GemmPlan p;
  std::string error;
  TP_CHECK_MSG(!planGemm(g, false, p, error), "accepted: " + message);
  TP_CHECK_CONTAINS(error, message);
  TP_CHECK_CONTAINS(error, "tp_rt_gemm: ");
}

void testGemmErrors() {
  GemmArgs g = simpleArgs();
  GemmArgs x = g;
  x.dtype = TP_F64;
  gemmFails(x, "dtype 1 is not supported (0 f32, 2 f16, 3 bf16)");
  x = g;
  x.lda = 100;
  gemmFails(x, "lda (100) is smaller than the 3072 columns of A as stored");
  x = g;
  x.transB = 1;
  gemmFails(x, "ldb (768) is smaller than the 3072 columns of B as stored");
  x = g;
  x.ldc = 10;
  gemmFails(x, "ldc (10) is smaller than the 768 columns of C");
  x = g;
  x.epilogue = 6;
  gemmFails(x, "epilogue 6 is unknown");
  x = g;
  x.epilogue = TP_EPILOGUE_BIAS_GELU;
  x.bias = nullptr;
  gemmFails(x, "epilogue bias+gelu needs a bias pointer");
  x = g;
  x.k = 0;
  gemmFails(x, "k = 0 is not supported");
  x = g;
  x.m = -1;
  gemmFails(x, "negative size");
  x = g;
  x.transA = 2;
  gemmFails(x, "trans_a / trans_b must be 0 or 1");
  x = g;
  x.batch = 2;
  x.strideA = x.strideB = 0; // broadcast weights are fine...
  x.strideC = 0;             // ...a shared output is not
  gemmFails(x, "batch strides must be >= 0 for A and B and > 0 for C");
  x = g;
  x.b = nullptr;
  gemmFails(x, "a null matrix pointer");
  // Nothing to do: not an error, whatever the pointers.
  x = g;
  x.m = 0;
  x.a = x.b = nullptr;
  GemmPlan p;
  std::string error;
  TP_CHECK(planGemm(x, false, p, error) && p.empty);
}

void testGemmKey() {
  GemmArgs g = simpleArgs();
  GemmKeyHash hash;
  GemmKey base = gemmKey(g, false);
  // Other pointers with the same alignment, another beta: same entry.
  GemmArgs moved = g;
  moved.a = static_cast<const char *>(g.a) + 512;
  moved.beta = 1.0f;
  TP_CHECK(gemmKey(moved, false) == base);
  TP_CHECK(hash(gemmKey(moved, false)) == hash(base));
  // Strides do not matter for one matrix.
  GemmArgs strided = g;
  strided.strideA = 12345;
  TP_CHECK(gemmKey(strided, false) == base);
  // Everything else does.
  auto differs = [&](GemmArgs x, bool tf32 = false) {
    GemmKey k = gemmKey(x, tf32);
    return !(k == base);
  };
  GemmArgs x = g;
  x.lda = 4096;
  TP_CHECK(differs(x));
  x = g;
  x.m = 65;
  TP_CHECK(differs(x));
  x = g;
  x.transA = 1;
  x.lda = 64;
  TP_CHECK(differs(x));
  x = g;
  x.epilogue = TP_EPILOGUE_BIAS;
  TP_CHECK(differs(x));
  x = g;
  x.dtype = TP_F16;
  TP_CHECK(differs(x));
  x = g;
  x.batch = 2;
  x.strideA = x.strideB = x.strideC = 1 << 20;
  TP_CHECK(differs(x));
  GemmArgs y = x;
  y.strideC = 2 << 20;
  TP_CHECK(!(gemmKey(y, false) == gemmKey(x, false)));
  x = g;
  x.c = static_cast<char *>(g.c) + 16; // 16-byte aligned only
  TP_CHECK(differs(x));
  // TF32 matters for f32 only.
  TP_CHECK(!differs(g, true));
  x = g;
  x.dtype = TP_F32;
  TP_CHECK(!(gemmKey(x, true) == gemmKey(x, false)));
  // An activation with beta != 0 takes the two-pass path: its own entry.
  x = g;
  x.epilogue = TP_EPILOGUE_GELU;
  GemmArgs z = x;
  z.beta = 0.5f;
  TP_CHECK(!(gemmKey(x, false) == gemmKey(z, false)));
  x.epilogue = TP_EPILOGUE_BIAS; // no activation: beta is free
  z.epilogue = TP_EPILOGUE_BIAS;
  TP_CHECK(gemmKey(x, false) == gemmKey(z, false));
}

//===----------------------------------------------------------------------===//
// Collective packing as 2-D copies
//===----------------------------------------------------------------------===//

void testCopyPlans() {
  for (int size : {1, 2, 3, 4})
    for (int64_t outer : {1, 2, 5})
      for (int64_t chunk : {1, 3, 8})
        for (size_t es : {size_t(2), size_t(4)}) {
          const size_t bytes = size_t(outer * size * chunk) * es;
          std::vector<unsigned char> src(bytes), viaCopies(bytes, 0),
              viaTranspose(bytes, 1);
          for (size_t i = 0; i < bytes; ++i)
            src[i] = static_cast<unsigned char>(i * 31 + 7);
          // all_gather: scratch [size][outer][chunk] -> dst
          // [outer][size][chunk]
          for (const Copy2D &c : gatherUnpackCopies(outer, size, chunk, es))
            applyCopy2D(c, src.data(), viaCopies.data());
          rt::transposeBlocks(src.data(), viaTranspose.data(), size, outer,
                              size_t(chunk) * es);
          TP_CHECK(viaCopies == viaTranspose);
          // reduce_scatter: src [outer][size][chunk] -> scratch
          // [size][outer][chunk]
          std::fill(viaCopies.begin(), viaCopies.end(), 0);
          for (const Copy2D &c : scatterPackCopies(outer, size, chunk, es))
            applyCopy2D(c, src.data(), viaCopies.data());
          rt::transposeBlocks(src.data(), viaTranspose.data(), outer, size,
                              size_t(chunk) * es);
          TP_CHECK(viaCopies == viaTranspose);
          TP_CHECK(gatherUnpackCopies(outer, size, chunk, es).size() ==
                   size_t(size));
        }
  // The pitches cudaMemcpy2DAsync gets (width <= pitch always).
  auto copies = gatherUnpackCopies(4, 2, 3, 4);
  TP_CHECK(copies[1].srcOffset == 4 * 12 && copies[1].srcPitch == 12 &&
           copies[1].dstOffset == 12 && copies[1].dstPitch == 24 &&
           copies[1].width == 12 && copies[1].height == 4);
}

//===----------------------------------------------------------------------===//
// Sync policy, memref geometry
//===----------------------------------------------------------------------===//

void testSyncPolicy() {
  SyncPolicy p;
  TP_CHECK(!p.mustWait()); // device-only work: the sync can be skipped
  p.hostTransferEnqueued();
  TP_CHECK(p.mustWait());
  p.waited();
  TP_CHECK(!p.mustWait());
  p.hostVisibleMemoryAdded();
  p.hostVisibleMemoryAdded();
  p.waited();
  TP_CHECK(p.mustWait()); // managed / registered memory: always wait
  p.hostVisibleMemoryRemoved();
  TP_CHECK(p.mustWait());
  p.hostVisibleMemoryRemoved();
  TP_CHECK(!p.mustWait());
  p.hostVisibleMemoryRemoved(); // never negative
  TP_CHECK(!p.mustWait());
  SyncPolicy strict(true);
  TP_CHECK(strict.mustWait());
}

void testMemRefGeometry() {
  static float data[2 * 3 * 4];
  int64_t dense[3 + 2 * 3] = {
      int64_t(intptr_t(data)), int64_t(intptr_t(data)), 2, 2, 3, 4, 12, 4, 1};
  MemRefView v = readMemRef(3, dense);
  TP_CHECK(v.aligned == reinterpret_cast<char *>(data) && v.offset == 2);
  TP_CHECK((v.sizes == std::vector<int64_t>{2, 3, 4}));
  void *start = nullptr;
  size_t bytes = 0;
  std::string error;
  TP_CHECK(denseRegion(v, 4, start, bytes, error));
  TP_CHECK(start == reinterpret_cast<char *>(data) + 8 && bytes == 96);
  int64_t strided[3 + 2 * 2] = {0, int64_t(intptr_t(data)), 0, 3, 4, 8, 1};
  TP_CHECK(!denseRegion(readMemRef(2, strided), 4, start, bytes, error));
  TP_CHECK_CONTAINS(error, "dim 0 has stride 8, expected 4");

  // TMA: dims innermost first, byte strides, box reversed (MLIR's layout).
  int64_t box[3] = {1, 2, 4};
  TensorMapGeometry g;
  TP_CHECK(tensorMapGeometry(v, 9 /* BFLOAT16 */, box, g, error));
  TP_CHECK(g.globalDim[0] == 4 && g.globalDim[1] == 3 && g.globalDim[2] == 2);
  TP_CHECK(g.globalStrides[0] == 4 * 2 && g.globalStrides[1] == 12 * 2);
  TP_CHECK(g.boxDim[0] == 4 && g.boxDim[1] == 2 && g.boxDim[2] == 1);
  TP_CHECK(!tensorMapGeometry(v, 13, box, g, error));
  TP_CHECK_CONTAINS(error, "unsupported CUtensorMapDataType 13");
}

//===----------------------------------------------------------------------===//
// The launcher's device memory over fake mgpu* functions
//===----------------------------------------------------------------------===//

struct FakeDevice {
  int allocs = 0, frees = 0, copies = 0, syncs = 0;
  uint64_t lastAlloc = 0;
};
FakeDevice fake;

void *fakeAlloc(uint64_t bytes, void *, bool shared) {
  TP_CHECK(!shared);
  ++fake.allocs;
  fake.lastAlloc = bytes;
  return std::malloc(bytes);
}
void fakeFree(void *p, void *) {
  ++fake.frees;
  std::free(p);
}
void fakeCopy(void *dst, void *src, size_t bytes, void *) {
  ++fake.copies;
  std::memcpy(dst, src, bytes);
}
void fakeSync() { ++fake.syncs; }

void testDeviceMemory() {
  launch::DeviceFunctions f;
  f.memAlloc = fakeAlloc;
  f.memFree = fakeFree;
  f.memcpy = fakeCopy;
  f.sync = fakeSync;
  auto memory = launch::createDeviceMemory(f);
  TP_CHECK(!memory->hostAccessible());
  TP_CHECK(std::string(memory->name()) == "cuda");
  std::string error;
  void *empty = memory->allocate(0, error);
  TP_CHECK(empty && fake.lastAlloc == 64); // never a null 0-byte buffer
  void *buffer = memory->allocate(16, error);
  float in[4] = {1, 2, 3, 4}, out[4] = {};
  TP_CHECK(memory->copyIn(buffer, in, sizeof(in), error));
  TP_CHECK(memory->copyOut(out, buffer, sizeof(out), error));
  TP_CHECK(std::memcmp(in, out, sizeof(in)) == 0);
  TP_CHECK(fake.copies == 2 && fake.syncs == 2); // each copy waits
  memory->release(buffer);
  memory->freeModelBuffer(empty);
  TP_CHECK(fake.allocs == 2 && fake.frees == 2);
}

//===----------------------------------------------------------------------===//
// tp_manifest from the ELF file
//===----------------------------------------------------------------------===//

void testElfManifest(const std::string &fixtures, const char *self) {
  for (const char *name : {"fixture_model_tp2.so", "fixture_gpu_tp2.so"}) {
    std::string path = fixtures + "/" + name;
    std::string text, error;
    TP_CHECK_MSG(launch::readElfString(path, text, error), path + ": " + error);
    // Same bytes as the loaded symbol. (dlopen of the GPU fixture would need
    // the GPU runtime, so only the CPU one is compared that way.)
    if (std::string(name).find("gpu") == std::string::npos) {
      void *handle = dlopen(path.c_str(), RTLD_LAZY | RTLD_LOCAL);
      TP_CHECK_MSG(handle, dlerror());
      if (handle) {
        const char *loaded =
            static_cast<const char *>(dlsym(handle, "tp_manifest"));
        TP_CHECK(loaded && text == loaded);
      }
      TP_CHECK(launch::manifestTarget(text) == "cpu");
    } else {
      TP_CHECK(launch::manifestTarget(text) == "gpu");
      TP_CHECK_CONTAINS(text, "\"tp_size\": 2");
    }
  }
  std::string text, error;
  TP_CHECK(!launch::readElfString(fixtures + "/no-such.so", text, error));
  TP_CHECK_CONTAINS(error, "cannot open file");
  std::string junk = fixtures + "/not-elf.so";
  std::ofstream(junk) << "hello";
  TP_CHECK(!launch::readElfString(junk, text, error));
  TP_CHECK_CONTAINS(error, "not an ELF file");
  TP_CHECK(!launch::readElfString(self, text, error));
  TP_CHECK_CONTAINS(error, "does not export tp_manifest");
  TP_CHECK(launch::manifestTarget("{\"target\": 3}").empty());
  TP_CHECK(launch::manifestTarget("{broken").empty());
}

//===----------------------------------------------------------------------===//
// The CUDA graph of a step (tp-launch)
//===----------------------------------------------------------------------===//

/// Fake tp_rt_graph_* functions that count what happens.
struct FakeGraph {
  int begins = 0, ends = 0, launches = 0, destroys = 0;
  bool refuse = false, failEnd = false;
  bool capturing = false;
  int graphToken = 0;
  launch::GraphFunctions functions() {
    launch::GraphFunctions f;
    f.begin = [this](std::string &why) {
      ++begins;
      if (refuse) {
        why = "collectives over host memory";
        return false;
      }
      capturing = true;
      return true;
    };
    f.end = [this](std::string &why) -> void * {
      ++ends;
      capturing = false;
      if (failEnd) {
        why = "mgpuMemcpy: a copy from or to host memory";
        return nullptr;
      }
      return &graphToken;
    };
    f.launch = [this](void *g) {
      TP_CHECK(g == &graphToken);
      ++launches;
    };
    f.destroy = [this](void *g) {
      TP_CHECK(g == &graphToken);
      ++destroys;
    };
    return f;
  }
};

void testStepGraph() {
  using launch::StepGraph;
  // Success: call 0 plain, call 1 captured and launched, later calls replay
  // with the captured results written back.
  {
    FakeGraph fake;
    std::vector<int64_t> results(3, 0);
    int entries = 0, capturedEntries = 0;
    auto entry = [&] {
      ++entries;
      capturedEntries += fake.capturing;
      results = {int64_t(0x1000), int64_t(0x1000), entries};
    };
    {
      StepGraph graph(true, fake.functions());
      TP_CHECK(graph.run(0, entry, results).empty());
      TP_CHECK(graph.state() == StepGraph::State::NotYet);
      TP_CHECK(entries == 1 && fake.begins == 0);
      TP_CHECK(graph.run(1, entry, results).empty());
      TP_CHECK(graph.state() == StepGraph::State::Replaying);
      TP_CHECK(entries == 2 && capturedEntries == 1 && fake.launches == 1);
      for (int call = 2; call < 5; ++call) {
        std::fill(results.begin(), results.end(), 0); // the launcher's reset
        TP_CHECK(graph.run(call, entry, results).empty());
        TP_CHECK(results[0] == 0x1000 && results[2] == 2);
      }
      TP_CHECK(entries == 2 && fake.launches == 4 && fake.begins == 1);
      TP_CHECK(fake.destroys == 0);
    }
    TP_CHECK(fake.destroys == 1); // freed with the StepGraph
  }
  // Capture refused: every call plain, one note with the reason.
  {
    FakeGraph fake;
    fake.refuse = true;
    std::vector<int64_t> results(1, 0);
    int entries = 0;
    StepGraph graph(true, fake.functions());
    graph.run(
        0, [&] { ++entries; }, results);
    std::string note = graph.run(
        1, [&] { ++entries; }, results);
    TP_CHECK_CONTAINS(note, "CUDA graph not used: collectives over host");
    TP_CHECK(graph
                 .run(
                     2, [&] { ++entries; }, results)
                 .empty());
    TP_CHECK(entries == 3 && fake.launches == 0 && fake.ends == 0);
    TP_CHECK(graph.state() == StepGraph::State::Unavailable);
    TP_CHECK_CONTAINS(StepGraph::describe(graph.state()), "unavailable");
  }
  // Capture fails: the captured results are forgotten before the call runs
  // again plainly; later calls stay plain.
  {
    FakeGraph fake;
    fake.failEnd = true;
    std::vector<int64_t> results(2, 0);
    int entries = 0;
    bool sawStaleResults = false;
    auto entry = [&] {
      ++entries;
      if (!fake.capturing && results[0] != 0)
        sawStaleResults = true;
      results = {fake.capturing ? int64_t(0xdead) : int64_t(0x2000), 1};
    };
    StepGraph graph(true, fake.functions());
    graph.run(0, entry, results);
    std::fill(results.begin(), results.end(), 0);
    std::string note = graph.run(1, entry, results);
    TP_CHECK_CONTAINS(note, "CUDA graph capture failed (mgpuMemcpy");
    TP_CHECK_CONTAINS(note, "plain calls");
    TP_CHECK(!sawStaleResults);
    TP_CHECK(results[0] == 0x2000); // the plain rerun's
    TP_CHECK(entries == 3 && fake.launches == 0);
    graph.run(2, entry, results);
    TP_CHECK(entries == 4 && fake.begins == 1);
    TP_CHECK(graph.state() == StepGraph::State::CaptureFailed);
    TP_CHECK_CONTAINS(graph.reason(), "host memory");
  }
  // Off (--no-cuda-graph): never asks the runtime.
  {
    FakeGraph fake;
    std::vector<int64_t> results(1, 0);
    int entries = 0;
    StepGraph graph(false, fake.functions());
    for (int call = 0; call < 3; ++call)
      graph.run(
          call, [&] { ++entries; }, results);
    TP_CHECK(entries == 3 && fake.begins == 0 && fake.launches == 0);
    TP_CHECK(graph.state() == StepGraph::State::Off);
  }
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: tp_gpu_logic_test FIXTURE_DIR\n");
    return 2;
  }
  testGemmMapping();
  testGemmPlanDetails();
  testGemmErrors();
  testGemmKey();
  testCopyPlans();
  testSyncPolicy();
  testMemRefGeometry();
  testDeviceMemory();
  testElfManifest(argv[1], argv[0]);
  testStepGraph();
  return tp::test::testResult("tp_gpu_logic_test");
}
