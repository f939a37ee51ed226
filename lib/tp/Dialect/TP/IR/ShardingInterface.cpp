//===- ShardingInterface.cpp - how ops run on a tp group ------------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/IR/ShardingInterface.h"
#include "tp/Dialect/TP/IR/TPOps.h"
#include "tp/runtime/sharding.h"

using namespace mlir;
using namespace mlir::tp;

#include "tp/Dialect/TP/IR/ShardingInterface.cpp.inc"

StringRef mlir::tp::stringifyParallelKind(ParallelKind kind) {
  switch (kind) {
  case ParallelKind::Replicated:
    return "replicated";
  case ParallelKind::Column:
    return "column";
  case ParallelKind::Row:
    return "row";
  case ParallelKind::Vocab:
    return "vocab";
  case ParallelKind::Other:
    return "other";
  }
  llvm_unreachable("unknown parallel kind");
}

std::optional<ParallelKind> mlir::tp::parseParallelKind(StringRef value) {
  if (value == "replicated")
    return ParallelKind::Replicated;
  if (value == "column")
    return ParallelKind::Column;
  if (value == "row")
    return ParallelKind::Row;
  if (value == "vocab")
    return ParallelKind::Vocab;
  return std::nullopt;
}

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

RankedTensorType mlir::tp::getLocalType(RankedTensorType global,
                                        ShardingAttr sharding, int64_t tpSize) {
  if (!sharding || !sharding.isSplit())
    return global;
  // The arithmetic is the runtime's (tp/runtime/sharding.h), so that the
  // local types here and the shards tp-launch cuts are the same.
  SmallVector<int64_t> shape(global.getShape());
  int64_t &size = shape[sharding.getDim()];
  if (sharding.isSegmented()) {
    std::vector<int64_t> segments(sharding.getSegments().begin(),
                                  sharding.getSegments().end());
    size = ::tp::sharding::segmentedLocalExtent(
        segments,
        [&](size_t i) { return sharding.isSegmentReplicated(int64_t(i)); },
        tpSize);
  } else if (!ShapedType::isDynamic(size)) {
    size = ::tp::sharding::localExtent(size, tpSize, sharding.getGranule());
  }
  return global.clone(shape);
}
