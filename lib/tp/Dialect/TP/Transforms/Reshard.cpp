//===- Reshard.cpp - collectives between two shardings --------------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Transforms/Reshard.h"
#include "tp/Dialect/TP/IR/TPOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::tp;

static RankedTensorType withDim(RankedTensorType type, int64_t dim,
                                int64_t size) {
  SmallVector<int64_t> shape(type.getShape());
  shape[dim] = size;
  return type.clone(shape);
}

/// `value` with dimension `dim` cut (or zero-padded) to `size`.
static Value resizeDim(OpBuilder &builder, Location loc, Value value,
                       int64_t dim, int64_t size) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t have = type.getDimSize(dim);
  if (have == size || ShapedType::isDynamic(have))
    return value;
  RankedTensorType target = withDim(type, dim, size);
  if (size < have) {
    SmallVector<OpFoldResult> offsets(type.getRank(), builder.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(builder, loc, value);
    SmallVector<OpFoldResult> strides(type.getRank(), builder.getIndexAttr(1));
    sizes[dim] = builder.getIndexAttr(size);
    return tensor::ExtractSliceOp::create(builder, loc, target, value, offsets,
                                          sizes, strides);
  }
  SmallVector<OpFoldResult> low(type.getRank(), builder.getIndexAttr(0));
  SmallVector<OpFoldResult> high(type.getRank(), builder.getIndexAttr(0));
  high[dim] = builder.getIndexAttr(size - have);
  Value zero = arith::ConstantOp::create(
      builder, loc, builder.getZeroAttr(type.getElementType()));
  return tensor::PadOp::create(builder, loc, target, value, low, high, zero);
}

FailureOr<Value> mlir::tp::buildReshard(OpBuilder &builder, Location loc,
                                        Value local, ShardingAttr from,
                                        ShardingAttr to, int64_t tpSize,
                                        RankedTensorType global) {
  if (from == to)
    return local;
  auto type = cast<RankedTensorType>(local.getType());
  if (to.isPartial())
    return failure();
  // Per-rank chunk of a split of `dim`: ceil(size / tpSize).
  auto chunk = [&](int64_t dim) {
    int64_t size = global.getDimSize(dim);
    return ShapedType::isDynamic(size) ? size
                                       : (size + tpSize - 1) / tpSize;
  };

  // Make it replicated first, then slice if needed.
  Value full = local;
  if (from.isSplit()) {
    int64_t dim = from.getDim();
    RankedTensorType gathered = type;
    if (!ShapedType::isDynamic(type.getDimSize(dim)))
      gathered = withDim(type, dim, type.getDimSize(dim) * tpSize);
    full = AllGatherOp::create(builder, loc, gathered, local, dim, tpSize);
    full = resizeDim(builder, loc, full, dim, global.getDimSize(dim));
  } else if (from.isPartial()) {
    if (to.isSplit()) {
      int64_t dim = to.getDim();
      Value padded = resizeDim(builder, loc, local, dim, chunk(dim) * tpSize);
      return ReduceScatterOp::create(builder, loc,
                                     withDim(type, dim, chunk(dim)), padded,
                                     from.getReduction(), dim, tpSize)
          .getResult();
    }
    full = AllReduceOp::create(builder, loc, local, from.getReduction(),
                               tpSize);
  }
  if (to.isReplicated())
    return full;
  int64_t dim = to.getDim();
  Value padded = resizeDim(builder, loc, full, dim, chunk(dim) * tpSize);
  auto fullType = cast<RankedTensorType>(padded.getType());
  return AllSliceOp::create(builder, loc, withDim(fullType, dim, chunk(dim)),
                            padded, dim, tpSize)
      .getResult();
}
