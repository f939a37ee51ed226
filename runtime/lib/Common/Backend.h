//===- Backend.h - What each backend provides to Common ---------*- C++ -*-===//
//
// The tp_rt_* collectives called by compiled code forward to these, which
// every backend defines. The MPI backend forwards to the blocking tp_*
// functions; the NCCL backend enqueues on its persistent stream and returns
// at once (stream order is all generated code needs), while its public tp_*
// functions also wait for the result.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_COMMON_BACKEND_H
#define TP_RUNTIME_COMMON_BACKEND_H

#include "tp/runtime/tp_runtime.h"

namespace tp::rt {

tp_status compiledAllReduce(const void *src, void *dst, int64_t count,
                            tp_dtype dtype, tp_reduce_op op);
tp_status compiledAllGather(const void *src, void *dst, int64_t outer,
                            int64_t chunk, tp_dtype dtype);
tp_status compiledReduceScatter(const void *src, void *dst, int64_t outer,
                                int64_t chunk, tp_dtype dtype, tp_reduce_op op);

} // namespace tp::rt

#endif // TP_RUNTIME_COMMON_BACKEND_H
