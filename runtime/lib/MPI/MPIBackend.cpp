//===- MPIBackend.cpp - tp runtime ABI implemented with MPI ---------------===//
//
// libtp_runtime_mpi: one communicator (a dup of MPI_COMM_WORLD with
// MPI_ERRORS_RETURN) created by tp_init, every collective a blocking MPI
// collective on it. f16 / bf16 travel as MPI_UINT16_T and are reduced by our
// own commutative MPI_Ops (widen to f32, combine, round to nearest even).
// Rank and size are MPI's; TP_RANK / TP_WORLD_SIZE, where set, must agree.
//
//===----------------------------------------------------------------------===//

#include "Bootstrap/Environment.h"
#include "Common/Backend.h"
#include "Common/DType.h"
#include "Common/EntryPoints.h"
#include "Common/Error.h"
#include "Common/ExitCode.h"
#include "Common/Layout.h"
#include "tp/runtime/tp_runtime.h"

#include <mpi.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <pthread.h>
#include <string>
#include <unistd.h>

using namespace tp::rt;

namespace {

// Whether tp_init succeeded, the rank and the size: Common/EntryPoints.h.
struct Backend {
  bool ownsMpi = false; // tp_init called MPI_Init, so tp_finalize finalizes
  MPI_Comm comm = MPI_COMM_NULL;
  // halfOps[bf16 ? 1 : 0][op]
  MPI_Op halfOps[2][3] = {{MPI_OP_NULL, MPI_OP_NULL, MPI_OP_NULL},
                          {MPI_OP_NULL, MPI_OP_NULL, MPI_OP_NULL}};
  ScratchBuffer scratch;
};

Backend backend;
// The thread that called tp_init, the only one that calls MPI.
pthread_t mpiThread;
bool knowMpiThread = false;

// Largest element count handed to one MPI call (MPI counts are int).
constexpr int64_t maxMpiCount = INT_MAX;

tp_status mpiError(const char *fn, const char *call, int rc) {
  char text[MPI_MAX_ERROR_STRING + 1] = "";
  int length = 0;
  if (MPI_Error_string(rc, text, &length) != MPI_SUCCESS)
    std::snprintf(text, sizeof(text), "MPI error code %d", rc);
  return setError(TP_ERR_BACKEND, "%s: %s failed: %s", fn, call, text);
}

//===----------------------------------------------------------------------===//
// f16 / bf16 reductions
//===----------------------------------------------------------------------===//

template <int DType, int Op>
void reduceHalf(void *in, void *inout, int *length, MPI_Datatype *) {
  const auto *a = static_cast<const uint16_t *>(in);
  auto *b = static_cast<uint16_t *>(inout);
  for (int i = 0; i < *length; ++i) {
    float x = loadHalf(DType, a, i);
    float y = loadHalf(DType, b, i);
    float r;
    if (Op == TP_SUM)
      r = x + y;
    else if (std::isnan(x) || std::isnan(y))
      r = std::isnan(x) ? x : y;
    else if (Op == TP_MAX)
      r = x > y ? x : y;
    else
      r = x < y ? x : y;
    b[i] = storeHalf(DType, r);
  }
}

tp_status createHalfOps(const char *fn) {
  MPI_User_function *functions[2][3] = {
      {reduceHalf<TP_F16, TP_SUM>, reduceHalf<TP_F16, TP_MAX>,
       reduceHalf<TP_F16, TP_MIN>},
      {reduceHalf<TP_BF16, TP_SUM>, reduceHalf<TP_BF16, TP_MAX>,
       reduceHalf<TP_BF16, TP_MIN>}};
  for (int t = 0; t < 2; ++t)
    for (int o = 0; o < 3; ++o)
      if (int rc = MPI_Op_create(functions[t][o], /*commute=*/1,
                                 &backend.halfOps[t][o]);
          rc != MPI_SUCCESS)
        return mpiError(fn, "MPI_Op_create", rc);
  return TP_OK;
}

void freeHalfOps() {
  for (auto &row : backend.halfOps)
    for (MPI_Op &op : row)
      if (op != MPI_OP_NULL)
        MPI_Op_free(&op);
}

MPI_Datatype mpiType(int64_t dtype) {
  switch (dtype) {
  case TP_F32:
    return MPI_FLOAT;
  case TP_F64:
    return MPI_DOUBLE;
  case TP_I32:
    return MPI_INT32_T;
  case TP_I64:
    return MPI_INT64_T;
  default: // f16 / bf16: raw 16-bit words
    return MPI_UINT16_T;
  }
}

MPI_Op mpiOp(int64_t dtype, int64_t op) {
  if (isHalfDType(dtype))
    return backend.halfOps[dtype == TP_BF16 ? 1 : 0][op];
  switch (op) {
  case TP_MAX:
    return MPI_MAX;
  case TP_MIN:
    return MPI_MIN;
  default:
    return MPI_SUM;
  }
}

tp_status checkMpiCount(const char *fn, int64_t count) {
  if (count <= maxMpiCount)
    return TP_OK;
  return setError(TP_ERR_UNSUPPORTED,
                  "%s: %lld elements per rank exceed the MPI backend's limit "
                  "of %d per collective",
                  fn, static_cast<long long>(count), INT_MAX);
}

/// TP_RANK / TP_WORLD_SIZE (read as the NCCL backend reads them), where
/// set, must name MPI's `rank` and `size`: a job whose processes MPI does
/// not see as one (say, started by hand as for the NCCL backend: each a
/// singleton of size 1) would otherwise run as separate one-rank jobs. The
/// MPI launchers' own variables (PMI_*, OMPI_*, SLURM_*) are not read: they
/// may describe an enclosing job.
tp_status checkPlacementVariables(const char *fn, int rank, int size) {
  tp::boot::GetEnv env = tp::boot::processEnvironment();
  tp::boot::GetEnv ours = [&env](const char *name) -> const char * {
    return std::strcmp(name, "TP_RANK") == 0 ||
                   std::strcmp(name, "TP_WORLD_SIZE") == 0
               ? env(name)
               : nullptr;
  };
  tp::boot::Placement placement;
  std::string error;
  if (!tp::boot::detectPlacement(ours, placement, error))
    return setError(TP_ERR_INVALID_ARGUMENT, "%s: %s", fn, error.c_str());
  if (placement.source == "default" ||
      (placement.rank == rank && placement.size == size))
    return TP_OK;
  return setError(TP_ERR_INVALID_ARGUMENT,
                  "%s: TP_RANK=%d and TP_WORLD_SIZE=%d, but MPI has this "
                  "process as rank %d of %d (the MPI backend takes rank and "
                  "size from MPI: unset them, or start the job with mpiexec "
                  "-n %d)",
                  fn, placement.rank, placement.size, rank, size,
                  placement.size);
}

/// tp_init's work on the communicator it has just made: the error handler,
/// rank and size, the f16 / bf16 reductions.
tp_status setUpCommunicator(const char *fn) {
  int rc = MPI_Comm_set_errhandler(backend.comm, MPI_ERRORS_RETURN);
  if (rc != MPI_SUCCESS)
    return mpiError(fn, "MPI_Comm_set_errhandler", rc);
  int rank = -1, size = -1;
  if ((rc = MPI_Comm_rank(backend.comm, &rank)) != MPI_SUCCESS)
    return mpiError(fn, "MPI_Comm_rank", rc);
  if ((rc = MPI_Comm_size(backend.comm, &size)) != MPI_SUCCESS)
    return mpiError(fn, "MPI_Comm_size", rc);
  if (tp_status status = checkPlacementVariables(fn, rank, size))
    return status;
  if (tp_status status = createHalfOps(fn))
    return status;
  markInitialized(rank, size);
  return TP_OK;
}

/// The scratch buffer for a checked all_gather's or reduce_scatter's
/// rank-major copy (`extent.total` elements), or the error.
tp_status scratchFor(const char *fn, const CollectiveExtent &extent,
                     void *&buffer) {
  const size_t bytes = size_t(extent.total) * extent.elementSize;
  buffer = backend.scratch.get(bytes);
  if (!buffer)
    return setError(TP_ERR_BACKEND, "%s: out of memory (%zu bytes scratch)", fn,
                    bytes);
  return TP_OK;
}

} // namespace

//===----------------------------------------------------------------------===//
// The backend's part of tp_init / tp_finalize / tp_barrier (Backend.h)
//===----------------------------------------------------------------------===//

namespace tp::rt {

tp_status backendInit(const char *fn, int *argc, char ***argv) {
  int mpiInitialized = 0, mpiFinalized = 0;
  MPI_Initialized(&mpiInitialized);
  MPI_Finalized(&mpiFinalized);
  if (mpiFinalized)
    return setError(TP_ERR_STATE, "%s: MPI was already finalized", fn);
  if (!mpiInitialized) {
    // FUNNELED: the collectives come from one thread. tp_abort on another
    // thread never calls MPI (see there).
    int provided = 0;
    if (int rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
        rc != MPI_SUCCESS)
      return mpiError(fn, "MPI_Init_thread", rc);
    backend.ownsMpi = true;
  }
  mpiThread = pthread_self();
  knowMpiThread = true;

  // MPI_Comm_dup is collective over MPI_COMM_WORLD: a rank that tried it
  // again would wait for peers that have gone on (or given up), so a
  // tp_init that fails from here on cannot be retried.
  beginOncePerProcessStep("the collective MPI_Comm_dup of MPI_COMM_WORLD");
  if (int rc = MPI_Comm_dup(MPI_COMM_WORLD, &backend.comm); rc != MPI_SUCCESS)
    return mpiError(fn, "MPI_Comm_dup", rc);
  tp_status status = setUpCommunicator(fn);
  if (status != TP_OK) {
    // Keep nothing: the half ops made so far and the communicator
    // (MPI_Comm_free is collective in the standard, but MPICH 4.0.2 frees
    // it without waiting for the peers, which may have succeeded). MPI
    // stays initialized: it cannot be initialized again in this process,
    // and MPI_Finalize is collective.
    freeHalfOps();
    MPI_Comm_free(&backend.comm);
  }
  return status;
}

tp_status backendFinalize(const char *fn) {
  markFinalized();
  backend.scratch.release();
  freeHalfOps();
  int rc = MPI_Comm_free(&backend.comm);
  if (rc != MPI_SUCCESS)
    return mpiError(fn, "MPI_Comm_free", rc);
  if (backend.ownsMpi && (rc = MPI_Finalize()) != MPI_SUCCESS)
    return mpiError(fn, "MPI_Finalize", rc);
  return TP_OK;
}

tp_status backendBarrier(const char *fn) {
  if (int rc = MPI_Barrier(backend.comm); rc != MPI_SUCCESS)
    return mpiError(fn, "MPI_Barrier", rc);
  return TP_OK;
}

} // namespace tp::rt

extern "C" {

const char *tp_backend_name(void) { return "mpi"; }

//===----------------------------------------------------------------------===//
// Collectives
//===----------------------------------------------------------------------===//

tp_status tp_all_reduce(const void *src, void *dst, int64_t count,
                        tp_dtype dtypeArg, tp_reduce_op opArg) {
  const char *fn = "tp_all_reduce";
  InCollective scope;
  const int64_t dtype = static_cast<int>(dtypeArg);
  const int64_t op = static_cast<int>(opArg);
  if (tp_status status =
          checkAllReduceArguments(fn, src, dst, count, dtype, op))
    return status;

  // Large counts go in pieces of at most INT_MAX elements.
  const size_t elementSize = dtypeSize(dtype);
  for (int64_t done = 0; done < count;) {
    int piece = int(std::min(count - done, maxMpiCount));
    auto *out = static_cast<char *>(dst) + size_t(done) * elementSize;
    const void *in = src == dst ? MPI_IN_PLACE
                                : static_cast<const char *>(src) +
                                      size_t(done) * elementSize;
    if (int rc = MPI_Allreduce(in, out, piece, mpiType(dtype), mpiOp(dtype, op),
                               backend.comm);
        rc != MPI_SUCCESS)
      return mpiError(fn, "MPI_Allreduce", rc);
    done += piece;
  }
  return TP_OK;
}

tp_status tp_all_gather(const void *src, void *dst, int64_t outer,
                        int64_t chunk, tp_dtype dtypeArg) {
  const char *fn = "tp_all_gather";
  InCollective scope;
  const int64_t dtype = static_cast<int>(dtypeArg);
  CollectiveExtent extent;
  tp_status status;
  if ((status = checkAllGatherArguments(fn, src, dst, outer, chunk, dtype,
                                        extent)) ||
      (status = checkMpiCount(fn, extent.perRank)))
    return status;
  if (extent.perRank == 0)
    return TP_OK;
  // outer == 1: the ranks' blocks are already where MPI puts them.
  void *receive = dst;
  if (outer > 1 && (status = scratchFor(fn, extent, receive)))
    return status;
  const int count = int(extent.perRank);
  if (int rc = MPI_Allgather(src, count, mpiType(dtype), receive, count,
                             mpiType(dtype), backend.comm);
      rc != MPI_SUCCESS)
    return mpiError(fn, "MPI_Allgather", rc);
  // receive is [size][outer][chunk]; dst wants [outer][size][chunk].
  if (outer > 1)
    transposeBlocks(receive, dst, rankState().size, outer,
                    size_t(chunk) * extent.elementSize);
  return TP_OK;
}

tp_status tp_reduce_scatter(const void *src, void *dst, int64_t outer,
                            int64_t chunk, tp_dtype dtypeArg,
                            tp_reduce_op opArg) {
  const char *fn = "tp_reduce_scatter";
  InCollective scope;
  const int64_t dtype = static_cast<int>(dtypeArg);
  const int64_t op = static_cast<int>(opArg);
  CollectiveExtent extent;
  tp_status status;
  if ((status = checkReduceScatterArguments(fn, src, dst, outer, chunk, dtype,
                                            op, extent)) ||
      (status = checkMpiCount(fn, extent.perRank)))
    return status;
  if (extent.perRank == 0)
    return TP_OK;
  // MPI scatters rank-major blocks: [outer][size][chunk] ->
  // [size][outer][chunk]
  const void *send = src;
  if (outer > 1) {
    void *packed = nullptr;
    if ((status = scratchFor(fn, extent, packed)))
      return status;
    transposeBlocks(src, packed, outer, rankState().size,
                    size_t(chunk) * extent.elementSize);
    send = packed;
  }
  if (int rc = MPI_Reduce_scatter_block(send, dst, int(extent.perRank),
                                        mpiType(dtype), mpiOp(dtype, op),
                                        backend.comm);
      rc != MPI_SUCCESS)
    return mpiError(fn, "MPI_Reduce_scatter_block", rc);
  return TP_OK;
}

//===----------------------------------------------------------------------===//
// Abort
//===----------------------------------------------------------------------===//

void tp_abort(int exitCode, const char *message) {
  // MPI_Abort(256) would end the job with status 0 (claimAbort changes
  // it). One thread aborts; another thread that gets here waits to be
  // killed. Re-entry on the aborting thread (MPI_Abort runs exit handlers,
  // which may call tp_abort again) just exits.
  exitCode = claimAbort(exitCode);
  printAbortLine(message);

  // If MPI_Abort hangs or returns, the default SIGALRM action still ends
  // this process (and mpiexec then ends the others).
  std::signal(SIGALRM, SIG_DFL);
  alarm(10);
  int mpiInitialized = 0, mpiFinalized = 0;
  MPI_Initialized(&mpiInitialized);
  if (mpiInitialized)
    MPI_Finalized(&mpiFinalized);
  // Only the thread that called tp_init may call MPI_Abort. From another
  // thread (the launcher's watchdog) while that thread is inside a
  // collective, MPI_Abort trips a UCX assertion at MPI_THREAD_FUNNELED and
  // spins forever at MPI_THREAD_MULTIPLE (MPICH 4.0.2, ch4:ucx). Exiting is
  // enough: mpiexec kills the other ranks of a job when one exits without
  // MPI_Finalize.
  bool mayCallMpi = !knowMpiThread || pthread_equal(pthread_self(), mpiThread);
  if (mpiInitialized && !mpiFinalized && mayCallMpi)
    MPI_Abort(backend.comm != MPI_COMM_NULL ? backend.comm : MPI_COMM_WORLD,
              exitCode);
  _exit(exitCode);
}

} // extern "C"

namespace tp::rt {

// Compiled code's collectives: the MPI ones are blocking anyway.
tp_status compiledAllReduce(const void *src, void *dst, int64_t count,
                            tp_dtype dtype, tp_reduce_op op) {
  return tp_all_reduce(src, dst, count, dtype, op);
}
tp_status compiledAllGather(const void *src, void *dst, int64_t outer,
                            int64_t chunk, tp_dtype dtype) {
  return tp_all_gather(src, dst, outer, chunk, dtype);
}
tp_status compiledReduceScatter(const void *src, void *dst, int64_t outer,
                                int64_t chunk, tp_dtype dtype,
                                tp_reduce_op op) {
  return tp_reduce_scatter(src, dst, outer, chunk, dtype, op);
}
} // namespace tp::rt
