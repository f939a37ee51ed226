//===- NCCLBackend.cpp - tp runtime ABI implemented with NCCL -------------===//
//
// libtp_runtime_nccl: the tp_* ABI of tp_runtime.h on DEVICE pointers. One
// NCCL communicator per process, created by tp_init:
//   1. rank / size / local rank from the environment (Bootstrap/Environment.h);
//   2. rank 0 creates the NCCL unique id and the TCP rendezvous hands it to
//      every rank (Bootstrap/Rendezvous.h); its connections stay open as the
//      liveness channel;
//   3. a watchdog thread polls that channel and ncclCommGetAsyncError every
//      100 ms: a peer that dies (connection closed without a goodbye), an
//      abort announced by a peer, or an asynchronous NCCL error makes this
//      rank ncclCommAbort and exit -- never hang;
//   4. the CUDA context on device (TP_DEVICE or local rank % devices) and
//      ncclCommInitRank.
// Collectives are NCCL calls on the persistent stream (Cuda.h). The public
// tp_* functions then wait for the stream (they are blocking, as the header
// says); the tp_rt_* ones called by compiled code only enqueue.
// Middle-dimension layouts (outer > 1) are packed through a device scratch
// buffer with one cudaMemcpy2DAsync per rank (DeviceLayout.h).
// tp_set_collectives("host") before tp_init replaces NCCL by collectives
// through host memory shared by the ranks (HostCollectives.h), so that
// several ranks can share one device: rank 0 then sends the name of the
// shared segment instead of the NCCL id; no NCCL communicator exists.
//
//===----------------------------------------------------------------------===//

#include "Bootstrap/Environment.h"
#include "Bootstrap/Rendezvous.h"
#include "Common/Backend.h"
#include "Common/DType.h"
#include "Common/EntryPoints.h"
#include "Common/Error.h"
#include "Common/ExitCode.h"
#include "GPU/Cuda.h"
#include "GPU/DeviceLayout.h"
#include "GPU/HostCollectives.h"
#include "tp/runtime/tp_runtime.h"
#include "tp/runtime/tp_runtime_gpu.h"

#include <nccl.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <sys/mman.h>
#include <thread>
#include <unistd.h>

using namespace tp::rt;
using namespace tp::gpu;

namespace {

// Whether tp_init succeeded, the rank and the size: Common/EntryPoints.h.
struct Backend {
  /// The rendezvous ran, whether it succeeded or not. It runs once per
  /// process: the peers do not come back for a second one, and rank 0 has
  /// closed its listener (tp-launch's inherited socket included). A tp_init
  /// that fails after it fails the same way on every retry
  /// (beginOncePerProcessStep).
  bool bootstrapped = false;
  ncclComm_t comm = nullptr;
  void *scratch = nullptr; // device, grows
  size_t scratchBytes = 0;
  int32_t *barrierWord = nullptr; // device
  bool hostCollectives = false;   // tp_set_collectives("host")
  std::unique_ptr<HostTeam> team; // the host collectives' team
};

/// Per slot of the host collectives' shared segment (each rank has one).
/// 4 MiB: 8 ranks fit in half of a container's usual 64 MiB /dev/shm.
constexpr size_t hostSlotBytes = 4u << 20;
/// A backstop for a barrier of the host collectives: a dead peer is caught
/// by the watchdog at once, a hung one by tp-launch --timeout.
constexpr double hostBarrierTimeoutSeconds = 3600;

Backend backend;

// The liveness channel and the watchdog. Leaked on purpose: tp_abort may run
// during exit.
tp::boot::Rendezvous &rendezvous() {
  static auto *r = new tp::boot::Rendezvous;
  return *r;
}
std::thread *watchdog = nullptr;
std::atomic<bool> stopWatchdog{false};
std::mutex commMutex;             // guards watchedComm against finalize
ncclComm_t watchedComm = nullptr; // what the watchdog checks / aborts

// Rank 0's host-collectives segment until every rank has mapped it (its
// name is then gone): terminate() removes it if the team never forms.
char pendingSegment[64] = {0};

/// Ends this process: prints (optionally), tells the peers (optionally),
/// aborts the communicator and exits. Safe from any thread; the first caller
/// wins.
[[noreturn]] void terminate(int exitCode, const std::string &message,
                            bool print, bool announce) {
  // _exit(256) would read as success (an abort forwarded by a peer too):
  // claimAbort changes it.
  exitCode = claimAbort(exitCode);
  if (print)
    printAbortLine(message.empty() ? nullptr : message.c_str());
  if (pendingSegment[0])
    shm_unlink(pendingSegment);
  if (announce)
    rendezvous().announceAbort(rankState().rank.load(), exitCode,
                               print ? message : std::string());
  // If aborting the communicator hangs, SIGALRM still ends the process.
  std::signal(SIGALRM, SIG_DFL);
  alarm(10);
  ncclComm_t comm = nullptr;
  if (commMutex.try_lock()) {
    comm = watchedComm;
    commMutex.unlock();
  }
  if (comm)
    ncclCommAbort(comm);
  _exit(exitCode);
}

void watchdogLoop() {
  while (!stopWatchdog.load()) {
    tp::boot::PeerEvent event = rendezvous().poll(100);
    if (stopWatchdog.load())
      break;
    if (event.kind == tp::boot::PeerEvent::PeerLost) {
      const int rank = rankState().rank.load();
      std::string message =
          event.peer == 0
              ? "lost the connection to rank 0 (it exited or crashed); "
                "aborting"
              : "rank " + std::to_string(event.peer) +
                    " ended without finishing (it exited or crashed); "
                    "aborting every rank";
      // Rank 0 tells the others; another rank just goes.
      terminate(1, message, true, rank == 0);
    }
    if (event.kind == tp::boot::PeerEvent::PeerAborted) {
      // The rank that aborted said why (rank 0 already forwarded it).
      terminate(event.exitCode, std::string(), false, false);
    }
    ncclResult_t asyncError = ncclSuccess;
    {
      std::lock_guard<std::mutex> lock(commMutex);
      if (watchedComm &&
          ncclCommGetAsyncError(watchedComm, &asyncError) != ncclSuccess)
        asyncError = ncclSuccess; // cannot tell; try again
    }
    if (asyncError != ncclSuccess && asyncError != ncclInProgress)
      terminate(1,
                std::string("NCCL reported an asynchronous error: ") +
                    ncclGetErrorString(asyncError) +
                    " (ncclCommGetAsyncError); aborting every rank",
                true, true);
  }
}

tp_status ncclFailure(const char *fn, const char *call, ncclResult_t r) {
  const char *detail = backend.comm ? ncclGetLastError(backend.comm) : "";
  return setError(TP_ERR_BACKEND, "%s: %s failed: %s%s%s%s", fn, call,
                  ncclGetErrorString(r), detail && *detail ? " (" : "",
                  detail ? detail : "", detail && *detail ? ")" : "");
}

tp_status cudaFailure(const char *fn, const char *call, cudaError_t e) {
  return setError(TP_ERR_BACKEND, "%s: %s failed: %s", fn, call,
                  cudaGetErrorString(e));
}

ncclDataType_t ncclType(int64_t dtype) {
  switch (dtype) {
  case TP_F32:
    return ncclFloat32;
  case TP_F64:
    return ncclFloat64;
  case TP_F16:
    return ncclFloat16;
  case TP_BF16:
    return ncclBfloat16;
  case TP_I32:
    return ncclInt32;
  default:
    return ncclInt64;
  }
}

ncclRedOp_t ncclOp(int64_t op) {
  return op == TP_MAX ? ncclMax : op == TP_MIN ? ncclMin : ncclSum;
}

cudaStream_t ncclStream() {
  ensureContext(); // current on this thread too
  return reinterpret_cast<cudaStream_t>(stream());
}

/// The public functions take device pointers; catch a host pointer with a
/// message rather than an illegal-address error later.
tp_status checkDevicePointer(const char *fn, const char *what, const void *p,
                             int64_t elements) {
  if (elements == 0 || !p)
    return TP_OK;
  cudaPointerAttributes attributes;
  if (cudaPointerGetAttributes(&attributes, p) != cudaSuccess) {
    cudaGetLastError();
    return setError(TP_ERR_INVALID_ARGUMENT,
                    "%s: %s is not CUDA memory (the nccl backend's "
                    "collectives take device pointers)",
                    fn, what);
  }
  if (attributes.type == cudaMemoryTypeUnregistered)
    return setError(TP_ERR_INVALID_ARGUMENT,
                    "%s: %s is pageable host memory (the nccl backend's "
                    "collectives take device pointers)",
                    fn, what);
  return TP_OK;
}

/// checkDevicePointer on a collective's src and dst (`srcCount` and
/// `dstCount` elements).
tp_status checkDevicePointers(const char *fn, const void *src, int64_t srcCount,
                              const void *dst, int64_t dstCount) {
  if (tp_status status = checkDevicePointer(fn, "src", src, srcCount))
    return status;
  return checkDevicePointer(fn, "dst", dst, dstCount);
}

tp_status waitForStream(const char *fn) {
  if (cudaError_t e = cudaStreamSynchronize(ncclStream()); e != cudaSuccess)
    return cudaFailure(fn, "cudaStreamSynchronize", e);
  ncclResult_t asyncError = ncclSuccess;
  ncclCommGetAsyncError(backend.comm, &asyncError);
  if (asyncError != ncclSuccess && asyncError != ncclInProgress)
    return ncclFailure(fn, "a collective", asyncError);
  return TP_OK;
}

void *scratch(size_t bytes) {
  if (bytes <= backend.scratchBytes)
    return backend.scratch;
  if (capturingHere()) {
    // Grown on a plain call: a buffer allocated inside a capture would
    // vanish with a discarded one.
    captureFailed("a collective's device scratch buffer had to grow inside a "
                  "CUDA graph capture");
    return nullptr;
  }
  if (backend.scratch)
    cudaFreeAsync(backend.scratch, ncclStream());
  backend.scratch = nullptr;
  backend.scratchBytes = 0;
  if (cudaMallocAsync(&backend.scratch, bytes, ncclStream()) != cudaSuccess) {
    cudaGetLastError();
    backend.scratch = nullptr;
    return nullptr;
  }
  backend.scratchBytes = bytes;
  return backend.scratch;
}

/// The device scratch buffer for a checked all_gather's or reduce_scatter's
/// rank-major copy (`extent.total` elements), or the error.
tp_status scratchFor(const char *fn, const CollectiveExtent &extent,
                     void *&buffer) {
  const size_t bytes = size_t(extent.total) * extent.elementSize;
  buffer = scratch(bytes);
  if (!buffer)
    return setError(TP_ERR_BACKEND,
                    "%s: out of device memory (%zu bytes of scratch)", fn,
                    bytes);
  return TP_OK;
}

tp_status copies2D(const char *fn, const std::vector<Copy2D> &copies,
                   const void *src, void *dst) {
  for (const Copy2D &c : copies)
    if (cudaError_t e = cudaMemcpy2DAsync(
            static_cast<char *>(dst) + c.dstOffset, c.dstPitch,
            static_cast<const char *>(src) + c.srcOffset, c.srcPitch, c.width,
            c.height, cudaMemcpyDeviceToDevice, ncclStream());
        e != cudaSuccess)
      return cudaFailure(fn, "cudaMemcpy2DAsync", e);
  return TP_OK;
}

/// The host collectives' staging: device <-> host copies on the persistent
/// stream, waited for (stream order also makes them wait for the kernels
/// that produced the data).
class DeviceStaging : public Staging {
public:
  bool toHost(void *host, const void *src, size_t bytes,
              std::string &error) override {
    return copy(host, src, bytes, error);
  }
  bool toDevice(void *dst, const void *host, size_t bytes,
                std::string &error) override {
    return copy(dst, host, bytes, error);
  }

private:
  static bool copy(void *dst, const void *src, size_t bytes,
                   std::string &error) {
    if (bytes == 0)
      return true;
    cudaError_t e =
        cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, ncclStream());
    if (e == cudaSuccess)
      e = cudaStreamSynchronize(ncclStream());
    if (e != cudaSuccess) {
      error = std::string("host collectives: staging copy: ") +
              cudaGetErrorString(e);
      return false;
    }
    return true;
  }
};

tp_status hostFailure(const char *fn, const std::string &error) {
  return setError(TP_ERR_BACKEND, "%s: %s", fn, error.c_str());
}

/// Runs a collective through the host collectives' team
/// (tp_set_collectives("host")): `collective(team, staging, error)` is one
/// of HostCollectives.h's.
template <typename Collective>
tp_status throughHost(const char *fn, Collective collective) {
  DeviceStaging staging;
  std::string error;
  return collective(*backend.team, staging, error) ? TP_OK
                                                   : hostFailure(fn, error);
}

//===----------------------------------------------------------------------===//
// The collectives (blocking: wait for the stream before returning)
//===----------------------------------------------------------------------===//

tp_status allReduce(const void *src, void *dst, int64_t count, int64_t dtype,
                    int64_t op, bool blocking) {
  const char *fn = blocking ? "tp_all_reduce" : "tp_rt_all_reduce";
  InCollective scope;
  tp_status status;
  if ((status = checkAllReduceArguments(fn, src, dst, count, dtype, op)) ||
      (blocking && (status = checkDevicePointers(fn, src, count, dst, count))))
    return status;
  if (count == 0)
    return TP_OK;
  if (backend.team)
    return throughHost(fn, [&](HostTeam &team, Staging &staging,
                               std::string &error) {
      return hostAllReduce(team, staging, src, dst, count, dtype, op, error);
    });
  if (ncclResult_t r = ncclAllReduce(src, dst, size_t(count), ncclType(dtype),
                                     ncclOp(op), backend.comm, ncclStream());
      r != ncclSuccess)
    return ncclFailure(fn, "ncclAllReduce", r);
  return blocking ? waitForStream(fn) : TP_OK;
}

tp_status allGather(const void *src, void *dst, int64_t outer, int64_t chunk,
                    int64_t dtype, bool blocking) {
  const char *fn = blocking ? "tp_all_gather" : "tp_rt_all_gather";
  InCollective scope;
  CollectiveExtent extent;
  tp_status status;
  if ((status = checkAllGatherArguments(fn, src, dst, outer, chunk, dtype,
                                        extent)) ||
      (blocking && (status = checkDevicePointers(fn, src, extent.perRank, dst,
                                                 extent.total))))
    return status;
  if (extent.perRank == 0)
    return TP_OK;
  if (backend.team)
    return throughHost(fn, [&](HostTeam &team, Staging &staging,
                               std::string &error) {
      return hostAllGather(team, staging, src, dst, outer, chunk, dtype, error);
    });
  void *receive = dst;
  if (outer > 1 && rankState().size > 1 &&
      (status = scratchFor(fn, extent, receive)))
    return status;
  if (ncclResult_t r =
          ncclAllGather(src, receive, size_t(extent.perRank), ncclType(dtype),
                        backend.comm, ncclStream());
      r != ncclSuccess)
    return ncclFailure(fn, "ncclAllGather", r);
  // receive is [size][outer][chunk]; dst wants [outer][size][chunk].
  if (receive != dst &&
      (status = copies2D(fn,
                         gatherUnpackCopies(outer, rankState().size, chunk,
                                            extent.elementSize),
                         receive, dst)))
    return status;
  return blocking ? waitForStream(fn) : TP_OK;
}

tp_status reduceScatter(const void *src, void *dst, int64_t outer,
                        int64_t chunk, int64_t dtype, int64_t op,
                        bool blocking) {
  const char *fn = blocking ? "tp_reduce_scatter" : "tp_rt_reduce_scatter";
  InCollective scope;
  CollectiveExtent extent;
  tp_status status;
  if ((status = checkReduceScatterArguments(fn, src, dst, outer, chunk, dtype,
                                            op, extent)) ||
      (blocking && (status = checkDevicePointers(fn, src, extent.total, dst,
                                                 extent.perRank))))
    return status;
  if (extent.perRank == 0)
    return TP_OK;
  if (backend.team)
    return throughHost(
        fn, [&](HostTeam &team, Staging &staging, std::string &error) {
          return hostReduceScatter(team, staging, src, dst, outer, chunk, dtype,
                                   op, error);
        });
  // NCCL scatters rank-major blocks: [outer][size][chunk] ->
  // [size][outer][chunk].
  const void *send = src;
  if (outer > 1 && rankState().size > 1) {
    void *packed = nullptr;
    if ((status = scratchFor(fn, extent, packed)) ||
        (status = copies2D(fn,
                           scatterPackCopies(outer, rankState().size, chunk,
                                             extent.elementSize),
                           src, packed)))
      return status;
    send = packed;
  }
  if (ncclResult_t r =
          ncclReduceScatter(send, dst, size_t(extent.perRank), ncclType(dtype),
                            ncclOp(op), backend.comm, ncclStream());
      r != ncclSuccess)
    return ncclFailure(fn, "ncclReduceScatter", r);
  return blocking ? waitForStream(fn) : TP_OK;
}

/// Watches the peers (if any) from now on: the liveness channel is open.
void startWatching(const tp::boot::Placement &placement) {
  if (placement.size > 1) {
    stopWatchdog = false;
    watchdog = new std::thread(watchdogLoop);
  }
}

/// The rendezvous: rank 0's `payload` (the NCCL id, or the name of the
/// host collectives' segment) to every rank. Once it has run, tp_init cannot
/// run it again (backend.bootstrapped); once it has succeeded, the watchdog
/// watches the peers, whatever this rank makes of the payload.
tp_status exchangePayload(const char *fn, const tp::boot::Placement &placement,
                          const tp::boot::MasterAddress &address,
                          std::vector<unsigned char> &payload) {
  backend.bootstrapped = true;
  beginOncePerProcessStep("the rendezvous");
  std::string error;
  if (!rendezvous().exchange(placement.rank, placement.size, address, payload,
                             error))
    return setError(rendezvous().timedOut() ? TP_ERR_TIMEOUT : TP_ERR_BACKEND,
                    "%s: %s", fn, error.c_str());
  startWatching(placement);
  return TP_OK;
}

/// tp_init for tp_set_collectives("host"): the segment's name travels
/// where the NCCL id would; then the liveness watchdog, one barrier (after
/// which rank 0 removes the segment's name), and the CUDA context.
tp_status initHostCollectives(const char *fn,
                              const tp::boot::Placement &placement,
                              const tp::boot::MasterAddress &address) {
  std::string error;
  std::vector<unsigned char> payload;
  std::unique_ptr<ShmTeam> team;
  if (placement.rank == 0) {
    const std::string name = ShmTeam::uniqueName();
    team = ShmTeam::create(name, 0, placement.size, hostSlotBytes,
                           hostBarrierTimeoutSeconds, error);
    if (!team)
      return setError(TP_ERR_BACKEND, "%s: %s", fn, error.c_str());
    payload.assign(name.begin(), name.end());
    std::snprintf(pendingSegment, sizeof(pendingSegment), "%s", name.c_str());
  }
  if (tp_status status = exchangePayload(fn, placement, address, payload))
    return status;
  if (placement.rank != 0) {
    team = ShmTeam::create(std::string(payload.begin(), payload.end()),
                           placement.rank, placement.size, hostSlotBytes,
                           hostBarrierTimeoutSeconds, error);
    if (!team)
      return setError(TP_ERR_BACKEND, "%s: %s", fn, error.c_str());
  }
  // Every rank has mapped the segment after this (rank 0 removes its name),
  // so a rank failing below cannot make another one's attach fail.
  if (!team->barrier(error))
    return setError(TP_ERR_TIMEOUT, "%s: %s", fn, error.c_str());
  pendingSegment[0] = '\0'; // every rank mapped it: the name is gone
  if (!tryEnsureContext(error))
    return setError(TP_ERR_BACKEND, "%s: %s", fn, error.c_str());
  setCaptureRefusal("collectives over host memory (--collectives host) wait "
                    "on the host, which a CUDA graph cannot capture");
  backend.team = std::move(team);
  markInitialized(placement.rank, placement.size);
  return TP_OK;
}

/// Rank 0's NCCL unique id, handed to every rank by the rendezvous.
tp_status shareNcclId(const char *fn, const tp::boot::Placement &placement,
                      const tp::boot::MasterAddress &address,
                      ncclUniqueId &id) {
  std::memset(&id, 0, sizeof(id));
  std::vector<unsigned char> payload;
  if (placement.rank == 0) {
    if (ncclResult_t r = ncclGetUniqueId(&id); r != ncclSuccess)
      return ncclFailure(fn, "ncclGetUniqueId", r);
    payload.assign(reinterpret_cast<unsigned char *>(&id),
                   reinterpret_cast<unsigned char *>(&id) + sizeof(id));
  }
  if (tp_status status = exchangePayload(fn, placement, address, payload))
    return status;
  // A rank 0 with the host collectives sends its segment's name instead.
  if (payload.size() != sizeof(id))
    return setError(TP_ERR_BACKEND,
                    "%s: rendezvous: got a %zu-byte id from rank 0, expected "
                    "%zu (do all ranks use the same collectives? "
                    "tp-launch --collectives, tp_set_collectives)",
                    fn, payload.size(), sizeof(id));
  std::memcpy(&id, payload.data(), sizeof(id));
  return TP_OK;
}

/// NCCL needs a device per rank: TP_ERR_UNSUPPORTED, saying what to do,
/// when ranks would share one (HostCollectives.h's sharedDeviceProblem).
tp_status checkOwnDevice(const char *fn, const tp::boot::Placement &placement) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess)
    devices = 0;
  const char *chosen = std::getenv("TP_DEVICE");
  const char *visible = std::getenv("CUDA_VISIBLE_DEVICES");
  std::string problem = sharedDeviceProblem(
      placement.rank, placement.localRank, devices,
      chosen && *chosen ? deviceOrdinal() : -1, visible != nullptr);
  if (!problem.empty())
    return setError(TP_ERR_UNSUPPORTED, "%s: %s", fn, problem.c_str());
  return TP_OK;
}

/// The communicator (watched by the watchdog from now on) and the word
/// tp_barrier all-reduces.
tp_status createCommunicator(const char *fn,
                             const tp::boot::Placement &placement,
                             const ncclUniqueId &id) {
  ncclComm_t comm = nullptr;
  if (ncclResult_t r =
          ncclCommInitRank(&comm, placement.size, id, placement.rank);
      r != ncclSuccess)
    // (ncclGetLastError's communicator argument is unused: NULL is fine.)
    return setError(TP_ERR_BACKEND,
                    "%s: ncclCommInitRank failed: %s (%s; ranks that share "
                    "a device need tp-launch --collectives host)",
                    fn, ncclGetErrorString(r), ncclGetLastError(nullptr));
  backend.comm = comm;
  {
    std::lock_guard<std::mutex> lock(commMutex);
    watchedComm = comm;
  }
  if (cudaError_t e = cudaMalloc(
          reinterpret_cast<void **>(&backend.barrierWord), sizeof(int32_t));
      e != cudaSuccess)
    return cudaFailure(fn, "cudaMalloc", e);
  return TP_OK;
}

/// tp_init with NCCL: the id from rank 0 to everyone before any CUDA work
/// (a rank that then fails is seen by the others through the liveness
/// channel), the CUDA context, and the communicator.
tp_status initNccl(const char *fn, const tp::boot::Placement &placement,
                   const tp::boot::MasterAddress &address) {
  ncclUniqueId id;
  tp_status status;
  if ((status = shareNcclId(fn, placement, address, id)))
    return status;
  std::string error;
  if (!tryEnsureContext(error))
    return setError(TP_ERR_BACKEND, "%s: %s", fn, error.c_str());
  if ((placement.size > 1 && (status = checkOwnDevice(fn, placement))) ||
      (status = createCommunicator(fn, placement, id)))
    return status;
  markInitialized(placement.rank, placement.size);
  return TP_OK;
}

/// tp_finalize's collective part: every rank is done with the host
/// collectives' segment before it goes, or the communicator is finalized
/// (the watchdog still watches the peers meanwhile). `result` keeps the
/// first failure.
void finalizeCollectives(const char *fn, tp_status &result) {
  if (backend.team) {
    std::string error;
    if (!backend.team->barrier(error) && result == TP_OK)
      result = setError(TP_ERR_TIMEOUT, "%s: %s", fn, error.c_str());
    backend.team.reset();
    return;
  }
  if (ncclResult_t r = ncclCommFinalize(backend.comm);
      r != ncclSuccess && result == TP_OK)
    result = ncclFailure(fn, "ncclCommFinalize", r);
  if (ncclResult_t r = ncclCommDestroy(backend.comm);
      r != ncclSuccess && result == TP_OK)
    result = ncclFailure(fn, "ncclCommDestroy", r);
  backend.comm = nullptr;
}

} // namespace

//===----------------------------------------------------------------------===//
// The backend's part of tp_init / tp_finalize / tp_barrier (Backend.h)
//===----------------------------------------------------------------------===//

namespace tp::rt {

tp_status backendInit(const char *fn, int *, char ***) {
  tp::boot::GetEnv env = tp::boot::processEnvironment();
  tp::boot::Placement placement;
  tp::boot::MasterAddress address;
  std::string error;
  if (!tp::boot::detectPlacement(env, placement, error) ||
      !tp::boot::masterAddress(env, placement, address, error))
    return setError(TP_ERR_INVALID_ARGUMENT, "%s: %s", fn, error.c_str());
  rankState().rank = placement.rank;
  // Before the rendezvous a failure keeps nothing and a retry starts over;
  // after it, the runtime stays uninitialized (the liveness channel and the
  // watchdog stay, so that the peers learn when this process ends).
  return backend.hostCollectives ? initHostCollectives(fn, placement, address)
                                 : initNccl(fn, placement, address);
}

tp_status backendFinalize(const char *fn) {
  tp_status result = TP_OK;
  if (cudaError_t e = cudaStreamSynchronize(ncclStream()); e != cudaSuccess)
    result = cudaFailure(fn, "cudaStreamSynchronize", e);
  if (backend.scratch)
    cudaFree(backend.scratch);
  cudaFree(backend.barrierWord);
  backend.scratch = nullptr;
  backend.scratchBytes = 0;
  backend.barrierWord = nullptr;
  {
    std::lock_guard<std::mutex> lock(commMutex);
    watchedComm = nullptr;
  }
  finalizeCollectives(fn, result);
  if (watchdog) {
    stopWatchdog = true;
    watchdog->join();
    delete watchdog;
    watchdog = nullptr;
  }
  rendezvous().goodbye();
  markFinalized();
  return result;
}

tp_status backendBarrier(const char *fn) {
  if (backend.team) {
    std::string error;
    if (cudaError_t e = cudaStreamSynchronize(ncclStream()); e != cudaSuccess)
      return cudaFailure(fn, "cudaStreamSynchronize", e);
    return backend.team->barrier(error) ? TP_OK : hostFailure(fn, error);
  }
  if (ncclResult_t r =
          ncclAllReduce(backend.barrierWord, backend.barrierWord, 1, ncclInt32,
                        ncclSum, backend.comm, ncclStream());
      r != ncclSuccess)
    return ncclFailure(fn, "ncclAllReduce", r);
  return waitForStream(fn);
}

} // namespace tp::rt

//===----------------------------------------------------------------------===//
// The C ABI
//===----------------------------------------------------------------------===//

extern "C" {

tp_status tp_set_collectives(const char *kind) {
  const char *fn = "tp_set_collectives";
  if (rankState().initialized || backend.bootstrapped)
    return setError(TP_ERR_STATE, "%s: call it before tp_init", fn);
  const std::string name = kind ? kind : "";
  if (name != "nccl" && name != "host")
    return setError(TP_ERR_INVALID_ARGUMENT,
                    "%s: unknown kind '%s' (nccl or host)", fn, name.c_str());
  backend.hostCollectives = name == "host";
  return TP_OK;
}

const char *tp_backend_name(void) { return "nccl"; }

tp_status tp_all_reduce(const void *src, void *dst, int64_t count,
                        tp_dtype dtype, tp_reduce_op op) {
  return allReduce(src, dst, count, int(dtype), int(op), true);
}

tp_status tp_all_gather(const void *src, void *dst, int64_t outer,
                        int64_t chunk, tp_dtype dtype) {
  return allGather(src, dst, outer, chunk, int(dtype), true);
}

tp_status tp_reduce_scatter(const void *src, void *dst, int64_t outer,
                            int64_t chunk, tp_dtype dtype, tp_reduce_op op) {
  return reduceScatter(src, dst, outer, chunk, int(dtype), int(op), true);
}

void tp_abort(int exitCode, const char *message) {
  terminate(exitCode, message ? message : "aborted", true, true);
}

} // extern "C"

// Compiled code's collectives: stream-ordered, no wait.
// Inside a CUDA graph capture a failure is recorded, not fatal (Cuda.h):
// the capture is discarded and the step runs again without it.
namespace {
tp_status absorbInCapture(tp_status status) {
  if (status != TP_OK && capturingHere()) {
    captureFailed(tp_last_error());
    return TP_OK;
  }
  return status;
}
} // namespace

namespace tp::rt {
tp_status compiledAllReduce(const void *src, void *dst, int64_t count,
                            tp_dtype dtype, tp_reduce_op op) {
  return absorbInCapture(
      allReduce(src, dst, count, int(dtype), int(op), false));
}
tp_status compiledAllGather(const void *src, void *dst, int64_t outer,
                            int64_t chunk, tp_dtype dtype) {
  return absorbInCapture(allGather(src, dst, outer, chunk, int(dtype), false));
}
tp_status compiledReduceScatter(const void *src, void *dst, int64_t outer,
                                int64_t chunk, tp_dtype dtype,
                                tp_reduce_op op) {
  return absorbInCapture(
      reduceScatter(src, dst, outer, chunk, int(dtype), int(op), false));
}
} // namespace tp::rt
