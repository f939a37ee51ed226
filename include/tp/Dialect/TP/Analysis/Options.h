//===- Options.h - enums of the analyses' options ---------------*- C++ -*-===//
//
// Part of tp-mlir.
//
// The enums that the analyses take and that typed options carry, with the
// list of their textual values (`Option<..., "UnevenPolicy", ...,
// "unevenPolicyValues()">` in Dialect/TP/Transforms/Passes.td, the
// pipelines' TPOptions, tp-run's flags): the option parser rejects an unknown
// value with the list of valid ones, and no pass re-parses strings. They live
// here, below the passes, so that the analyses need nothing from Transforms.
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_ANALYSIS_OPTIONS_H
#define TP_DIALECT_TP_ANALYSIS_OPTIONS_H

#include "llvm/Support/CommandLine.h"

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

/// The values of every `uneven` option (tp-plan, tp-partition, the
/// pipelines, tp-run) and their help: one list, so that each spells and
/// describes them alike.
inline llvm::cl::ValuesClass unevenPolicyValues() {
  return llvm::cl::values(
      clEnumValN(UnevenPolicy::Error, "error",
                 "an error naming the op and the dimension"),
      clEnumValN(UnevenPolicy::Replicate, "replicate",
                 "keep that op replicated, with a remark"),
      clEnumValN(UnevenPolicy::Pad, "pad",
                 "ceil(size / tp-size) per rank, zero padding, masked "
                 "reductions"));
}

} // namespace tp
} // namespace mlir

#endif // TP_DIALECT_TP_ANALYSIS_OPTIONS_H
