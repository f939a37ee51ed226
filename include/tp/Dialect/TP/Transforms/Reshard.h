//===- Reshard.h - collectives between two shardings ------------*- C++ -*-===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_TRANSFORMS_RESHARD_H
#define TP_DIALECT_TP_TRANSFORMS_RESHARD_H

#include "tp/Dialect/TP/IR/TPDialect.h"
#include "mlir/IR/Builders.h"

namespace mlir {
namespace tp {

/// Builds the collectives that turn `local` (one rank's part of a value of
/// type `global` held as `from`) into the same value held as `to`. A split
/// that does not divide evenly holds ceil(size / tpSize) per rank: it is
/// padded with zeros before slicing or scattering and the padding is cut off
/// after gathering. A segmented split is gathered and its slices put back in
/// segment order (slices and inserts), and sliced segment by segment.
/// Returns failure for a transition no collective implements
/// (anything into a partial value).
FailureOr<Value> buildReshard(OpBuilder &builder, Location loc, Value local,
                              ShardingAttr from, ShardingAttr to,
                              int64_t tpSize, RankedTensorType global);

} // namespace tp
} // namespace mlir

#endif // TP_DIALECT_TP_TRANSFORMS_RESHARD_H
