//===- Compare.h - results side by side -------------------------*- C++ -*-===//
//
// Part of tp-mlir.
//
// Reads a result as a whole array (a .npy file, or a shard set assembled)
// and compares two of them the way tp-run --check does: the largest
// absolute difference against the largest reference magnitude.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_LAUNCH_COMPARE_H
#define TP_RUNTIME_LAUNCH_COMPARE_H

#include "tp/runtime/npy.h"

#include <string>

namespace tp::launch {

/// A .npy file, or the whole tensor of a shard set (NAME.shards); f16 / bf16
/// widened to f32 as tp-launch writes .npy results.
bool readWholeResult(const std::string &path, npy::Array &array,
                     std::string &error);

struct Comparison {
  double maxAbs = 0; ///< max |got - ref| (infinite where one is NaN)
  double maxRef = 0; ///< max |ref|
  double relative() const { return maxRef > 0 ? maxAbs / maxRef : maxAbs; }
};

/// Compares `got` with `ref`: false with a message if their shapes or
/// dtypes differ or the dtype is not a number tp-launch writes.
bool compareArrays(const npy::Array &got, const npy::Array &ref,
                   Comparison &comparison, std::string &error);

} // namespace tp::launch

#endif // TP_RUNTIME_LAUNCH_COMPARE_H
