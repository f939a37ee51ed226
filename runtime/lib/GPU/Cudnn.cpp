//===- Cudnn.cpp - cuDNN loaded at run time, and the SDPA graph -----------===//
//
// See Cudnn.h. Every cuDNN status is checked; a failure returns false with
// the call, the descriptor and cuDNN's message, never aborts: the caller
// then runs the generated kernels instead.
//
//===----------------------------------------------------------------------===//

#include "GPU/Cudnn.h"

#include "tp/runtime/tp_runtime.h"

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace tp::gpu {

std::string
cudnnLibraryName(const std::function<const char *(const char *)> &getenv) {
  const char *chosen = getenv("TP_CUDNN_LIBRARY");
  if (chosen && *chosen)
    return chosen;
  return "libcudnn.so.9";
}

bool loadCudnn(const std::string &name, CudnnApi &api, std::string &reason) {
  if (name == "off") {
    reason = "disabled by TP_CUDNN_LIBRARY=off";
    return false;
  }
  void *library = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *error = dlerror();
    reason = "cannot load " + name + ": " + (error ? error : "unknown error");
    return false;
  }
  bool missing = false;
  auto resolve = [&](auto &fn, const char *symbol) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
        dlsym(library, symbol));
    if (!fn && !missing) {
      missing = true;
      reason = name + " lacks " + symbol;
    }
  };
  CudnnApi loaded;
  resolve(loaded.getVersion, "cudnnGetVersion");
  resolve(loaded.getErrorString, "cudnnGetErrorString");
  resolve(loaded.create, "cudnnCreate");
  resolve(loaded.destroy, "cudnnDestroy");
  resolve(loaded.setStream, "cudnnSetStream");
  resolve(loaded.createDescriptor, "cudnnBackendCreateDescriptor");
  resolve(loaded.destroyDescriptor, "cudnnBackendDestroyDescriptor");
  resolve(loaded.finalize, "cudnnBackendFinalize");
  resolve(loaded.setAttribute, "cudnnBackendSetAttribute");
  resolve(loaded.getAttribute, "cudnnBackendGetAttribute");
  resolve(loaded.execute, "cudnnBackendExecute");
  if (missing)
    return false; // the library stays mapped: dlclose of cuDNN is unsafe
  size_t version = loaded.getVersion();
  if (version < minCudnnVersion) {
    // cuDNN 8 numbers its versions major * 1000 + minor * 100 + patch.
    reason = "cuDNN " + std::to_string(version / 1000) + "." +
             std::to_string(version / 100 % 10) + "." +
             std::to_string(version % 100) + " (" + name +
             ") is older than 9.0";
    return false;
  }
  api = loaded;
  return true;
}

std::string unsupportedAttention(const AttentionArgs &a) {
  if (a.dtype != TP_F16 && a.dtype != TP_BF16)
    return "cuDNN's fused attention takes f16 or bf16, not " +
           std::string(a.dtype == TP_F32 ? "f32" : "this element type");
  if (a.batch <= 0 || a.sq <= 0 || a.skv <= 0 || a.d <= 0 || a.dv <= 0)
    return "empty attention";
  if (a.d % 8 != 0 || a.dv % 8 != 0 || a.d > 256 || a.dv > 256)
    return "head sizes " + std::to_string(a.d) + "/" + std::to_string(a.dv) +
           " are not multiples of 8 up to 256";
  for (const int64_t *s : {a.q, a.k, a.v, a.o})
    if (s[2] != 1)
      return "a head dimension with a stride other than 1";
  if (a.hasMask && a.mask[2] != 1)
    return "a mask whose keys have a stride other than 1";
  return "";
}

std::string describeAttention(const AttentionArgs &a) {
  std::string s = a.dtype == TP_BF16  ? "bf16"
                  : a.dtype == TP_F16 ? "f16"
                                      : "f32";
  s += " " + std::to_string(a.batch) + "x" + std::to_string(a.sq) + "x" +
       std::to_string(a.skv) + " d " + std::to_string(a.d) + "/" +
       std::to_string(a.dv);
  if (a.causal)
    s += " causal";
  if (a.hasMask)
    s += " mask";
  return s;
}

std::string attentionKey(const AttentionArgs &a) {
  std::string key = describeAttention(a);
  for (const int64_t *s : {a.q, a.k, a.v, a.mask, a.o})
    for (int i = 0; i < 3; ++i)
      key += " " + std::to_string(s[i]);
  key += " " + std::to_string(a.scale);
  return key;
}

bool AttentionLog::note(const std::string &message) {
  for (const std::string &s : seen)
    if (s == message)
      return false;
  seen.push_back(message);
  if (verbose)
    print("tp_rt_attention: " + message);
  return true;
}

//===----------------------------------------------------------------------===//
// AttentionGraph
//===----------------------------------------------------------------------===//

AttentionGraph::~AttentionGraph() {
  for (auto it = owned.rbegin(); it != owned.rend(); ++it)
    api.destroyDescriptor(*it);
}

std::string AttentionGraph::status(cudnnStatus_t s) const {
  const char *text = api.getErrorString ? api.getErrorString(s) : nullptr;
  return text ? text : ("status " + std::to_string(int(s)));
}

cudnnBackendDescriptor_t AttentionGraph::make(cudnnBackendDescriptorType_t type,
                                              const char *what,
                                              std::string &reason) {
  cudnnBackendDescriptor_t desc = nullptr;
  cudnnStatus_t s = api.createDescriptor(type, &desc);
  if (s != CUDNN_STATUS_SUCCESS || !desc) {
    reason =
        std::string("cudnnBackendCreateDescriptor(") + what + "): " + status(s);
    return nullptr;
  }
  owned.push_back(desc);
  return desc;
}

bool AttentionGraph::set(cudnnBackendDescriptor_t desc,
                         cudnnBackendAttributeName_t name,
                         cudnnBackendAttributeType_t type, int64_t count,
                         const void *value, const char *what,
                         std::string &reason) {
  cudnnStatus_t s = api.setAttribute(desc, name, type, count, value);
  if (s == CUDNN_STATUS_SUCCESS)
    return true;
  reason = std::string("cudnnBackendSetAttribute(") + what + ", attribute " +
           std::to_string(int(name)) + "): " + status(s);
  return false;
}

bool AttentionGraph::finalize(cudnnBackendDescriptor_t desc, const char *what,
                              std::string &reason) {
  cudnnStatus_t s = api.finalize(desc);
  if (s == CUDNN_STATUS_SUCCESS)
    return true;
  reason = std::string("cudnnBackendFinalize(") + what + "): " + status(s);
  return false;
}

cudnnBackendDescriptor_t
AttentionGraph::tensor(int64_t uid, cudnnDataType_t type,
                       std::vector<int64_t> dims, std::vector<int64_t> strides,
                       bool isVirtual, bool byValue, std::string &reason) {
  const char *what = "tensor";
  cudnnBackendDescriptor_t t =
      make(CUDNN_BACKEND_TENSOR_DESCRIPTOR, what, reason);
  int64_t alignment = 16;
  int64_t rank = int64_t(dims.size());
  if (!t ||
      !set(t, CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &type, what,
           reason) ||
      !set(t, CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, rank, dims.data(),
           what, reason) ||
      !set(t, CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, rank, strides.data(),
           what, reason) ||
      !set(t, CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid, what,
           reason) ||
      !set(t, CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &alignment,
           what, reason))
    return nullptr;
  if (isVirtual && !set(t, CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1,
                        &isVirtual, what, reason))
    return nullptr;
  if (byValue && !set(t, CUDNN_ATTR_TENSOR_IS_BY_VALUE, CUDNN_TYPE_BOOLEAN, 1,
                      &byValue, what, reason))
    return nullptr;
  return finalize(t, what, reason) ? t : nullptr;
}

cudnnBackendDescriptor_t AttentionGraph::pointwise(
    cudnnPointwiseMode_t mode, cudnnBackendDescriptor_t x,
    cudnnBackendDescriptor_t b, cudnnBackendDescriptor_t t,
    cudnnBackendDescriptor_t y, std::string &reason, int64_t axis) {
  const char *what = "pointwise";
  cudnnBackendDescriptor_t pw =
      make(CUDNN_BACKEND_POINTWISE_DESCRIPTOR, what, reason);
  cudnnDataType_t precision = CUDNN_DATA_FLOAT;
  if (!pw ||
      !set(pw, CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &mode,
           what, reason) ||
      !set(pw, CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, 1,
           &precision, what, reason))
    return nullptr;
  if (axis >= 0 && !set(pw, CUDNN_ATTR_POINTWISE_AXIS, CUDNN_TYPE_INT64, 1,
                        &axis, what, reason))
    return nullptr;
  if (!finalize(pw, what, reason))
    return nullptr;
  what = "pointwise operation";
  cudnnBackendDescriptor_t op =
      make(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR, what, reason);
  if (!op ||
      !set(op, CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR,
           CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &pw, what, reason) ||
      !set(op, CUDNN_ATTR_OPERATION_POINTWISE_XDESC,
           CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x, what, reason) ||
      (b && !set(op, CUDNN_ATTR_OPERATION_POINTWISE_BDESC,
                 CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &b, what, reason)) ||
      (t && !set(op, CUDNN_ATTR_OPERATION_POINTWISE_TDESC,
                 CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &t, what, reason)) ||
      !set(op, CUDNN_ATTR_OPERATION_POINTWISE_YDESC,
           CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &y, what, reason) ||
      !finalize(op, what, reason))
    return nullptr;
  operations.push_back(op);
  return op;
}

cudnnBackendDescriptor_t AttentionGraph::reduction(cudnnReduceTensorOp_t mode,
                                                   cudnnBackendDescriptor_t x,
                                                   cudnnBackendDescriptor_t y,
                                                   std::string &reason) {
  const char *what = "reduction";
  cudnnBackendDescriptor_t r =
      make(CUDNN_BACKEND_REDUCTION_DESCRIPTOR, what, reason);
  cudnnDataType_t precision = CUDNN_DATA_FLOAT;
  if (!r ||
      !set(r, CUDNN_ATTR_REDUCTION_OPERATOR, CUDNN_TYPE_REDUCTION_OPERATOR_TYPE,
           1, &mode, what, reason) ||
      !set(r, CUDNN_ATTR_REDUCTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1,
           &precision, what, reason) ||
      !finalize(r, what, reason))
    return nullptr;
  what = "reduction operation";
  cudnnBackendDescriptor_t op =
      make(CUDNN_BACKEND_OPERATION_REDUCTION_DESCRIPTOR, what, reason);
  if (!op ||
      !set(op, CUDNN_ATTR_OPERATION_REDUCTION_DESC,
           CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &r, what, reason) ||
      !set(op, CUDNN_ATTR_OPERATION_REDUCTION_XDESC,
           CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &x, what, reason) ||
      !set(op, CUDNN_ATTR_OPERATION_REDUCTION_YDESC,
           CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &y, what, reason) ||
      !finalize(op, what, reason))
    return nullptr;
  operations.push_back(op);
  return op;
}

cudnnBackendDescriptor_t AttentionGraph::matmul(cudnnBackendDescriptor_t a,
                                                cudnnBackendDescriptor_t b,
                                                cudnnBackendDescriptor_t c,
                                                std::string &reason) {
  const char *what = "matmul";
  cudnnBackendDescriptor_t mm =
      make(CUDNN_BACKEND_MATMUL_DESCRIPTOR, what, reason);
  cudnnDataType_t precision = CUDNN_DATA_FLOAT;
  if (!mm ||
      !set(mm, CUDNN_ATTR_MATMUL_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &precision,
           what, reason) ||
      !finalize(mm, what, reason))
    return nullptr;
  what = "matmul operation";
  cudnnBackendDescriptor_t op =
      make(CUDNN_BACKEND_OPERATION_MATMUL_DESCRIPTOR, what, reason);
  if (!op ||
      !set(op, CUDNN_ATTR_OPERATION_MATMUL_ADESC, CUDNN_TYPE_BACKEND_DESCRIPTOR,
           1, &a, what, reason) ||
      !set(op, CUDNN_ATTR_OPERATION_MATMUL_BDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR,
           1, &b, what, reason) ||
      !set(op, CUDNN_ATTR_OPERATION_MATMUL_CDESC, CUDNN_TYPE_BACKEND_DESCRIPTOR,
           1, &c, what, reason) ||
      !set(op, CUDNN_ATTR_OPERATION_MATMUL_DESC, CUDNN_TYPE_BACKEND_DESCRIPTOR,
           1, &mm, what, reason) ||
      !finalize(op, what, reason))
    return nullptr;
  operations.push_back(op);
  return op;
}

bool AttentionGraph::buildOperations(const AttentionArgs &a,
                                     std::string &reason) {
  std::string unsupported = unsupportedAttention(a);
  if (!unsupported.empty()) {
    reason = unsupported;
    return false;
  }
  hasMask = a.hasMask;
  causal = a.causal;
  scale = a.scale;
  negInf = -std::numeric_limits<float>::infinity();
  const cudnnDataType_t io =
      a.dtype == TP_BF16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_HALF;
  const cudnnDataType_t f32 = CUDNN_DATA_FLOAT;
  const int64_t n = a.batch;
  // [1, N, rows, cols] with strides (batch, row, column); the outer
  // dimension of size 1 gets the whole extent as its stride.
  auto dims4 = [&](int64_t rows, int64_t cols) {
    return std::vector<int64_t>{1, n, rows, cols};
  };
  auto strides4 = [&](const int64_t *s, int64_t rows) {
    return std::vector<int64_t>{n * s[0] > 0 ? n * s[0] : rows * s[1], s[0],
                                s[1], s[2]};
  };
  auto dense = [](const std::vector<int64_t> &d) {
    return std::vector<int64_t>{d[1] * d[2] * d[3], d[2] * d[3], d[3], 1};
  };
  int64_t uid = 100;
  auto virt = [&](std::vector<int64_t> d, cudnnDataType_t type) {
    return tensor(uid++, type, d, dense(d), true, false, reason);
  };

  auto q = tensor(UidQ, io, dims4(a.sq, a.d), strides4(a.q, a.sq), false, false,
                  reason);
  // K^T: K's memory, dims (d, skv), strides of K's column and row.
  std::vector<int64_t> kStrides = strides4(a.k, a.skv);
  auto kT = q ? tensor(UidK, io, dims4(a.d, a.skv),
                       {kStrides[0], kStrides[1], kStrides[3], kStrides[2]},
                       false, false, reason)
              : nullptr;
  auto v = kT ? tensor(UidV, io, dims4(a.skv, a.dv), strides4(a.v, a.skv),
                       false, false, reason)
              : nullptr;
  auto o = v ? tensor(UidO, io, dims4(a.sq, a.dv), strides4(a.o, a.sq), false,
                      false, reason)
             : nullptr;
  std::vector<int64_t> one{1, 1, 1, 1};
  auto scaleT =
      o ? tensor(UidScale, f32, one, one, false, true, reason) : nullptr;
  if (!scaleT)
    return false;

  std::vector<int64_t> scores = dims4(a.sq, a.skv);
  std::vector<int64_t> rows = dims4(a.sq, 1);
  auto s = virt(scores, f32);
  if (!s || !matmul(q, kT, s, reason))
    return false;
  auto scaled = virt(scores, f32);
  if (!scaled ||
      !pointwise(CUDNN_POINTWISE_MUL, s, scaleT, nullptr, scaled, reason))
    return false;
  auto logits = scaled;
  if (a.hasMask) {
    // [1, N, Sq, Skv], or [1, 1, Sq, Skv] when shared (batch stride 0).
    bool shared = a.mask[0] == 0;
    std::vector<int64_t> maskDims{1, shared ? 1 : n, a.sq, a.skv};
    std::vector<int64_t> maskStrides{shared ? a.sq * a.mask[1] : n * a.mask[0],
                                     shared ? a.sq * a.mask[1] : a.mask[0],
                                     a.mask[1], a.mask[2]};
    auto mask =
        tensor(UidMask, io, maskDims, maskStrides, false, false, reason);
    auto masked = mask ? virt(scores, f32) : nullptr;
    if (!masked ||
        !pointwise(CUDNN_POINTWISE_ADD, logits, mask, nullptr, masked, reason))
      return false;
    logits = masked;
  }
  if (a.causal) {
    auto row = virt(scores, CUDNN_DATA_INT32);
    auto col = row ? virt(scores, CUDNN_DATA_INT32) : nullptr;
    auto keep = col ? virt(scores, CUDNN_DATA_BOOLEAN) : nullptr;
    auto negInfT =
        keep ? tensor(UidNegInf, f32, one, one, false, true, reason) : nullptr;
    auto selected = negInfT ? virt(scores, f32) : nullptr;
    if (!selected ||
        !pointwise(CUDNN_POINTWISE_GEN_INDEX, logits, nullptr, nullptr, row,
                   reason, 2) ||
        !pointwise(CUDNN_POINTWISE_GEN_INDEX, logits, nullptr, nullptr, col,
                   reason, 3) ||
        !pointwise(CUDNN_POINTWISE_CMP_GE, row, col, nullptr, keep, reason) ||
        !pointwise(CUDNN_POINTWISE_BINARY_SELECT, logits, negInfT, keep,
                   selected, reason))
      return false;
    logits = selected;
  }
  auto max = virt(rows, f32);
  auto shifted = max ? virt(scores, f32) : nullptr;
  auto e = shifted ? virt(scores, f32) : nullptr;
  auto sum = e ? virt(rows, f32) : nullptr;
  auto p = sum ? virt(scores, f32) : nullptr;
  if (!p || !reduction(CUDNN_REDUCE_TENSOR_MAX, logits, max, reason) ||
      !pointwise(CUDNN_POINTWISE_SUB, logits, max, nullptr, shifted, reason) ||
      !pointwise(CUDNN_POINTWISE_EXP, shifted, nullptr, nullptr, e, reason) ||
      !reduction(CUDNN_REDUCE_TENSOR_ADD, e, sum, reason) ||
      !pointwise(CUDNN_POINTWISE_DIV, e, sum, nullptr, p, reason))
    return false;
  return matmul(p, v, o, reason) != nullptr;
}

bool AttentionGraph::buildGraph(cudnnHandle_t handle, std::string &reason) {
  const char *what = "operation graph";
  graph = make(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, what, reason);
  if (!graph ||
      !set(graph, CUDNN_ATTR_OPERATIONGRAPH_OPS, CUDNN_TYPE_BACKEND_DESCRIPTOR,
           int64_t(operations.size()), operations.data(), what, reason) ||
      (handle && !set(graph, CUDNN_ATTR_OPERATIONGRAPH_HANDLE,
                      CUDNN_TYPE_HANDLE, 1, &handle, what, reason)) ||
      !finalize(graph, what, reason)) {
    graph = nullptr;
    return false;
  }
  return true;
}

bool AttentionGraph::buildPlan(cudnnHandle_t handle, std::string &reason) {
  if (!graph && !buildGraph(handle, reason))
    return false;
  const char *what = "engine heuristics";
  cudnnBackendDescriptor_t heuristics =
      make(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, what, reason);
  cudnnBackendHeurMode_t mode = CUDNN_HEUR_MODE_A;
  if (!heuristics ||
      !set(heuristics, CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH,
           CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &graph, what, reason) ||
      !set(heuristics, CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1,
           &mode, what, reason) ||
      !finalize(heuristics, what, reason))
    return false;
  int64_t count = 0;
  cudnnStatus_t st =
      api.getAttribute(heuristics, CUDNN_ATTR_ENGINEHEUR_RESULTS,
                       CUDNN_TYPE_BACKEND_DESCRIPTOR, 0, &count, nullptr);
  if (st != CUDNN_STATUS_SUCCESS || count <= 0) {
    reason =
        "no cuDNN engine for this graph on this GPU (" +
        (st != CUDNN_STATUS_SUCCESS ? status(st) : std::string("0 configs")) +
        ")";
    return false;
  }
  std::vector<cudnnBackendDescriptor_t> configs;
  for (int64_t i = 0; i < count; ++i) {
    cudnnBackendDescriptor_t c =
        make(CUDNN_BACKEND_ENGINECFG_DESCRIPTOR, "engine config", reason);
    if (!c)
      return false;
    configs.push_back(c);
  }
  int64_t returned = 0;
  st = api.getAttribute(heuristics, CUDNN_ATTR_ENGINEHEUR_RESULTS,
                        CUDNN_TYPE_BACKEND_DESCRIPTOR, count, &returned,
                        configs.data());
  if (st != CUDNN_STATUS_SUCCESS) {
    reason = "cudnnBackendGetAttribute(ENGINEHEUR_RESULTS): " + status(st);
    return false;
  }
  // The first config whose plan finalizes.
  std::string last = "no engine config finalized";
  for (int64_t i = 0; i < returned; ++i) {
    std::string why;
    cudnnBackendDescriptor_t candidate =
        make(CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, "execution plan", why);
    if (!candidate ||
        !set(candidate, CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1,
             &handle, "execution plan", why) ||
        !set(candidate, CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG,
             CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &configs[size_t(i)],
             "execution plan", why) ||
        !finalize(candidate, "execution plan", why)) {
      last = why;
      continue;
    }
    int64_t size = 0, got = 0;
    st = api.getAttribute(candidate, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE,
                          CUDNN_TYPE_INT64, 1, &got, &size);
    if (st != CUDNN_STATUS_SUCCESS) {
      last = "cudnnBackendGetAttribute(WORKSPACE_SIZE): " + status(st);
      continue;
    }
    plan = candidate;
    workspace = size;
    return true;
  }
  reason = "no cuDNN execution plan finalized: " + last;
  return false;
}

bool AttentionGraph::execute(cudnnHandle_t handle, const void *q, const void *k,
                             const void *v, const void *mask, void *o,
                             void *workspacePtr, std::string &reason) {
  std::vector<int64_t> uids{UidQ, UidK, UidV, UidO, UidScale};
  std::vector<void *> pointers{const_cast<void *>(q), const_cast<void *>(k),
                               const_cast<void *>(v), o, &scale};
  if (hasMask) {
    uids.push_back(UidMask);
    pointers.push_back(const_cast<void *>(mask));
  }
  // The causal graph reads -inf by value.
  if (causal) {
    uids.push_back(UidNegInf);
    pointers.push_back(&negInf);
  }
  const char *what = "variant pack";
  cudnnBackendDescriptor_t pack = nullptr;
  if (api.createDescriptor(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, &pack) !=
      CUDNN_STATUS_SUCCESS) {
    reason = "cudnnBackendCreateDescriptor(variant pack) failed";
    return false;
  }
  bool ok =
      set(pack, CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64,
          int64_t(uids.size()), uids.data(), what, reason) &&
      set(pack, CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR,
          int64_t(pointers.size()), pointers.data(), what, reason) &&
      set(pack, CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1,
          &workspacePtr, what, reason) &&
      finalize(pack, what, reason);
  if (ok) {
    cudnnStatus_t st = api.execute(handle, plan, pack);
    if (st != CUDNN_STATUS_SUCCESS) {
      reason = "cudnnBackendExecute: " + status(st);
      ok = false;
    }
  }
  api.destroyDescriptor(pack);
  return ok;
}

} // namespace tp::gpu
