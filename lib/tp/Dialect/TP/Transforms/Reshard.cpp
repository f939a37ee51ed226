//===- Reshard.cpp - collectives between two shardings --------------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Transforms/Reshard.h"
#include "tp/Dialect/TP/IR/TPOps.h"

using namespace mlir;
using namespace mlir::tp;

static RankedTensorType scaleDim(RankedTensorType type, int64_t dim,
                                 int64_t num, int64_t den) {
  SmallVector<int64_t> shape(type.getShape());
  if (!ShapedType::isDynamic(shape[dim]))
    shape[dim] = shape[dim] * num / den;
  return type.clone(shape);
}

FailureOr<Value> mlir::tp::buildReshard(OpBuilder &builder, Location loc,
                                        Value local, ShardingAttr from,
                                        ShardingAttr to, int64_t tpSize) {
  if (from == to)
    return local;
  auto type = cast<RankedTensorType>(local.getType());
  if (to.isPartial())
    return failure();

  // Make it replicated first, then slice if needed.
  Value full = local;
  RankedTensorType fullType = type;
  if (from.isSplit()) {
    if (to.isSplit() || to.isReplicated()) {
      fullType = scaleDim(type, from.getDim(), tpSize, 1);
      full = AllGatherOp::create(builder, loc, fullType, local, from.getDim(),
                                 tpSize);
    }
  } else if (from.isPartial()) {
    if (to.isSplit())
      return ReduceScatterOp::create(
                 builder, loc, scaleDim(type, to.getDim(), 1, tpSize), local,
                 from.getReduction(), to.getDim(), tpSize)
          .getResult();
    full = AllReduceOp::create(builder, loc, local, from.getReduction(),
                               tpSize);
  }
  if (to.isReplicated())
    return full;
  return AllSliceOp::create(builder, loc,
                            scaleDim(fullType, to.getDim(), 1, tpSize), full,
                            to.getDim(), tpSize)
      .getResult();
}
