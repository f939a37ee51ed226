//===- Error.cpp - Per-thread error state of the runtime ------------------===//

#include "Common/Error.h"
#include "Common/DType.h"

#include <cstdarg>
#include <cstdint>
#include <cstdio>

namespace {
// Fixed-size so that recording an error never allocates.
thread_local char lastError[1024] = "";
} // namespace

namespace tp::rt {

tp_status setError(tp_status status, const char *format, ...) {
  va_list args;
  va_start(args, format);
  std::vsnprintf(lastError, sizeof(lastError), format, args);
  va_end(args);
  return status;
}

namespace {
/// "FN: unknown WHAT VALUE (expected EXPECTED)" for a dtype or op code.
tp_status unknownCode(const char *fn, const char *what, int64_t value,
                      const char *expected) {
  return setError(TP_ERR_INVALID_ARGUMENT, "%s: unknown %s %lld (expected %s)",
                  fn, what, static_cast<long long>(value), expected);
}
} // namespace

tp_status checkDType(const char *fn, int64_t dtype) {
  return isValidDType(dtype)
             ? TP_OK
             : unknownCode(fn, "dtype", dtype,
                           "0..5: f32, f64, f16, bf16, i32, i64");
}

tp_status checkReduceOp(const char *fn, int64_t op) {
  return isValidReduceOp(op)
             ? TP_OK
             : unknownCode(fn, "reduction op", op, "0..2: sum, max, min");
}

tp_status checkCount(const char *fn, const char *what, int64_t count) {
  if (count >= 0)
    return TP_OK;
  return setError(TP_ERR_INVALID_ARGUMENT, "%s: %s is negative (%lld)", fn,
                  what, static_cast<long long>(count));
}

tp_status checkBuffer(const char *fn, const char *what, const void *pointer,
                      int64_t elements) {
  if (pointer || elements == 0)
    return TP_OK;
  return setError(TP_ERR_INVALID_ARGUMENT,
                  "%s: %s is null but covers %lld elements", fn, what,
                  static_cast<long long>(elements));
}

tp_status checkedProduct(const char *fn, int64_t a, int64_t b, int64_t c,
                         int64_t &result) {
  int64_t ab;
  if (__builtin_mul_overflow(a, b, &ab) ||
      __builtin_mul_overflow(ab, c, &result))
    return setError(TP_ERR_INVALID_ARGUMENT,
                    "%s: element count %lld * %lld * %lld overflows", fn,
                    static_cast<long long>(a), static_cast<long long>(b),
                    static_cast<long long>(c));
  return TP_OK;
}

tp_status checkNoOverlap(const char *fn, const void *src, size_t srcBytes,
                         const void *dst, size_t dstBytes, bool allowSame) {
  if (srcBytes == 0 || dstBytes == 0)
    return TP_OK;
  if (allowSame && src == dst)
    return TP_OK;
  auto s = reinterpret_cast<uintptr_t>(src);
  auto d = reinterpret_cast<uintptr_t>(dst);
  if (s < d + dstBytes && d < s + srcBytes)
    return setError(TP_ERR_INVALID_ARGUMENT,
                    allowSame ? "%s: src and dst overlap (only src == dst is "
                                "allowed)"
                              : "%s: src and dst overlap",
                    fn);
  return TP_OK;
}

} // namespace tp::rt

extern "C" const char *tp_last_error(void) { return lastError; }
