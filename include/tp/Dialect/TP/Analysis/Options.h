//===- Options.h - enums of the analyses' options ---------------*- C++ -*-===//
//
// Part of tp-mlir.
//
// The enums that the analyses take and that typed pass options carry
// (`Option<..., "UnevenPolicy", ..., cl::values(...)>` in
// Dialect/TP/Transforms/Passes.td): the option parser rejects an unknown
// value with the list of valid ones, and no pass re-parses strings. They live
// here, below the passes, so that the analyses need nothing from Transforms.
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_ANALYSIS_OPTIONS_H
#define TP_DIALECT_TP_ANALYSIS_OPTIONS_H

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

} // namespace tp
} // namespace mlir

#endif // TP_DIALECT_TP_ANALYSIS_OPTIONS_H
