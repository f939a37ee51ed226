//===- ShardingInterface.cpp - how ops run on a tp group ------------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Interfaces/ShardingInterface.h"
#include "tp/Dialect/TP/IR/TPOps.h"

using namespace mlir;
using namespace mlir::tp;

#include "tp/Dialect/TP/Interfaces/ShardingInterface.cpp.inc"

bool ShardingOption::isReplicated() const {
  auto replicated = [](ShardingAttr s) { return s.isReplicated(); };
  return llvm::all_of(operands, replicated) &&
         llvm::all_of(results, replicated) &&
         llvm::all_of(captures, [&](auto &c) { return replicated(c.second); });
}

ShardingAttr ShardingOption::getCaptureSharding(Value captured) const {
  for (auto &[value, sharding] : captures)
    if (value == captured)
      return sharding;
  return ShardingAttr::getReplicated(captured.getContext());
}

Value PartitionContext::getRank(OpBuilder &builder, Location loc) {
  if (rank)
    return rank;
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(entryBlock);
  rank = RankOp::create(builder, loc, builder.getIndexType());
  return rank;
}
