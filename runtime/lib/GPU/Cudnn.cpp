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

namespace {

/// What every intermediate is, and every operation computes in.
constexpr cudnnDataType_t computeType = CUDNN_DATA_FLOAT;

/// Q, K, V, O and the mask's element type.
cudnnDataType_t ioType(const AttentionArgs &a) {
  return a.dtype == TP_BF16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_HALF;
}

/// An attribute naming another descriptor (`desc` must outlive the call).
CudnnAttribute refersTo(cudnnBackendAttributeName_t name,
                        const cudnnBackendDescriptor_t &desc) {
  return {name, CUDNN_TYPE_BACKEND_DESCRIPTOR, 1, &desc};
}
void refersTo(cudnnBackendAttributeName_t,
              cudnnBackendDescriptor_t &&) = delete;

/// [1, N, rows, cols]: tp.attention's N batches are cuDNN's heads.
std::vector<int64_t> dims4(int64_t n, int64_t rows, int64_t cols) {
  return {1, n, rows, cols};
}

/// dims4's strides from (batch, row, column) strides; the outer dimension
/// of size 1 gets the whole extent as its stride.
std::vector<int64_t> strides4(int64_t n, const int64_t *s, int64_t rows) {
  return {n * s[0] > 0 ? n * s[0] : rows * s[1], s[0], s[1], s[2]};
}

std::vector<int64_t> denseStrides(const std::vector<int64_t> &d) {
  return {d[1] * d[2] * d[3], d[2] * d[3], d[3], 1};
}

} // namespace

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
                         const CudnnAttribute &attribute, const char *what,
                         std::string &reason) {
  cudnnStatus_t s = api.setAttribute(desc, attribute.name, attribute.type,
                                     attribute.count, attribute.value);
  if (s == CUDNN_STATUS_SUCCESS)
    return true;
  reason = std::string("cudnnBackendSetAttribute(") + what + ", attribute " +
           std::to_string(int(attribute.name)) + "): " + status(s);
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

bool AttentionGraph::setAll(cudnnBackendDescriptor_t desc,
                            const Attributes &attributes, const char *what,
                            std::string &reason) {
  for (const CudnnAttribute &attribute : attributes)
    if (!set(desc, attribute, what, reason))
      return false;
  return finalize(desc, what, reason);
}

cudnnBackendDescriptor_t
AttentionGraph::build(cudnnBackendDescriptorType_t type, const char *what,
                      const Attributes &attributes, std::string &reason) {
  cudnnBackendDescriptor_t desc = make(type, what, reason);
  return desc && setAll(desc, attributes, what, reason) ? desc : nullptr;
}

cudnnBackendDescriptor_t
AttentionGraph::operation(cudnnBackendDescriptorType_t type, const char *what,
                          const Attributes &attributes, std::string &reason) {
  cudnnBackendDescriptor_t op = build(type, what, attributes, reason);
  if (op)
    operations.push_back(op);
  return op;
}

cudnnBackendDescriptor_t
AttentionGraph::tensor(int64_t uid, cudnnDataType_t type,
                       std::vector<int64_t> dims, std::vector<int64_t> strides,
                       bool isVirtual, bool byValue, std::string &reason) {
  const int64_t alignment = 16;
  const int64_t rank = int64_t(dims.size());
  Attributes attributes{
      {CUDNN_ATTR_TENSOR_DATA_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &type},
      {CUDNN_ATTR_TENSOR_DIMENSIONS, CUDNN_TYPE_INT64, rank, dims.data()},
      {CUDNN_ATTR_TENSOR_STRIDES, CUDNN_TYPE_INT64, rank, strides.data()},
      {CUDNN_ATTR_TENSOR_UNIQUE_ID, CUDNN_TYPE_INT64, 1, &uid},
      {CUDNN_ATTR_TENSOR_BYTE_ALIGNMENT, CUDNN_TYPE_INT64, 1, &alignment}};
  if (isVirtual)
    attributes.push_back(
        {CUDNN_ATTR_TENSOR_IS_VIRTUAL, CUDNN_TYPE_BOOLEAN, 1, &isVirtual});
  if (byValue)
    attributes.push_back(
        {CUDNN_ATTR_TENSOR_IS_BY_VALUE, CUDNN_TYPE_BOOLEAN, 1, &byValue});
  return build(CUDNN_BACKEND_TENSOR_DESCRIPTOR, "tensor", attributes, reason);
}

cudnnBackendDescriptor_t
AttentionGraph::virtualTensor(std::vector<int64_t> dims, cudnnDataType_t type,
                              std::string &reason) {
  std::vector<int64_t> strides = denseStrides(dims);
  return tensor(nextVirtualUid++, type, std::move(dims), std::move(strides),
                true, false, reason);
}

cudnnBackendDescriptor_t AttentionGraph::byValueScalar(int64_t uid,
                                                       std::string &reason) {
  std::vector<int64_t> one{1, 1, 1, 1};
  return tensor(uid, computeType, one, one, false, true, reason);
}

cudnnBackendDescriptor_t AttentionGraph::pointwise(
    cudnnPointwiseMode_t mode, cudnnBackendDescriptor_t x,
    cudnnBackendDescriptor_t b, cudnnBackendDescriptor_t t,
    cudnnBackendDescriptor_t y, std::string &reason, int64_t axis) {
  Attributes config{
      {CUDNN_ATTR_POINTWISE_MODE, CUDNN_TYPE_POINTWISE_MODE, 1, &mode},
      {CUDNN_ATTR_POINTWISE_MATH_PREC, CUDNN_TYPE_DATA_TYPE, 1, &computeType}};
  if (axis >= 0)
    config.push_back({CUDNN_ATTR_POINTWISE_AXIS, CUDNN_TYPE_INT64, 1, &axis});
  cudnnBackendDescriptor_t pw =
      build(CUDNN_BACKEND_POINTWISE_DESCRIPTOR, "pointwise", config, reason);
  if (!pw)
    return nullptr;
  Attributes operands{
      refersTo(CUDNN_ATTR_OPERATION_POINTWISE_PW_DESCRIPTOR, pw),
      refersTo(CUDNN_ATTR_OPERATION_POINTWISE_XDESC, x)};
  if (b)
    operands.push_back(refersTo(CUDNN_ATTR_OPERATION_POINTWISE_BDESC, b));
  if (t)
    operands.push_back(refersTo(CUDNN_ATTR_OPERATION_POINTWISE_TDESC, t));
  operands.push_back(refersTo(CUDNN_ATTR_OPERATION_POINTWISE_YDESC, y));
  return operation(CUDNN_BACKEND_OPERATION_POINTWISE_DESCRIPTOR,
                   "pointwise operation", operands, reason);
}

cudnnBackendDescriptor_t AttentionGraph::reduction(cudnnReduceTensorOp_t mode,
                                                   cudnnBackendDescriptor_t x,
                                                   cudnnBackendDescriptor_t y,
                                                   std::string &reason) {
  cudnnBackendDescriptor_t r = build(
      CUDNN_BACKEND_REDUCTION_DESCRIPTOR, "reduction",
      {{CUDNN_ATTR_REDUCTION_OPERATOR, CUDNN_TYPE_REDUCTION_OPERATOR_TYPE, 1,
        &mode},
       {CUDNN_ATTR_REDUCTION_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &computeType}},
      reason);
  if (!r)
    return nullptr;
  return operation(CUDNN_BACKEND_OPERATION_REDUCTION_DESCRIPTOR,
                   "reduction operation",
                   {refersTo(CUDNN_ATTR_OPERATION_REDUCTION_DESC, r),
                    refersTo(CUDNN_ATTR_OPERATION_REDUCTION_XDESC, x),
                    refersTo(CUDNN_ATTR_OPERATION_REDUCTION_YDESC, y)},
                   reason);
}

cudnnBackendDescriptor_t AttentionGraph::matmul(cudnnBackendDescriptor_t a,
                                                cudnnBackendDescriptor_t b,
                                                cudnnBackendDescriptor_t c,
                                                std::string &reason) {
  cudnnBackendDescriptor_t mm = build(
      CUDNN_BACKEND_MATMUL_DESCRIPTOR, "matmul",
      {{CUDNN_ATTR_MATMUL_COMP_TYPE, CUDNN_TYPE_DATA_TYPE, 1, &computeType}},
      reason);
  if (!mm)
    return nullptr;
  return operation(CUDNN_BACKEND_OPERATION_MATMUL_DESCRIPTOR,
                   "matmul operation",
                   {refersTo(CUDNN_ATTR_OPERATION_MATMUL_ADESC, a),
                    refersTo(CUDNN_ATTR_OPERATION_MATMUL_BDESC, b),
                    refersTo(CUDNN_ATTR_OPERATION_MATMUL_CDESC, c),
                    refersTo(CUDNN_ATTR_OPERATION_MATMUL_DESC, mm)},
                   reason);
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
  nextVirtualUid = 100;
  Operands x;
  if (!buildOperands(a, x, reason))
    return false;
  cudnnBackendDescriptor_t logits = scaledScores(a, x, reason);
  if (logits && a.hasMask)
    logits = addMask(a, logits, reason);
  if (logits && a.causal)
    logits = keepCausal(a, logits, reason);
  return logits && softmaxTimesV(a, x, logits, reason);
}

bool AttentionGraph::buildOperands(const AttentionArgs &a, Operands &x,
                                   std::string &reason) {
  const cudnnDataType_t io = ioType(a);
  const int64_t n = a.batch;
  x.q = tensor(UidQ, io, dims4(n, a.sq, a.d), strides4(n, a.q, a.sq), false,
               false, reason);
  // K^T: K's memory, dims (d, skv), strides of K's column and row.
  std::vector<int64_t> k = strides4(n, a.k, a.skv);
  x.kT = x.q ? tensor(UidK, io, dims4(n, a.d, a.skv), {k[0], k[1], k[3], k[2]},
                      false, false, reason)
             : nullptr;
  x.v = x.kT ? tensor(UidV, io, dims4(n, a.skv, a.dv), strides4(n, a.v, a.skv),
                      false, false, reason)
             : nullptr;
  x.o = x.v ? tensor(UidO, io, dims4(n, a.sq, a.dv), strides4(n, a.o, a.sq),
                     false, false, reason)
            : nullptr;
  x.scale = x.o ? byValueScalar(UidScale, reason) : nullptr;
  return x.scale != nullptr;
}

/// S = matmul(Q, K^T) * scale.
cudnnBackendDescriptor_t AttentionGraph::scaledScores(const AttentionArgs &a,
                                                      const Operands &x,
                                                      std::string &reason) {
  std::vector<int64_t> scores = dims4(a.batch, a.sq, a.skv);
  cudnnBackendDescriptor_t s = virtualTensor(scores, computeType, reason);
  if (!s || !matmul(x.q, x.kT, s, reason))
    return nullptr;
  cudnnBackendDescriptor_t scaled = virtualTensor(scores, computeType, reason);
  if (!scaled ||
      !pointwise(CUDNN_POINTWISE_MUL, s, x.scale, nullptr, scaled, reason))
    return nullptr;
  return scaled;
}

/// S = S + mask.
cudnnBackendDescriptor_t
AttentionGraph::addMask(const AttentionArgs &a, cudnnBackendDescriptor_t logits,
                        std::string &reason) {
  // [1, N, Sq, Skv], or [1, 1, Sq, Skv] when shared (batch stride 0).
  const int64_t n = a.batch;
  bool shared = a.mask[0] == 0;
  std::vector<int64_t> maskDims{1, shared ? 1 : n, a.sq, a.skv};
  std::vector<int64_t> maskStrides{shared ? a.sq * a.mask[1] : n * a.mask[0],
                                   shared ? a.sq * a.mask[1] : a.mask[0],
                                   a.mask[1], a.mask[2]};
  cudnnBackendDescriptor_t mask =
      tensor(UidMask, ioType(a), maskDims, maskStrides, false, false, reason);
  cudnnBackendDescriptor_t masked =
      mask ? virtualTensor(dims4(n, a.sq, a.skv), computeType, reason)
           : nullptr;
  if (!masked ||
      !pointwise(CUDNN_POINTWISE_ADD, logits, mask, nullptr, masked, reason))
    return nullptr;
  return masked;
}

/// S = select(row >= col, S, -inf).
cudnnBackendDescriptor_t
AttentionGraph::keepCausal(const AttentionArgs &a,
                           cudnnBackendDescriptor_t logits,
                           std::string &reason) {
  std::vector<int64_t> scores = dims4(a.batch, a.sq, a.skv);
  auto row = virtualTensor(scores, CUDNN_DATA_INT32, reason);
  auto col = row ? virtualTensor(scores, CUDNN_DATA_INT32, reason) : nullptr;
  auto keep = col ? virtualTensor(scores, CUDNN_DATA_BOOLEAN, reason) : nullptr;
  auto negInfT = keep ? byValueScalar(UidNegInf, reason) : nullptr;
  auto selected =
      negInfT ? virtualTensor(scores, computeType, reason) : nullptr;
  if (!selected ||
      !pointwise(CUDNN_POINTWISE_GEN_INDEX, logits, nullptr, nullptr, row,
                 reason, 2) ||
      !pointwise(CUDNN_POINTWISE_GEN_INDEX, logits, nullptr, nullptr, col,
                 reason, 3) ||
      !pointwise(CUDNN_POINTWISE_CMP_GE, row, col, nullptr, keep, reason) ||
      !pointwise(CUDNN_POINTWISE_BINARY_SELECT, logits, negInfT, keep, selected,
                 reason))
    return nullptr;
  return selected;
}

/// m = max(S); E = exp(S - m); l = sum(E); P = E / l; O = matmul(P, V).
bool AttentionGraph::softmaxTimesV(const AttentionArgs &a, const Operands &x,
                                   cudnnBackendDescriptor_t logits,
                                   std::string &reason) {
  std::vector<int64_t> scores = dims4(a.batch, a.sq, a.skv);
  std::vector<int64_t> rows = dims4(a.batch, a.sq, 1);
  auto max = virtualTensor(rows, computeType, reason);
  auto shifted = max ? virtualTensor(scores, computeType, reason) : nullptr;
  auto e = shifted ? virtualTensor(scores, computeType, reason) : nullptr;
  auto sum = e ? virtualTensor(rows, computeType, reason) : nullptr;
  auto p = sum ? virtualTensor(scores, computeType, reason) : nullptr;
  if (!p || !reduction(CUDNN_REDUCE_TENSOR_MAX, logits, max, reason) ||
      !pointwise(CUDNN_POINTWISE_SUB, logits, max, nullptr, shifted, reason) ||
      !pointwise(CUDNN_POINTWISE_EXP, shifted, nullptr, nullptr, e, reason) ||
      !reduction(CUDNN_REDUCE_TENSOR_ADD, e, sum, reason) ||
      !pointwise(CUDNN_POINTWISE_DIV, e, sum, nullptr, p, reason))
    return false;
  return matmul(p, x.v, x.o, reason) != nullptr;
}

bool AttentionGraph::buildGraph(cudnnHandle_t handle, std::string &reason) {
  Attributes attributes{{CUDNN_ATTR_OPERATIONGRAPH_OPS,
                         CUDNN_TYPE_BACKEND_DESCRIPTOR,
                         int64_t(operations.size()), operations.data()}};
  if (handle)
    attributes.push_back(
        {CUDNN_ATTR_OPERATIONGRAPH_HANDLE, CUDNN_TYPE_HANDLE, 1, &handle});
  graph = build(CUDNN_BACKEND_OPERATIONGRAPH_DESCRIPTOR, "operation graph",
                attributes, reason);
  return graph != nullptr;
}

bool AttentionGraph::buildPlan(cudnnHandle_t handle, std::string &reason) {
  if (!graph && !buildGraph(handle, reason))
    return false;
  std::vector<cudnnBackendDescriptor_t> configs;
  return engineConfigs(configs, reason) && firstPlan(handle, configs, reason);
}

/// The engine configs heuristic mode A proposes for the graph.
bool AttentionGraph::engineConfigs(
    std::vector<cudnnBackendDescriptor_t> &configs, std::string &reason) {
  const cudnnBackendHeurMode_t mode = CUDNN_HEUR_MODE_A;
  cudnnBackendDescriptor_t heuristics =
      build(CUDNN_BACKEND_ENGINEHEUR_DESCRIPTOR, "engine heuristics",
            {refersTo(CUDNN_ATTR_ENGINEHEUR_OPERATION_GRAPH, graph),
             {CUDNN_ATTR_ENGINEHEUR_MODE, CUDNN_TYPE_HEUR_MODE, 1, &mode}},
            reason);
  if (!heuristics)
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
  configs.resize(std::min(configs.size(), size_t(returned)));
  return true;
}

/// The plan of the first config that finalizes, and its workspace size.
bool AttentionGraph::firstPlan(
    cudnnHandle_t handle, const std::vector<cudnnBackendDescriptor_t> &configs,
    std::string &reason) {
  std::string last = "no engine config finalized";
  for (const cudnnBackendDescriptor_t &config : configs) {
    std::string why;
    cudnnBackendDescriptor_t candidate = build(
        CUDNN_BACKEND_EXECUTION_PLAN_DESCRIPTOR, "execution plan",
        {{CUDNN_ATTR_EXECUTION_PLAN_HANDLE, CUDNN_TYPE_HANDLE, 1, &handle},
         refersTo(CUDNN_ATTR_EXECUTION_PLAN_ENGINE_CONFIG, config)},
        why);
    if (!candidate) {
      last = why;
      continue;
    }
    int64_t size = 0, got = 0;
    cudnnStatus_t st =
        api.getAttribute(candidate, CUDNN_ATTR_EXECUTION_PLAN_WORKSPACE_SIZE,
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
  cudnnBackendDescriptor_t pack = nullptr;
  if (api.createDescriptor(CUDNN_BACKEND_VARIANT_PACK_DESCRIPTOR, &pack) !=
      CUDNN_STATUS_SUCCESS) {
    reason = "cudnnBackendCreateDescriptor(variant pack) failed";
    return false;
  }
  const int64_t count = int64_t(uids.size());
  bool ok = setAll(pack,
                   {{CUDNN_ATTR_VARIANT_PACK_UNIQUE_IDS, CUDNN_TYPE_INT64,
                     count, uids.data()},
                    {CUDNN_ATTR_VARIANT_PACK_DATA_POINTERS, CUDNN_TYPE_VOID_PTR,
                     count, pointers.data()},
                    {CUDNN_ATTR_VARIANT_PACK_WORKSPACE, CUDNN_TYPE_VOID_PTR, 1,
                     &workspacePtr}},
                   "variant pack", reason);
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
