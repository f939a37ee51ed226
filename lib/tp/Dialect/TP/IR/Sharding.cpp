//===- Sharding.cpp - sharding vocabulary of the tp dialect ---------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/IR/Sharding.h"
#include "tp/runtime/sharding.h"

using namespace mlir;
using namespace mlir::tp;

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

int64_t mlir::tp::getLocalDimSize(RankedTensorType global,
                                  ShardingAttr sharding, int64_t tpSize) {
  int64_t size = global.getDimSize(sharding.getDim());
  // The arithmetic is the runtime's (tp/runtime/sharding.h), so that the
  // local types here and the shards tp-launch cuts are the same.
  if (sharding.isSegmented()) {
    std::vector<int64_t> segments(sharding.getSegments().begin(),
                                  sharding.getSegments().end());
    return ::tp::sharding::segmentedLocalExtent(
        segments,
        [&](size_t i) { return sharding.isSegmentReplicated(int64_t(i)); },
        tpSize);
  }
  if (ShapedType::isDynamic(size))
    return size;
  return ::tp::sharding::localExtent(size, tpSize, sharding.getGranule());
}

RankedTensorType mlir::tp::getLocalType(RankedTensorType global,
                                        ShardingAttr sharding, int64_t tpSize) {
  if (!sharding || !sharding.isSplit())
    return global;
  SmallVector<int64_t> shape(global.getShape());
  shape[sharding.getDim()] = getLocalDimSize(global, sharding, tpSize);
  return global.clone(shape);
}
