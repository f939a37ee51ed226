//===- EntryPoints.cpp - What every backend's C ABI shares ----------------===//

#include "Common/EntryPoints.h"
#include "Common/Backend.h"
#include "Common/DType.h"
#include "Common/Error.h"
#include "Common/ExitCode.h"

#include <optional>
#include <string>
#include <string_view>
#include <unistd.h>

namespace tp::rt {

RankState &rankState() {
  static RankState state;
  return state;
}

namespace {

/// tp_init's checks before any backend work: argc and argv both null or
/// both not, not after tp_finalize, and not after a failure past a step
/// that runs once per process. Returns what tp_init returns at once (TP_OK
/// if it already succeeded, or the error), or nothing when the backend goes
/// on.
std::optional<tp_status> beginInit(const char *fn, int *argc, char ***argv) {
  if ((argc == nullptr) != (argv == nullptr))
    return setError(TP_ERR_INVALID_ARGUMENT,
                    "%s: argc and argv must both be null or both be non-null",
                    fn);
  const RankState &state = rankState();
  if (state.initialized)
    return TP_OK;
  if (state.finalized)
    return setError(TP_ERR_STATE,
                    "%s: the runtime was finalized and cannot be initialized "
                    "again in this process",
                    fn);
  if (state.initFailure != TP_OK && state.onceStep)
    return setError(state.initFailure,
                    "%s (the earlier tp_init's failure: after %s, which runs "
                    "once per process, tp_init cannot be retried)",
                    state.initFailureMessage.c_str(), state.onceStep);
  return std::nullopt;
}

} // namespace

void markInitialized(int rank, int size) {
  RankState &state = rankState();
  state.rank = rank;
  state.size = size;
  state.initialized = true;
  state.initFailure = TP_OK;
  state.initFailureMessage.clear();
}

void beginOncePerProcessStep(const char *step) { rankState().onceStep = step; }

void markFinalized() {
  RankState &state = rankState();
  state.initialized = false;
  state.finalized = true;
  state.size = -1;
  state.rank = -1;
}

tp_status requireInitialized(const char *fn) {
  const RankState &state = rankState();
  if (state.initialized)
    return TP_OK;
  if (state.finalized)
    return setError(TP_ERR_STATE, "%s: the runtime was finalized", fn);
  if (state.initFailure == TP_OK)
    return setError(TP_ERR_STATE, "%s: tp_init has not been called", fn);
  // Quoted without the "tp_init: " it starts with.
  constexpr std::string_view prefix = "tp_init: ";
  std::string_view failure = state.initFailureMessage;
  if (failure.substr(0, prefix.size()) == prefix)
    failure.remove_prefix(prefix.size());
  return setError(TP_ERR_STATE,
                  "%s: tp_init failed: %.*s; the runtime is not initialized",
                  fn, int(failure.size()), failure.data());
}

tp_status checkAllReduceArguments(const char *fn, const void *src,
                                  const void *dst, int64_t count, int64_t dtype,
                                  int64_t op) {
  tp_status status;
  if ((status = requireInitialized(fn)) || (status = checkDType(fn, dtype)) ||
      (status = checkReduceOp(fn, op)) ||
      (status = checkCount(fn, "count", count)) ||
      (status = checkBuffer(fn, "src", src, count)) ||
      (status = checkBuffer(fn, "dst", dst, count)))
    return status;
  const size_t bytes = size_t(count) * dtypeSize(dtype);
  return checkNoOverlap(fn, src, bytes, dst, bytes, true);
}

namespace {

/// all_gather (src holds outer * chunk elements, dst that times the group
/// size) and reduce_scatter (the other way round).
tp_status checkBlockArguments(const char *fn, const void *src, const void *dst,
                              int64_t outer, int64_t chunk, int64_t dtype,
                              bool gather, CollectiveExtent &extent) {
  tp_status status;
  if ((status = checkCount(fn, "outer", outer)) ||
      (status = checkCount(fn, "chunk", chunk)) ||
      (status = checkedProduct(fn, outer, chunk, 1, extent.perRank)) ||
      (status =
           checkedProduct(fn, outer, chunk, rankState().size, extent.total)))
    return status;
  const int64_t srcCount = gather ? extent.perRank : extent.total;
  const int64_t dstCount = gather ? extent.total : extent.perRank;
  if ((status = checkBuffer(fn, "src", src, srcCount)) ||
      (status = checkBuffer(fn, "dst", dst, dstCount)))
    return status;
  extent.elementSize = dtypeSize(dtype);
  return checkNoOverlap(fn, src, size_t(srcCount) * extent.elementSize, dst,
                        size_t(dstCount) * extent.elementSize, false);
}

} // namespace

tp_status checkAllGatherArguments(const char *fn, const void *src,
                                  const void *dst, int64_t outer, int64_t chunk,
                                  int64_t dtype, CollectiveExtent &extent) {
  tp_status status;
  if ((status = requireInitialized(fn)) || (status = checkDType(fn, dtype)))
    return status;
  return checkBlockArguments(fn, src, dst, outer, chunk, dtype,
                             /*gather=*/true, extent);
}

tp_status checkReduceScatterArguments(const char *fn, const void *src,
                                      const void *dst, int64_t outer,
                                      int64_t chunk, int64_t dtype, int64_t op,
                                      CollectiveExtent &extent) {
  tp_status status;
  if ((status = requireInitialized(fn)) || (status = checkDType(fn, dtype)) ||
      (status = checkReduceOp(fn, op)))
    return status;
  return checkBlockArguments(fn, src, dst, outer, chunk, dtype,
                             /*gather=*/false, extent);
}

int claimAbort(int exitCode) {
  exitCode = failureExitCode(exitCode);
  static std::atomic<bool> aborting{false};
  static thread_local bool abortingHere = false;
  if (aborting.exchange(true)) {
    if (abortingHere)
      _exit(exitCode);
    for (;;)
      pause();
  }
  abortingHere = true;
  return exitCode;
}

void printAbortLine(const char *message) {
  std::string line = "tp: ";
  if (int rank = rankState().rank.load(); rank >= 0)
    line += "rank " + std::to_string(rank) + ": ";
  line += message ? message : "aborted";
  line += '\n';
  ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

} // namespace tp::rt

extern "C" {

tp_status tp_init(int *argc, char ***argv) {
  const char *fn = "tp_init";
  if (std::optional<tp_status> done = tp::rt::beginInit(fn, argc, argv))
    return *done;
  tp_status status = tp::rt::backendInit(fn, argc, argv);
  if (status != TP_OK) {
    tp::rt::RankState &state = tp::rt::rankState();
    state.initFailure = status;
    state.initFailureMessage = tp_last_error();
  }
  return status;
}

tp_status tp_finalize(void) {
  const char *fn = "tp_finalize";
  if (tp_status status = tp::rt::requireInitialized(fn); status != TP_OK)
    return status;
  return tp::rt::backendFinalize(fn);
}

tp_status tp_barrier(void) {
  const char *fn = "tp_barrier";
  tp::rt::InCollective scope;
  if (tp_status status = tp::rt::requireInitialized(fn); status != TP_OK)
    return status;
  return tp::rt::backendBarrier(fn);
}

int tp_rank(void) {
  const tp::rt::RankState &state = tp::rt::rankState();
  return state.initialized ? state.rank.load() : -1;
}

int tp_size(void) {
  const tp::rt::RankState &state = tp::rt::rankState();
  return state.initialized ? state.size : -1;
}

int tp_in_collective(void) {
  return tp::rt::rankState().collectiveDepth.load() > 0 ? 1 : 0;
}

} // extern "C"
