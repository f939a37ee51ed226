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

/// Builds the collectives that turn `local` (one rank's part of a value held
/// as `from`) into the same value held as `to`. Returns failure for a
/// transition no collective implements (anything into a partial value).
FailureOr<Value> buildReshard(OpBuilder &builder, Location loc, Value local,
                              ShardingAttr from, ShardingAttr to,
                              int64_t tpSize);

} // namespace tp
} // namespace mlir

#endif // TP_DIALECT_TP_TRANSFORMS_RESHARD_H
