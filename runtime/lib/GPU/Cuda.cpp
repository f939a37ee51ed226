//===- Cuda.cpp - The process's CUDA context and persistent stream --------===//

#include "GPU/Cuda.h"

#include "Bootstrap/Environment.h"
#include "Common/Error.h"
#include "tp/runtime/tp_runtime.h"
#include "tp/runtime/tp_runtime_gpu.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace tp::gpu {

namespace {

// Never destroyed: model modules unload from global destructors at exit,
// after any static object here would be gone.
struct State {
  std::mutex mutex;
  std::atomic<bool> ready{false};
  int requestedDevice = -1; // mgpuSetDefaultDevice
  int ordinal = -1;
  CUdevice device = 0;
  CUcontext context = nullptr;
  CUstream stream = nullptr;
  bool tf32 = false;
  std::string failure; // why creation failed (it is not retried)
  std::mutex syncMutex;
  SyncPolicy *policy = nullptr;
};

State &state() {
  static State *s = new State;
  return *s;
}

thread_local bool contextCurrent = false;

bool envFlag(const char *name) {
  const char *v = std::getenv(name);
  return v && std::strcmp(v, "1") == 0;
}

bool create(State &s, std::string &error) {
  CUresult r = cuInit(0);
  if (r != CUDA_SUCCESS) {
    error = "cuInit: " + cuErrorText(r);
    return false;
  }
  int count = 0;
  if ((r = cuDeviceGetCount(&count)) != CUDA_SUCCESS) {
    error = "cuDeviceGetCount: " + cuErrorText(r);
    return false;
  }
  boot::GetEnv env = boot::processEnvironment();
  boot::Placement placement;
  if (!boot::detectPlacement(env, placement, error))
    return false;
  int ordinal = s.requestedDevice;
  if (ordinal < 0) {
    ordinal = boot::chooseDevice(env, placement, count, error);
    if (ordinal < 0)
      return false;
  } else if (ordinal >= count) {
    error = "mgpuSetDefaultDevice(" + std::to_string(ordinal) + "): only " +
            std::to_string(count) + " device(s) are visible";
    return false;
  }
  if ((r = cuDeviceGet(&s.device, ordinal)) != CUDA_SUCCESS) {
    error = "cuDeviceGet: " + cuErrorText(r);
    return false;
  }
  if ((r = cuDevicePrimaryCtxRetain(&s.context, s.device)) != CUDA_SUCCESS) {
    error = "cuDevicePrimaryCtxRetain: " + cuErrorText(r);
    return false;
  }
  if ((r = cuCtxSetCurrent(s.context)) != CUDA_SUCCESS) {
    error = "cuCtxSetCurrent: " + cuErrorText(r);
    return false;
  }
  cudaError_t e = cudaSetDevice(ordinal);
  if (e != cudaSuccess) {
    error = std::string("cudaSetDevice: ") + cudaGetErrorString(e);
    return false;
  }
  cudaStream_t created = nullptr;
  if ((e = cudaStreamCreateWithFlags(&created, cudaStreamNonBlocking)) !=
      cudaSuccess) {
    error = std::string("cudaStreamCreateWithFlags: ") + cudaGetErrorString(e);
    return false;
  }
  // Keep freed stream-ordered memory in the pool instead of returning it to
  // the driver at every synchronization.
  cudaMemPool_t pool;
  if (cudaDeviceGetDefaultMemPool(&pool, ordinal) == cudaSuccess) {
    uint64_t threshold = UINT64_MAX;
    cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold);
  }
  s.stream = reinterpret_cast<CUstream>(created);
  s.ordinal = ordinal;
  s.tf32 = envFlag("TP_ALLOW_TF32");
  s.policy = new SyncPolicy(envFlag("TP_STRICT_SYNC"));
  return true;
}

} // namespace

std::string cuErrorText(CUresult result) {
  const char *text = nullptr;
  const char *name = nullptr;
  if (cuGetErrorString(result, &text) == CUDA_SUCCESS && text) {
    if (cuGetErrorName(result, &name) == CUDA_SUCCESS && name)
      return std::string(text) + " (" + name + ")";
    return text;
  }
  switch (result) {
  case CUDA_ERROR_STUB_LIBRARY:
    return "CUDA driver is a stub library (CUDA_ERROR_STUB_LIBRARY): this "
           "machine has no GPU driver";
  case CUDA_ERROR_NO_DEVICE:
    return "no CUDA-capable device is detected (CUDA_ERROR_NO_DEVICE)";
  default:
    return "CUDA driver error " + std::to_string(int(result));
  }
}

void fatal(const std::string &message) { tp_abort(1, message.c_str()); }

namespace {
// The capture in progress (one at a time, on one thread).
struct Capture {
  std::mutex mutex;
  std::string refusal; // setCaptureRefusal
  std::string failure; // the first thing that could not be captured
};
Capture &capture() {
  static Capture *c = new Capture;
  return *c;
}
thread_local bool capturingOnThisThread = false;
} // namespace

bool capturingHere() { return capturingOnThisThread; }

void captureFailed(const std::string &reason) {
  Capture &c = capture();
  std::lock_guard<std::mutex> lock(c.mutex);
  if (c.failure.empty())
    c.failure = reason;
}

void setCaptureRefusal(const std::string &reason) {
  Capture &c = capture();
  std::lock_guard<std::mutex> lock(c.mutex);
  c.refusal = reason;
}

bool tryEnsureContext(std::string &error) {
  State &s = state();
  if (!s.ready.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(s.mutex);
    if (!s.ready.load(std::memory_order_relaxed)) {
      if (!s.failure.empty()) {
        error = s.failure;
        return false;
      }
      if (!create(s, error)) {
        s.failure = error;
        return false;
      }
      contextCurrent = true;
      s.ready.store(true, std::memory_order_release);
    }
  }
  if (!contextCurrent) {
    CUresult r = cuCtxSetCurrent(s.context);
    if (r != CUDA_SUCCESS) {
      error = "cuCtxSetCurrent: " + cuErrorText(r);
      return false;
    }
    cudaError_t e = cudaSetDevice(s.ordinal);
    if (e != cudaSuccess) {
      error = std::string("cudaSetDevice: ") + cudaGetErrorString(e);
      return false;
    }
    contextCurrent = true;
  }
  return true;
}

void ensureContext() {
  if (contextCurrent)
    return;
  std::string error;
  if (!tryEnsureContext(error))
    fatal(error);
}

CUstream stream() { return state().stream; }

int deviceOrdinal() { return state().ordinal; }

bool allowTf32() { return state().tf32; }

SyncPolicy &syncPolicy() { return *state().policy; }

std::mutex &syncMutex() { return state().syncMutex; }

void setDefaultDevice(int device) {
  State &s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.ready.load()) {
    if (device != s.ordinal)
      fatal("mgpuSetDefaultDevice(" + std::to_string(device) +
            "): the runtime already uses device " + std::to_string(s.ordinal) +
            " (one device per process)");
    return;
  }
  s.requestedDevice = device;
}

void synchronizeStream(bool force, const char *what) {
  ensureContext();
  {
    std::lock_guard<std::mutex> lock(syncMutex());
    if (!force && !syncPolicy().mustWait())
      return;
  }
  if (capturingHere())
    return captureFailed(std::string(what) +
                         ": the host waits for the stream inside a CUDA "
                         "graph capture");
  checkCu(cuStreamSynchronize(stream()), what);
  std::lock_guard<std::mutex> lock(syncMutex());
  syncPolicy().waited();
}

namespace {
// tp_rt_timer_start / tp_rt_timer_stop: two timing events, created on first
// use (mgpuEventCreate's have timing disabled).
CUevent timerEvents[2] = {nullptr, nullptr};
} // namespace

} // namespace tp::gpu

extern "C" {

void tp_rt_timer_start(void) {
  using namespace tp::gpu;
  ensureContext();
  for (CUevent &event : timerEvents)
    if (!event)
      checkCu(cuEventCreate(&event, CU_EVENT_DEFAULT),
              "tp_rt_timer_start: cuEventCreate");
  checkCu(cuEventRecord(timerEvents[0], stream()),
          "tp_rt_timer_start: cuEventRecord");
}

double tp_rt_timer_stop(void) {
  using namespace tp::gpu;
  ensureContext();
  if (!timerEvents[0])
    fatal("tp_rt_timer_stop: called before tp_rt_timer_start");
  checkCu(cuEventRecord(timerEvents[1], stream()),
          "tp_rt_timer_stop: cuEventRecord");
  synchronizeStream(true, "tp_rt_timer_stop: cuStreamSynchronize");
  float milliseconds = 0;
  checkCu(cuEventElapsedTime(&milliseconds, timerEvents[0], timerEvents[1]),
          "tp_rt_timer_stop: cuEventElapsedTime");
  return double(milliseconds);
}

int64_t tp_rt_device_memory_peak(void) {
  using namespace tp::gpu;
  ensureContext();
  cudaMemPool_t pool;
  uint64_t high = 0;
  if (cudaDeviceGetDefaultMemPool(&pool, deviceOrdinal()) != cudaSuccess ||
      cudaMemPoolGetAttribute(pool, cudaMemPoolAttrUsedMemHigh, &high) !=
          cudaSuccess)
    return -1;
  // A replayed CUDA graph allocates from the device's graph memory pool,
  // which holds its memory besides the default pool's.
  uint64_t graphHigh = 0;
  if (cudaDeviceGetGraphMemAttribute(deviceOrdinal(),
                                     cudaGraphMemAttrUsedMemHigh,
                                     &graphHigh) != cudaSuccess) {
    cudaGetLastError();
    graphHigh = 0;
  }
  return int64_t(high + graphHigh);
}

int32_t tp_rt_graph_begin(void) {
  using namespace tp::gpu;
  std::string error;
  if (!tryEnsureContext(error)) {
    tp::rt::setError(TP_ERR_BACKEND, "tp_rt_graph_begin: %s", error.c_str());
    return 0;
  }
  Capture &c = capture();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    if (!c.refusal.empty()) {
      tp::rt::setError(TP_ERR_UNSUPPORTED, "%s", c.refusal.c_str());
      return 0;
    }
    if (capturingOnThisThread) {
      tp::rt::setError(TP_ERR_STATE, "tp_rt_graph_begin: already capturing");
      return 0;
    }
  }
  {
    std::lock_guard<std::mutex> lock(syncMutex());
    if (syncPolicy().strictSync() || syncPolicy().hostVisible()) {
      tp::rt::setError(TP_ERR_UNSUPPORTED, "%s",
                       syncPolicy().strictSync()
                           ? "TP_STRICT_SYNC=1 makes every synchronization "
                             "wait, which a CUDA graph cannot capture"
                           : "managed or host-registered memory exists, so "
                             "synchronizations wait for the host");
      return 0;
    }
  }
  // Nothing of the previous call may still run into the capture.
  synchronizeStream(true, "tp_rt_graph_begin: cuStreamSynchronize");
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    c.failure.clear();
  }
  cudaError_t e =
      cudaStreamBeginCapture(reinterpret_cast<cudaStream_t>(stream()),
                             cudaStreamCaptureModeThreadLocal);
  if (e != cudaSuccess) {
    cudaGetLastError();
    tp::rt::setError(TP_ERR_BACKEND, "cudaStreamBeginCapture: %s",
                     cudaGetErrorString(e));
    return 0;
  }
  capturingOnThisThread = true;
  return 1;
}

void *tp_rt_graph_end(void) {
  using namespace tp::gpu;
  if (!capturingOnThisThread) {
    tp::rt::setError(TP_ERR_STATE,
                     "tp_rt_graph_end: no capture in progress on this thread");
    return nullptr;
  }
  capturingOnThisThread = false;
  cudaGraph_t graph = nullptr;
  cudaError_t e =
      cudaStreamEndCapture(reinterpret_cast<cudaStream_t>(stream()), &graph);
  std::string failure;
  {
    Capture &c = capture();
    std::lock_guard<std::mutex> lock(c.mutex);
    failure.swap(c.failure);
  }
  if (e != cudaSuccess && failure.empty())
    failure = std::string("cudaStreamEndCapture: ") + cudaGetErrorString(e);
  cudaGraphExec_t exec = nullptr;
  if (failure.empty()) {
    e = cudaGraphInstantiateWithFlags(&exec, graph,
                                      cudaGraphInstantiateFlagAutoFreeOnLaunch);
    if (e != cudaSuccess)
      failure = std::string("cudaGraphInstantiateWithFlags: ") +
                cudaGetErrorString(e);
  }
  if (graph)
    cudaGraphDestroy(graph);
  if (!failure.empty()) {
    cudaGetLastError(); // the capture's errors are not the next call's
    tp::rt::setError(TP_ERR_UNSUPPORTED, "%s", failure.c_str());
    return nullptr;
  }
  return exec;
}

void tp_rt_graph_launch(void *graph) {
  using namespace tp::gpu;
  ensureContext();
  checkCuda(cudaGraphLaunch(static_cast<cudaGraphExec_t>(graph),
                            reinterpret_cast<cudaStream_t>(stream())),
            "tp_rt_graph_launch: cudaGraphLaunch");
}

void tp_rt_graph_destroy(void *graph) {
  if (graph)
    cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(graph));
}

void tp_rt_sync(void) {
  tp::gpu::synchronizeStream(true, "tp_rt_sync: cuStreamSynchronize");
}

void *tp_rt_stream(void) {
  tp::gpu::ensureContext();
  return tp::gpu::stream();
}

int32_t tp_rt_device(void) {
  tp::gpu::ensureContext();
  return tp::gpu::deviceOrdinal();
}

} // extern "C"
