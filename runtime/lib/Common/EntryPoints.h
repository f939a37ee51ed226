//===- EntryPoints.h - What every backend's C ABI shares --------*- C++ -*-===//
//
// The MPI (CPU) and NCCL (GPU) backends implement the same C ABI
// (tp_runtime.h). What does not depend on the communication library lives
// here, compiled into each backend library (one copy of the state per
// library): the rank state behind tp_rank / tp_size / tp_in_collective
// (defined in EntryPoints.cpp), tp_init / tp_finalize / tp_barrier up to
// the backend's part (Backend.h) and the rule for retrying a failed tp_init,
// the "initialized?" check, the argument checks of the collectives, and
// tp_abort's one-thread-aborts protocol and message.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_COMMON_ENTRYPOINTS_H
#define TP_RUNTIME_COMMON_ENTRYPOINTS_H

#include "tp/runtime/tp_runtime.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace tp::rt {

/// This process's place in the job, as the backend's tp_init found it.
struct RankState {
  bool initialized = false;
  bool finalized = false;
  int size = -1;
  /// Read by tp_abort, possibly from another thread; a backend may set it
  /// before tp_init completes (so that an abort during tp_init names it).
  std::atomic<int> rank{-1};
  /// Depth of collective calls in progress (tp_in_collective).
  std::atomic<int> collectiveDepth{0};
  /// How the last tp_init failed (TP_OK: it did not, or none ran yet) and
  /// its message, which a retry past a once-per-process step repeats and
  /// the collectives' TP_ERR_STATE quotes.
  tp_status initFailure = TP_OK;
  std::string initFailureMessage;
  /// The step tp_init has started that runs once per process
  /// (beginOncePerProcessStep), or null.
  const char *onceStep = nullptr;
};

/// The backend's one RankState.
RankState &rankState();

/// Records a successful tp_init.
void markInitialized(int rank, int size);
/// Called by the backend's tp_init as it starts `step` (named for the
/// message), which the ranks take together once per process: the NCCL
/// backend's rendezvous, the MPI backend's MPI_Comm_dup of MPI_COMM_WORLD.
/// A second try would wait for peers that do not take it again, so once a
/// tp_init has failed from there on, every later tp_init returns that
/// failure's status and message at once. A tp_init that fails before such a
/// step can be retried.
void beginOncePerProcessStep(const char *step);
/// Records tp_finalize (tp_rank / tp_size say -1 from now on).
void markFinalized();
/// TP_OK if tp_init succeeded and tp_finalize has not run; else
/// TP_ERR_STATE saying which: tp_init not called, tp_init failed (with its
/// message), or the runtime finalized.
tp_status requireInitialized(const char *fn);

/// Marks the scope of a collective (tp_in_collective).
struct InCollective {
  InCollective() { ++rankState().collectiveDepth; }
  ~InCollective() { --rankState().collectiveDepth; }
  InCollective(const InCollective &) = delete;
  InCollective &operator=(const InCollective &) = delete;
};

/// The element counts of a checked all_gather / reduce_scatter: per rank
/// (outer * chunk) and in all (times the group size), and the element size.
struct CollectiveExtent {
  int64_t perRank = 0;
  int64_t total = 0;
  size_t elementSize = 0;
};

/// The checks every backend runs on a collective's arguments before
/// touching its library (the runtime is initialized; known dtype and op;
/// counts that are not negative and do not overflow; buffers that are not
/// null and do not overlap, except src == dst for all_reduce). TP_OK or the
/// error (set, prefixed with `fn`).
tp_status checkAllReduceArguments(const char *fn, const void *src,
                                  const void *dst, int64_t count, int64_t dtype,
                                  int64_t op);
tp_status checkAllGatherArguments(const char *fn, const void *src,
                                  const void *dst, int64_t outer, int64_t chunk,
                                  int64_t dtype, CollectiveExtent &extent);
tp_status checkReduceScatterArguments(const char *fn, const void *src,
                                      const void *dst, int64_t outer,
                                      int64_t chunk, int64_t dtype, int64_t op,
                                      CollectiveExtent &extent);

/// tp_abort's first step. Returns the exit code to end with (never one that
/// reads as success: Common/ExitCode.h) on the first thread that aborts; a
/// second call on that thread (an exit handler aborting again) exits at
/// once, and one on another thread waits to be ended.
int claimAbort(int exitCode);
/// Writes "tp: rank R: MESSAGE" (MESSAGE "aborted" when null) to stderr in
/// one write, so that lines from different ranks do not interleave.
void printAbortLine(const char *message);

} // namespace tp::rt

#endif // TP_RUNTIME_COMMON_ENTRYPOINTS_H
