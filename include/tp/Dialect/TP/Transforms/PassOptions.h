//===- PassOptions.h - enum values of the tp passes' options ----*- C++ -*-===//
//
// Part of tp-mlir.
//
// The enums behind typed pass options (`Option<..., "UnevenPolicy", ...,
// cl::values(...)>` in Passes.td): the option parser rejects an unknown
// value with the list of valid ones, and no pass re-parses strings.
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_TRANSFORMS_PASSOPTIONS_H
#define TP_DIALECT_TP_TRANSFORMS_PASSOPTIONS_H

#include "llvm/ADT/StringRef.h"
#include <optional>

namespace mlir {
namespace tp {

/// What tp-plan and tp-partition do with a split dimension that does not
/// divide evenly by the tp size.
enum class UnevenPolicy {
  /// An error naming the op and the dimension.
  Error,
  /// The op stays replicated, with a remark.
  Replicate,
  /// ceil(size / tp-size) per rank, zero padding, masked reductions.
  Pad
};

/// Parses "error", "replicate" or "pad" (for drivers that take a string).
std::optional<UnevenPolicy> parseUnevenPolicy(llvm::StringRef value);

} // namespace tp
} // namespace mlir

#endif // TP_DIALECT_TP_TRANSFORMS_PASSOPTIONS_H
