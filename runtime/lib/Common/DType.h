//===- DType.h - Element types and 16-bit float conversion ------*- C++ -*-===//
//
// Backend-neutral, header-only helpers shared by every backend, the launcher
// and the tests: element sizes and names, and f32 <-> f16 / bf16 conversion
// with round-to-nearest-even. Header-only so that each binary gets its own
// private copy (nothing here is exported from a backend library).
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_COMMON_DTYPE_H
#define TP_RUNTIME_COMMON_DTYPE_H

#include "tp/runtime/tp_runtime.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace tp::rt {

inline bool isValidDType(int64_t dtype) {
  return dtype >= TP_F32 && dtype <= TP_I64;
}

inline bool isValidReduceOp(int64_t op) { return op >= TP_SUM && op <= TP_MIN; }

/// Size in bytes of one element; 0 for an invalid dtype.
inline size_t dtypeSize(int64_t dtype) {
  switch (dtype) {
  case TP_F32:
  case TP_I32:
    return 4;
  case TP_F64:
  case TP_I64:
    return 8;
  case TP_F16:
  case TP_BF16:
    return 2;
  default:
    return 0;
  }
}

/// Manifest spelling of a dtype ("f32", ...); "?" for an invalid one.
inline const char *dtypeName(int64_t dtype) {
  switch (dtype) {
  case TP_F32:
    return "f32";
  case TP_F64:
    return "f64";
  case TP_F16:
    return "f16";
  case TP_BF16:
    return "bf16";
  case TP_I32:
    return "i32";
  case TP_I64:
    return "i64";
  default:
    return "?";
  }
}

/// Parses a manifest dtype name; false if unknown.
inline bool parseDTypeName(std::string_view name, tp_dtype &dtype) {
  static constexpr tp_dtype all[] = {TP_F32,  TP_F64, TP_F16,
                                     TP_BF16, TP_I32, TP_I64};
  for (tp_dtype d : all) {
    if (name == dtypeName(d)) {
      dtype = d;
      return true;
    }
  }
  return false;
}

inline const char *reduceOpName(int64_t op) {
  switch (op) {
  case TP_SUM:
    return "sum";
  case TP_MAX:
    return "max";
  case TP_MIN:
    return "min";
  default:
    return "?";
  }
}

inline bool parseReduceOpName(std::string_view name, tp_reduce_op &op) {
  static constexpr tp_reduce_op all[] = {TP_SUM, TP_MAX, TP_MIN};
  for (tp_reduce_op o : all) {
    if (name == reduceOpName(o)) {
      op = o;
      return true;
    }
  }
  return false;
}

inline bool isHalfDType(int64_t dtype) {
  return dtype == TP_F16 || dtype == TP_BF16;
}

inline uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

inline float bitsToFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof(f));
  return f;
}

/// bfloat16 -> f32 is exact: bf16 is the upper half of an f32.
inline float bf16ToF32(uint16_t h) { return bitsToFloat(uint32_t(h) << 16); }

/// f32 -> bfloat16, round to nearest even; NaN stays a (quiet) NaN.
inline uint16_t f32ToBf16(float f) {
  uint32_t u = floatBits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return uint16_t((u >> 16) | 0x0040u);
  uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
  return uint16_t((u + rounding) >> 16);
}

/// IEEE binary16 -> f32 (exact).
inline float f16ToF32(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu;
  uint32_t mantissa = h & 0x3ffu;
  if (exponent == 0x1f) // inf / NaN
    return bitsToFloat(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0) { // zero / subnormal: mantissa * 2^-24
    float magnitude = float(mantissa) * 5.9604644775390625e-8f;
    return bitsToFloat(sign | floatBits(magnitude));
  }
  return bitsToFloat(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

/// f32 -> IEEE binary16, round to nearest even; overflow gives inf, NaN stays
/// a (quiet) NaN, tiny values become subnormals or zero.
inline uint16_t f32ToF16(float f) {
  uint32_t u = floatBits(f);
  uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) // NaN
    return uint16_t(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
  if (a >= 0x477ff000u) // >= 65520 rounds to inf
    return uint16_t(sign | 0x7c00u);
  if (a < 0x38800000u) {  // below the smallest normal half (2^-14)
    if (a <= 0x33000000u) // <= 2^-25: rounds to zero (the tie goes to even 0)
      return sign;
    uint32_t exponent = a >> 23;
    uint32_t mantissa = (a & 0x7fffffu) | 0x800000u;
    uint32_t shift = 126u - exponent; // 14..24
    uint32_t result = mantissa >> shift;
    uint32_t rest = mantissa & ((1u << shift) - 1u);
    uint32_t half = 1u << (shift - 1u);
    if (rest > half || (rest == half && (result & 1u)))
      ++result; // may carry into the smallest normal: still correct
    return uint16_t(sign | result);
  }
  uint32_t rounded = a + 0xfffu + ((a >> 13) & 1u);
  return uint16_t(sign | ((rounded - 0x38000000u) >> 13));
}

/// Loads element `i` of a f16/bf16 buffer as f32.
inline float loadHalf(int64_t dtype, const uint16_t *p, int64_t i) {
  return dtype == TP_BF16 ? bf16ToF32(p[i]) : f16ToF32(p[i]);
}

inline uint16_t storeHalf(int64_t dtype, float f) {
  return dtype == TP_BF16 ? f32ToBf16(f) : f32ToF16(f);
}

} // namespace tp::rt

#endif // TP_RUNTIME_COMMON_DTYPE_H
