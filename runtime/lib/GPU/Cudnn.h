//===- Cudnn.h - cuDNN loaded at run time, and the SDPA graph ---*- C++ -*-===//
//
// tp_rt_attention's pieces that need no GPU, so that they are unit-tested
// here: cuDNN is optional at run time, so it is dlopen'd (never linked) and
// every entry point is reached through CudnnApi; AttentionGraph builds the
// cuDNN backend graph of scaled dot-product attention from those entry
// points. Nothing here calls CUDA.
//
// The graph is the fused-attention (flash) forward pattern of cuDNN's graph
// API, on [1, N, S, D] tensors (the N batches of tp.attention as heads):
//
//   S = matmul(Q, K^T)          K^T: K's memory with its last two dims swapped
//   S = S * scale               (by-value scalar)
//   S = S + mask                (optional; [1, N|1, Sq, Skv])
//   S = select(row >= col, S, -inf)        (causal: two GEN_INDEX, CMP_GE)
//   m = max(S) over the keys; E = exp(S - m); l = sum(E); P = E / l
//   O = matmul(P, V)
//
// with every intermediate virtual and f32.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_GPU_CUDNN_H
#define TP_RUNTIME_GPU_CUDNN_H

#include <cudnn_backend.h>
#include <cudnn_graph.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tp::gpu {

/// The cuDNN entry points tp_rt_attention uses.
struct CudnnApi {
  size_t (*getVersion)(void) = nullptr;
  const char *(*getErrorString)(cudnnStatus_t) = nullptr;
  cudnnStatus_t (*create)(cudnnHandle_t *) = nullptr;
  cudnnStatus_t (*destroy)(cudnnHandle_t) = nullptr;
  cudnnStatus_t (*setStream)(cudnnHandle_t, cudaStream_t) = nullptr;
  cudnnStatus_t (*createDescriptor)(cudnnBackendDescriptorType_t,
                                    cudnnBackendDescriptor_t *) = nullptr;
  cudnnStatus_t (*destroyDescriptor)(cudnnBackendDescriptor_t) = nullptr;
  cudnnStatus_t (*finalize)(cudnnBackendDescriptor_t) = nullptr;
  cudnnStatus_t (*setAttribute)(cudnnBackendDescriptor_t,
                                cudnnBackendAttributeName_t,
                                cudnnBackendAttributeType_t, int64_t,
                                const void *) = nullptr;
  cudnnStatus_t (*getAttribute)(cudnnBackendDescriptor_t const,
                                cudnnBackendAttributeName_t,
                                cudnnBackendAttributeType_t, int64_t, int64_t *,
                                void *) = nullptr;
  cudnnStatus_t (*execute)(cudnnHandle_t, cudnnBackendDescriptor_t,
                           cudnnBackendDescriptor_t) = nullptr;
};

/// The oldest cuDNN tp_rt_attention uses (the 9.x graph API).
constexpr size_t minCudnnVersion = 90000;

/// Which library to load: TP_CUDNN_LIBRARY if set (a path, or "off" for
/// none), else libcudnn.so.9 from the loader's search path.
std::string
cudnnLibraryName(const std::function<const char *(const char *)> &getenv);

/// dlopens `name` and resolves every entry point; false with `reason` ("not
/// found: ...", "lacks cudnnBackendExecute", "cuDNN 8.9.7 is older than
/// 9.0", "disabled by TP_CUDNN_LIBRARY=off"). The library stays loaded.
bool loadCudnn(const std::string &name, CudnnApi &api, std::string &reason);

/// tp_rt_attention's arguments, in the order of its parameters; strides in
/// elements, (batch, row, column).
struct AttentionArgs {
  int32_t dtype = 0; ///< tp_dtype: TP_F16 or TP_BF16 are fused
  int64_t batch = 0, sq = 0, skv = 0, d = 0, dv = 0;
  int64_t q[3] = {}, k[3] = {}, v[3] = {}, mask[3] = {}, o[3] = {};
  bool hasMask = false;
  float scale = 1.0f;
  bool causal = false;
};

/// What cuDNN's fused attention cannot take, checked before any call
/// (element type, head sizes, unit column strides, sizes); "" if none.
std::string unsupportedAttention(const AttentionArgs &args);

/// Plan cache key: everything but the pointers.
std::string attentionKey(const AttentionArgs &args);

/// "bf16 24x128x128 d 64/64 causal mask" for messages.
std::string describeAttention(const AttentionArgs &args);

/// The unique ids of the graph's non-virtual tensors (the variant pack).
enum AttentionUid : int64_t {
  UidQ = 1,
  UidK = 2,
  UidV = 3,
  UidO = 4,
  UidScale = 5,
  UidMask = 6,
  UidNegInf = 7,
};

/// One cudnnBackendSetAttribute call: `count` values of `type` at `value`.
struct CudnnAttribute {
  cudnnBackendAttributeName_t name;
  cudnnBackendAttributeType_t type;
  int64_t count;
  const void *value;
};

/// Owns the backend descriptors of one SDPA graph.
class AttentionGraph {
public:
  explicit AttentionGraph(const CudnnApi &api) : api(api) {}
  ~AttentionGraph();
  AttentionGraph(const AttentionGraph &) = delete;
  AttentionGraph &operator=(const AttentionGraph &) = delete;

  /// Tensor and operation descriptors, each finalized: no handle, no GPU.
  bool buildOperations(const AttentionArgs &args, std::string &reason);
  /// The operation graph of the operations, finalized (on `handle`; cuDNN
  /// 9 also finalizes it without one, which the tests use).
  bool buildGraph(cudnnHandle_t handle, std::string &reason);
  /// The operation graph on `handle` (unless built), the engine configs of
  /// heuristic mode A, and the first execution plan that finalizes; its
  /// workspace size.
  bool buildPlan(cudnnHandle_t handle, std::string &reason);
  int64_t workspaceSize() const { return workspace; }
  /// Runs the plan on `handle`'s stream.
  bool execute(cudnnHandle_t handle, const void *q, const void *k,
               const void *v, const void *mask, void *o, void *workspacePtr,
               std::string &reason);

  size_t operationCount() const { return operations.size(); }

private:
  using Attributes = std::vector<CudnnAttribute>;
  /// The graph's non-virtual tensors: Q, K read as K^T, V, O, and the scale
  /// (by value).
  struct Operands {
    cudnnBackendDescriptor_t q = nullptr, kT = nullptr, v = nullptr,
                             o = nullptr, scale = nullptr;
  };

  cudnnBackendDescriptor_t make(cudnnBackendDescriptorType_t type,
                                const char *what, std::string &reason);
  bool set(cudnnBackendDescriptor_t desc, const CudnnAttribute &attribute,
           const char *what, std::string &reason);
  bool finalize(cudnnBackendDescriptor_t desc, const char *what,
                std::string &reason);
  /// Sets `attributes` on `desc` in order, then finalizes it.
  bool setAll(cudnnBackendDescriptor_t desc, const Attributes &attributes,
              const char *what, std::string &reason);
  /// A new descriptor of `type` with `attributes`, finalized.
  cudnnBackendDescriptor_t build(cudnnBackendDescriptorType_t type,
                                 const char *what, const Attributes &attributes,
                                 std::string &reason);
  /// build, for an operation of the graph (kept in `operations`).
  cudnnBackendDescriptor_t operation(cudnnBackendDescriptorType_t type,
                                     const char *what,
                                     const Attributes &attributes,
                                     std::string &reason);

  cudnnBackendDescriptor_t tensor(int64_t uid, cudnnDataType_t type,
                                  std::vector<int64_t> dims,
                                  std::vector<int64_t> strides, bool isVirtual,
                                  bool byValue, std::string &reason);
  /// A dense virtual tensor, numbered from 100 up.
  cudnnBackendDescriptor_t virtualTensor(std::vector<int64_t> dims,
                                         cudnnDataType_t type,
                                         std::string &reason);
  /// An f32 scalar passed by value in the variant pack.
  cudnnBackendDescriptor_t byValueScalar(int64_t uid, std::string &reason);
  cudnnBackendDescriptor_t
  pointwise(cudnnPointwiseMode_t mode, cudnnBackendDescriptor_t x,
            cudnnBackendDescriptor_t b, cudnnBackendDescriptor_t t,
            cudnnBackendDescriptor_t y, std::string &reason, int64_t axis = -1);
  cudnnBackendDescriptor_t reduction(cudnnReduceTensorOp_t op,
                                     cudnnBackendDescriptor_t x,
                                     cudnnBackendDescriptor_t y,
                                     std::string &reason);
  cudnnBackendDescriptor_t matmul(cudnnBackendDescriptor_t a,
                                  cudnnBackendDescriptor_t b,
                                  cudnnBackendDescriptor_t c,
                                  std::string &reason);

  // buildOperations' steps, in the order of the graph (this file's header).
  // scaledScores, addMask and keepCausal return the logits they leave (S),
  // null on failure.
  bool buildOperands(const AttentionArgs &args, Operands &x,
                     std::string &reason);
  cudnnBackendDescriptor_t scaledScores(const AttentionArgs &args,
                                        const Operands &x, std::string &reason);
  cudnnBackendDescriptor_t addMask(const AttentionArgs &args,
                                   cudnnBackendDescriptor_t logits,
                                   std::string &reason);
  cudnnBackendDescriptor_t keepCausal(const AttentionArgs &args,
                                      cudnnBackendDescriptor_t logits,
                                      std::string &reason);
  bool softmaxTimesV(const AttentionArgs &args, const Operands &x,
                     cudnnBackendDescriptor_t logits, std::string &reason);

  // buildPlan's steps.
  bool engineConfigs(std::vector<cudnnBackendDescriptor_t> &configs,
                     std::string &reason);
  bool firstPlan(cudnnHandle_t handle,
                 const std::vector<cudnnBackendDescriptor_t> &configs,
                 std::string &reason);

  std::string status(cudnnStatus_t s) const;

  const CudnnApi &api;
  std::vector<cudnnBackendDescriptor_t> owned;
  std::vector<cudnnBackendDescriptor_t> operations;
  cudnnBackendDescriptor_t graph = nullptr, plan = nullptr;
  int64_t workspace = 0;
  int64_t nextVirtualUid = 100;
  bool hasMask = false;
  bool causal = false;
  float scale = 1.0f;
  float negInf = 0;
};

/// What tp_rt_attention says about its choices when TP_ATTENTION_VERBOSE=1:
/// each distinct message once per process (a step calls it for every layer
/// and every step).
class AttentionLog {
public:
  AttentionLog(bool verbose, std::function<void(const std::string &)> print)
      : verbose(verbose), print(std::move(print)) {}
  /// Prints "tp_rt_attention: <message>" the first time; true then.
  bool note(const std::string &message);

private:
  bool verbose;
  std::function<void(const std::string &)> print;
  std::vector<std::string> seen;
};

} // namespace tp::gpu

#endif // TP_RUNTIME_GPU_CUDNN_H
