//===- Error.h - Per-thread error state of the runtime ----------*- C++ -*-===//
//
// Backend-neutral error reporting behind tp_last_error(), and the argument
// checks every backend runs before touching its communication library.
// Compiled into each backend library (tp_last_error is defined in Error.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_COMMON_ERROR_H
#define TP_RUNTIME_COMMON_ERROR_H

#include "tp/runtime/tp_runtime.h"

#include <cstddef>
#include <cstdint>

namespace tp::rt {

/// Records a printf-style message as this thread's last error and returns
/// `status`, so that failures read `return setError(TP_ERR_..., "...")`.
tp_status setError(tp_status status, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/// Argument checks. Each returns TP_OK or sets the error (prefixed with `fn`)
/// and returns TP_ERR_INVALID_ARGUMENT.
tp_status checkDType(const char *fn, int64_t dtype);
tp_status checkReduceOp(const char *fn, int64_t op);
tp_status checkCount(const char *fn, const char *what, int64_t count);
/// `elements` elements may be addressed through `pointer`: it must not be
/// null unless `elements` is 0.
tp_status checkBuffer(const char *fn, const char *what, const void *pointer,
                      int64_t elements);
/// result = a * b * c, failing if it overflows int64.
tp_status checkedProduct(const char *fn, int64_t a, int64_t b, int64_t c,
                         int64_t &result);
/// The byte ranges [src, src+srcBytes) and [dst, dst+dstBytes) must not
/// overlap (src == dst is accepted when `allowSame`).
tp_status checkNoOverlap(const char *fn, const void *src, size_t srcBytes,
                         const void *dst, size_t dstBytes, bool allowSame);

} // namespace tp::rt

#endif // TP_RUNTIME_COMMON_ERROR_H
