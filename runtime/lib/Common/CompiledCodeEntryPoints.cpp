//===- CompiledCodeEntryPoints.cpp - tp_rt_* symbols for compiled code ----===//
//
// Compiled model code calls these; they forward to the backend they are
// linked into (Common/Backend.h) and turn every failure into tp_abort,
// because generated code has no way to handle an error. Backend-neutral.
//
//===----------------------------------------------------------------------===//

#include "Common/Backend.h"
#include "Common/Error.h"
#include "tp/runtime/tp_runtime.h"

#include <string>

namespace {

// tp_last_error() already names the failing function.
[[noreturn]] void abortAfterFailure() {
  std::string message = std::string("in compiled code: ") + tp_last_error();
  tp_abort(1, message.c_str());
}

// dtype / op arrive as int32_t; check them before converting to the enums.
void checkCodes(const char *fn, int32_t dtype, int32_t op, bool hasOp) {
  if (tp::rt::checkDType(fn, dtype) != TP_OK ||
      (hasOp && tp::rt::checkReduceOp(fn, op) != TP_OK))
    abortAfterFailure();
}

void requireInitialized(const char *fn) {
  if (tp_size() < 1)
    tp_abort(1, (std::string(fn) + ": the tp runtime is not initialized "
                                   "(tp_init was not called before running "
                                   "compiled code)")
                    .c_str());
}

} // namespace

extern "C" {

int32_t tp_rt_rank(void) {
  requireInitialized("tp_rt_rank");
  return tp_rank();
}

int32_t tp_rt_size(void) {
  requireInitialized("tp_rt_size");
  return tp_size();
}

void tp_rt_all_reduce(const void *src, void *dst, int64_t count, int32_t dtype,
                      int32_t op) {
  checkCodes("tp_rt_all_reduce", dtype, op, true);
  if (tp::rt::compiledAllReduce(src, dst, count, static_cast<tp_dtype>(dtype),
                                static_cast<tp_reduce_op>(op)) != TP_OK)
    abortAfterFailure();
}

void tp_rt_all_gather(const void *src, void *dst, int64_t outer, int64_t chunk,
                      int32_t dtype) {
  checkCodes("tp_rt_all_gather", dtype, 0, false);
  if (tp::rt::compiledAllGather(src, dst, outer, chunk,
                                static_cast<tp_dtype>(dtype)) != TP_OK)
    abortAfterFailure();
}

void tp_rt_reduce_scatter(const void *src, void *dst, int64_t outer,
                          int64_t chunk, int32_t dtype, int32_t op) {
  checkCodes("tp_rt_reduce_scatter", dtype, op, true);
  if (tp::rt::compiledReduceScatter(src, dst, outer, chunk,
                                    static_cast<tp_dtype>(dtype),
                                    static_cast<tp_reduce_op>(op)) != TP_OK)
    abortAfterFailure();
}

} // extern "C"
