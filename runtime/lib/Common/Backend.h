//===- Backend.h - What each backend provides to Common ---------*- C++ -*-===//
//
// Common defines tp_init, tp_finalize and tp_barrier (EntryPoints.cpp): the
// checks every backend makes first, then the backend's part below.
//
// The tp_rt_* collectives called by compiled code forward to the compiled*
// functions, which every backend defines. The MPI backend forwards to the
// blocking tp_* functions; the NCCL backend enqueues on its persistent
// stream and returns at once (stream order is all generated code needs),
// while its public tp_* functions also wait for the result.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_COMMON_BACKEND_H
#define TP_RUNTIME_COMMON_BACKEND_H

#include "tp/runtime/tp_runtime.h"

namespace tp::rt {

/// tp_init once the runtime is neither initialized nor finalized (and argc /
/// argv are consistent): the backend's setup, ending in markInitialized. A
/// step of it that the ranks take together, once, starts with
/// beginOncePerProcessStep (EntryPoints.h), which decides what a retry after
/// a failure does; tp_init records the failure itself.
tp_status backendInit(const char *fn, int *argc, char ***argv);
/// tp_finalize of an initialized runtime: the backend's teardown (it calls
/// markFinalized).
tp_status backendFinalize(const char *fn);
/// tp_barrier of an initialized runtime, inside its InCollective scope.
tp_status backendBarrier(const char *fn);

tp_status compiledAllReduce(const void *src, void *dst, int64_t count,
                            tp_dtype dtype, tp_reduce_op op);
tp_status compiledAllGather(const void *src, void *dst, int64_t outer,
                            int64_t chunk, tp_dtype dtype);
tp_status compiledReduceScatter(const void *src, void *dst, int64_t outer,
                                int64_t chunk, tp_dtype dtype, tp_reduce_op op);

} // namespace tp::rt

#endif // TP_RUNTIME_COMMON_BACKEND_H
