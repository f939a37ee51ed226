//===- ShardingModels.h - sharding rules for upstream ops -------*- C++ -*-===//
//
// Part of tp-mlir.
//
// External models of tp::ShardingOpInterface for the upstream ops that
// frontends emit (linalg structured ops, tensor.empty, arith/math elementwise
// ops on tensors, ...). Register them on a DialectRegistry before the context
// loads those dialects.
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_INTERFACES_SHARDINGMODELS_H
#define TP_DIALECT_TP_INTERFACES_SHARDINGMODELS_H

#include "tp/Dialect/TP/Interfaces/ShardingInterface.h"

namespace mlir {
class DialectRegistry;
namespace linalg {
class LinalgOp;
} // namespace linalg

namespace tp {

void registerLinalgShardingModels(DialectRegistry &registry);
void registerTensorShardingModels(DialectRegistry &registry);
void registerElementwiseShardingModels(DialectRegistry &registry);

/// All of the above.
void registerShardingModels(DialectRegistry &registry);

/// If result `resultIndex` of `op` is computed as `out = combine(out, f(ins))`
/// with a sum/max/min combiner and `f` independent of every output, returns
/// the combiner: splitting a reduction loop of such an op leaves a partial
/// value of that kind.
std::optional<ReductionKind> getReductionCombiner(linalg::LinalgOp op,
                                                  unsigned resultIndex);

} // namespace tp
} // namespace mlir

#endif // TP_DIALECT_TP_INTERFACES_SHARDINGMODELS_H
