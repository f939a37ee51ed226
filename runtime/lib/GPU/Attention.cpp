//===- Attention.cpp - tp_rt_attention through cuDNN's fused SDPA ---------===//
//
// cuDNN is loaded on the first call (Cudnn.h: TP_CUDNN_LIBRARY, else
// libcudnn.so.9). Per shape (attentionKey) the graph, its execution plan and
// its workspace are built once, outside any CUDA graph capture, and cached;
// a shape cuDNN declines is remembered as declined. Every failure returns 0
// -- the compiled program then runs the generated kernels -- and, with
// TP_ATTENTION_VERBOSE=1, prints its reason once; so does the first fused
// run of each shape.
//
// NOTE: this path has never run on a GPU (no GPU machine in any session so
// far); the descriptors are checked against the real library without one
// (runtime.cudnn_descriptors), the fallback logic with a fake library.
//
//===----------------------------------------------------------------------===//

#include "tp/runtime/tp_runtime_gpu.h"

#ifndef TP_HAVE_CUDNN
// Built without cuDNN's headers: always the generated kernels.
extern "C" int32_t tp_rt_attention(int32_t, int64_t, int64_t, int64_t, int64_t,
                                   int64_t, const void *, int64_t, int64_t,
                                   int64_t, const void *, int64_t, int64_t,
                                   int64_t, const void *, int64_t, int64_t,
                                   int64_t, const void *, int64_t, int64_t,
                                   int64_t, void *, int64_t, int64_t, int64_t,
                                   float, int32_t) {
  return 0;
}
#else

#include "GPU/Cuda.h"
#include "GPU/Cudnn.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

using namespace tp::gpu;

namespace {

struct Entry {
  std::unique_ptr<AttentionGraph> graph;
  void *workspace = nullptr;
  std::string declined; ///< why this shape runs the generated kernels
};

struct Attentions {
  std::mutex mutex;
  bool loadTried = false, loaded = false;
  std::string loadFailure;
  CudnnApi api;
  cudnnHandle_t handle = nullptr;
  std::map<std::string, std::unique_ptr<Entry>> cache;
  AttentionLog log{[] {
                     const char *v = std::getenv("TP_ATTENTION_VERBOSE");
                     return v && std::strcmp(v, "1") == 0;
                   }(),
                   [](const std::string &m) {
                     std::fprintf(stderr, "tp: %s\n", m.c_str());
                   }};
};

Attentions &attentions() {
  static auto *a = new Attentions; // never destroyed (see Cuda.cpp)
  return *a;
}

/// Builds the entry of a shape not seen yet (outside a capture).
std::unique_ptr<Entry> build(Attentions &a, const AttentionArgs &args) {
  auto entry = std::make_unique<Entry>();
  std::string reason;
  auto graph = std::make_unique<AttentionGraph>(a.api);
  if (!graph->buildOperations(args, reason)) {
    entry->declined = reason;
    return entry;
  }
  if (!a.handle) {
    cudnnStatus_t s = a.api.create(&a.handle);
    if (s != CUDNN_STATUS_SUCCESS) {
      a.handle = nullptr;
      entry->declined = std::string("cudnnCreate: ") + a.api.getErrorString(s);
      return entry;
    }
    s = a.api.setStream(a.handle, reinterpret_cast<cudaStream_t>(stream()));
    if (s != CUDNN_STATUS_SUCCESS) {
      entry->declined =
          std::string("cudnnSetStream: ") + a.api.getErrorString(s);
      return entry;
    }
  }
  if (!graph->buildPlan(a.handle, reason)) {
    entry->declined = reason;
    return entry;
  }
  if (graph->workspaceSize() > 0) {
    cudaError_t e =
        cudaMalloc(&entry->workspace, size_t(graph->workspaceSize()));
    if (e != cudaSuccess) {
      entry->workspace = nullptr;
      entry->declined =
          std::string("cudaMalloc(workspace): ") + cudaGetErrorString(e);
      return entry;
    }
  }
  entry->graph = std::move(graph);
  return entry;
}

} // namespace

extern "C" int32_t
tp_rt_attention(int32_t dtype, int64_t batch, int64_t sq, int64_t skv,
                int64_t d, int64_t dv, const void *q, int64_t q_sb,
                int64_t q_sr, int64_t q_sc, const void *k, int64_t k_sb,
                int64_t k_sr, int64_t k_sc, const void *v, int64_t v_sb,
                int64_t v_sr, int64_t v_sc, const void *mask, int64_t mask_sb,
                int64_t mask_sr, int64_t mask_sc, void *o, int64_t o_sb,
                int64_t o_sr, int64_t o_sc, float scale, int32_t causal) {
  ensureContext();
  const AttentionArgs args{dtype,
                           batch,
                           sq,
                           skv,
                           d,
                           dv,
                           {q_sb, q_sr, q_sc},
                           {k_sb, k_sr, k_sc},
                           {v_sb, v_sr, v_sc},
                           {mask_sb, mask_sr, mask_sc},
                           {o_sb, o_sr, o_sc},
                           mask != nullptr,
                           scale,
                           causal != 0};

  Attentions &a = attentions();
  std::lock_guard<std::mutex> lock(a.mutex);
  if (!a.loadTried) {
    a.loadTried = true;
    std::string name = cudnnLibraryName(
        [](const char *n) -> const char * { return std::getenv(n); });
    a.loaded = loadCudnn(name, a.api, a.loadFailure);
  }
  if (!a.loaded) {
    a.log.note("generated kernels: " + a.loadFailure);
    return 0;
  }
  std::string key = attentionKey(args);
  auto found = a.cache.find(key);
  if (found == a.cache.end()) {
    // Handles, plans and workspaces are made on a plain call: inside a
    // capture they would vanish with a discarded graph.
    if (capturingHere())
      return 0;
    found = a.cache.emplace(key, build(a, args)).first;
  }
  Entry &entry = *found->second;
  if (!entry.declined.empty()) {
    a.log.note("generated kernels for " + describeAttention(args) + ": " +
               entry.declined);
    return 0;
  }
  std::string reason;
  if (!entry.graph->execute(a.handle, q, k, v, mask, o, entry.workspace,
                            reason)) {
    entry.declined = reason;
    a.log.note("generated kernels for " + describeAttention(args) + ": " +
               reason);
    return 0;
  }
  a.log.note("cuDNN fused attention for " + describeAttention(args) +
             " (workspace " + std::to_string(entry.graph->workspaceSize()) +
             " bytes)");
  return 1;
}

#endif // TP_HAVE_CUDNN
