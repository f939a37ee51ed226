//===- Partitioner.h - rewrite a function into its per-rank form -*- C++ -*-===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_TRANSFORMS_PARTITIONER_H
#define TP_DIALECT_TP_TRANSFORMS_PARTITIONER_H

#include "tp/Dialect/TP/Analysis/ShardingSolver.h"

namespace mlir {
namespace tp {

/// Checks that `func` can be partitioned at all (one block, no callers when
/// its signature changes is checked later). Emits a diagnostic on failure.
LogicalResult checkPartitionable(func::FuncOp func);

/// Rewrites `func` in place into the per-rank program for the solution held
/// by `solver` (initialized and solved on `func`). Arguments and results get
/// local types plus `tp.sharding` and `tp.global_type` attributes. Results
/// are returned whole, or with `shardedResults` in the distribution their
/// values have (split results as each rank's shard; partial ones reduced).
LogicalResult partitionFunction(func::FuncOp func, ShardingSolver &solver,
                                bool shardedResults = false);

/// Checks whether `module` is already partitioned: it has `tp.size`, or a
/// function carries `tp.sharding` / `tp.global_type` or contains tp ops.
/// Returns true when it is, for `tpSize` (the pass `passName` has nothing
/// to do), false when it is not, and failure, with a diagnostic that says to
/// start from the unpartitioned program, when it was partitioned for another
/// tp size or for one that cannot be told. Partitioning twice would rewrite
/// the shardings and keep the first partitioning's collectives: wrong
/// results. With `firstTosaOp`, the same walk of the module also finds its
/// first TOSA op, if any (a walk of a large model's every op costs about as
/// much as a pass's own work on a tenth of it). Without `scanBodies`, only
/// the module's and the signatures' attributes are checked: for a caller
/// that knows the bodies were scanned already and have not changed since.
FailureOr<bool> checkAlreadyPartitioned(ModuleOp module, int64_t tpSize,
                                        StringRef passName,
                                        Operation **firstTosaOp = nullptr,
                                        bool scanBodies = true);

/// Removes `tp.parallel` annotations and records a replicated sharding on
/// every argument and result (the tp-size 1 form of `partitionFunction`).
void markReplicated(func::FuncOp func);

} // namespace tp
} // namespace mlir

#endif // TP_DIALECT_TP_TRANSFORMS_PARTITIONER_H
