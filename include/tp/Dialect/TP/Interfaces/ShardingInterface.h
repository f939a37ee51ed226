//===- ShardingInterface.h - how ops run on a tp group ----------*- C++ -*-===//
//
// Part of tp-mlir.
//
// A sharding option says, for one way of running an op on a tensor-parallel
// group, which sharding each tensor operand must have and which sharding each
// result will have. Ops describe their options through ShardingOpInterface;
// the partitioner and the planner choose among them.
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_INTERFACES_SHARDINGINTERFACE_H
#define TP_DIALECT_TP_INTERFACES_SHARDINGINTERFACE_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"
#include "tp/Dialect/TP/IR/Sharding.h"
#include "tp/Dialect/TP/IR/TPDialect.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir {
namespace tp {

/// One way of running an op on the group.
///
/// A function's problem holds every option of every op (several per op), so
/// the inline sizes fit the common op (up to four operands, one result, no
/// captures): 112 bytes instead of 216 with the default sizes, which halved
/// the memory tp-plan touches and the time it spends in first-touch page
/// faults (bench/plan_scaling.py).
struct ShardingOption {
  /// Required sharding of every operand (replicated for non-tensors).
  llvm::SmallVector<ShardingAttr, 4> operands;
  /// Sharding of every result.
  llvm::SmallVector<ShardingAttr, 1> results;
  /// Tensors defined outside the op and read inside its regions (for
  /// instance the table of an embedding lookup), with the sharding the option
  /// needs. Captured tensors not listed here must be replicated.
  llvm::SmallVector<std::pair<Value, ShardingAttr>, 0> captures;
  /// Op-specific payload (for structured ops: the split loop, or -1).
  int64_t loopDim = -1;
  /// Global size of the split loop (structured ops), or -1.
  int64_t loopSize = -1;
  /// False if the op cannot be partitioned with a split that does not divide
  /// evenly (padded to ceil(size / tp-size) per rank): reshapes, slices.
  bool paddable = true;
  /// True if the op treats every position along the split the same way:
  /// permuting those positions (the same permutation in every split operand
  /// and result) permutes the results alike. Such an option also runs on a
  /// segmented split (`#tp.sharding<split d segments [...]>`, every rank
  /// holding a slice of each segment) with the same local op; the planner
  /// derives those variants (see SegmentedSplits.h). False for options whose
  /// local op depends on where a rank's slice lies (linalg.index of the
  /// split loop, masked lookups, reshapes that merge the split dimension).
  bool segmentable = false;
  ParallelKind kind = ParallelKind::Other;

  bool isReplicated() const;
  /// The sharding this option needs for `captured` (replicated if unlisted).
  ShardingAttr getCaptureSharding(Value captured) const;
};

/// Per-function state that op models may use while building local ops.
class PartitionContext {
public:
  PartitionContext(int64_t tpSize, Block *entryBlock)
      : tpSize(tpSize), entryBlock(entryBlock) {}

  int64_t getTPSize() const { return tpSize; }
  /// The rank of the executing process (`tp.rank`), created once per function.
  Value getRank(OpBuilder &builder, Location loc);

private:
  int64_t tpSize;
  Block *entryBlock;
  Value rank;
};

} // namespace tp
} // namespace mlir

#include "tp/Dialect/TP/Interfaces/ShardingInterface.h.inc"

#endif // TP_DIALECT_TP_INTERFACES_SHARDINGINTERFACE_H
