//===- Cuda.h - The process's CUDA context and persistent stream -*- C++
//-*-===//
//
// One device, its primary context (shared by the driver API, cudart, cuBLASLt
// and NCCL) and ONE persistent non-blocking stream per process, all created
// lazily on first use from any thread: compiled models load their kernel
// modules from global constructors, before main and before tp_init.
//
// Every CUDA status is checked; a failure ends every rank through tp_abort
// with "tp: rank R: <call>: <reason>".
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_GPU_CUDA_H
#define TP_RUNTIME_GPU_CUDA_H

#include "GPU/DeviceLayout.h"

#include <cuda.h>
#include <cuda_runtime_api.h>

#include <mutex>
#include <string>

namespace tp::gpu {

/// Creates the context and stream if needed and makes the context current
/// on this thread. Aborts on failure.
void ensureContext();

/// Same, returning false with `error` instead of aborting (tp_init).
bool tryEnsureContext(std::string &error);

/// The persistent stream (ensureContext() first).
CUstream stream();

/// The device ordinal in use (ensureContext() first).
int deviceOrdinal();

/// mgpuSetDefaultDevice: chooses the device for a context not created yet.
void setDefaultDevice(int device);

/// Whether TP_ALLOW_TF32=1 was set when the context was created.
bool allowTf32();

/// The sync policy and the lock that guards it.
SyncPolicy &syncPolicy();
std::mutex &syncMutex();

/// Waits for the persistent stream (always, `force`) or only when the sync
/// policy says the host may look at the results.
void synchronizeStream(bool force, const char *what);

[[noreturn]] void fatal(const std::string &message);

std::string cuErrorText(CUresult result);

/// CUDA graph capture of the persistent stream (tp_rt_graph_begin / _end).
/// While THIS thread captures, a failing CUDA call, a host wait or anything
/// else that cannot be captured does not abort: captureFailed records it
/// (the first reason is kept), the call returns, and tp_rt_graph_end
/// discards the capture -- nothing captured has run, so the caller runs the
/// step again without capture, where a real error aborts as usual.
bool capturingHere();
void captureFailed(const std::string &reason);

/// Why capture cannot even start in this process ("" if it can): set by the
/// backend (collectives over host memory wait on the host).
void setCaptureRefusal(const std::string &reason);

/// A failure: recorded while capturing on this thread, else fatal.
inline void failOrAbsorb(const std::string &message) {
  if (capturingHere())
    return captureFailed(message);
  fatal(message);
}

inline void checkCu(CUresult result, const char *call) {
  if (result != CUDA_SUCCESS)
    failOrAbsorb(std::string(call) + ": " + cuErrorText(result));
}

inline void checkCuda(cudaError_t result, const char *call) {
  if (result != cudaSuccess)
    failOrAbsorb(std::string(call) + ": " + cudaGetErrorString(result));
}

} // namespace tp::gpu

#endif // TP_RUNTIME_GPU_CUDA_H
