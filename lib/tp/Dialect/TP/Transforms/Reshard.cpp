//===- Reshard.cpp - collectives between two shardings --------------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Transforms/Reshard.h"
#include "tp/Dialect/TP/Interfaces/ShardingInterface.h"
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

/// `value` with dimension `dim` sliced to [offset, offset + size).
static Value sliceDim(OpBuilder &builder, Location loc, Value value,
                      int64_t dim, int64_t offset, int64_t size) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<OpFoldResult> offsets(type.getRank(), builder.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(builder, loc, value);
  SmallVector<OpFoldResult> strides(type.getRank(), builder.getIndexAttr(1));
  offsets[dim] = builder.getIndexAttr(offset);
  sizes[dim] = builder.getIndexAttr(size);
  return tensor::ExtractSliceOp::create(builder, loc,
                                        withDim(type, dim, size), value,
                                        offsets, sizes, strides);
}

/// Moves `pieces` (each [value, position along `dim`]) into a new tensor
/// shaped like `like` with dimension `dim` of `size`.
static Value assemble(OpBuilder &builder, Location loc, Value like,
                      int64_t dim, int64_t size,
                      ArrayRef<std::pair<Value, int64_t>> pieces) {
  auto type = withDim(cast<RankedTensorType>(like.getType()), dim, size);
  SmallVector<OpFoldResult> shape = tensor::getMixedSizes(builder, loc, like);
  shape[dim] = builder.getIndexAttr(size);
  Value result = tensor::EmptyOp::create(builder, loc, shape,
                                         type.getElementType());
  for (auto [piece, position] : pieces) {
    SmallVector<OpFoldResult> offsets(type.getRank(), builder.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(builder, loc, piece);
    SmallVector<OpFoldResult> strides(type.getRank(), builder.getIndexAttr(1));
    offsets[dim] = builder.getIndexAttr(position);
    result = tensor::InsertSliceOp::create(builder, loc, piece, result,
                                           offsets, sizes, strides);
  }
  return result;
}

/// The whole value from the gathered parts of a segmented split: the
/// all_gather puts rank r's part at [r * L, (r + 1) * L) (L the local size).
/// Segment j (global start `start`, size s) of a rank's part starts at
/// `localStart`; rank r's slice of it belongs at start + r * s / p, and a
/// replicated segment is taken from rank 0's part.
static Value gatherSegments(OpBuilder &builder, Location loc, Value local,
                            ShardingAttr from, int64_t tpSize) {
  int64_t dim = from.getDim();
  auto type = cast<RankedTensorType>(local.getType());
  int64_t localSize = type.getDimSize(dim);
  Value gathered = AllGatherOp::create(
      builder, loc, withDim(type, dim, localSize * tpSize), local, dim, tpSize);
  SmallVector<std::pair<Value, int64_t>> pieces;
  int64_t start = 0, localStart = 0;
  for (auto [i, segment] : llvm::enumerate(from.getSegments())) {
    int64_t chunk = from.getLocalSegmentSize(i, tpSize);
    int64_t ranks = from.isSegmentReplicated(i) ? 1 : tpSize;
    for (int64_t r = 0; r < ranks; ++r)
      pieces.push_back({sliceDim(builder, loc, gathered, dim,
                                 r * localSize + localStart, chunk),
                        start + r * chunk});
    start += segment;
    localStart += chunk;
  }
  return assemble(builder, loc, gathered, dim, start, pieces);
}

/// This rank's part of a segmented split of the whole value `full`: its
/// slice of every split segment and all of every replicated one, one after
/// the other.
static Value sliceSegments(OpBuilder &builder, Location loc, Value full,
                           ShardingAttr to, int64_t tpSize) {
  int64_t dim = to.getDim();
  SmallVector<std::pair<Value, int64_t>> pieces;
  int64_t start = 0, localStart = 0;
  for (auto [i, segment] : llvm::enumerate(to.getSegments())) {
    Value mine = sliceDim(builder, loc, full, dim, start, segment);
    int64_t chunk = to.getLocalSegmentSize(i, tpSize);
    if (!to.isSegmentReplicated(i)) {
      auto type = cast<RankedTensorType>(mine.getType());
      mine = AllSliceOp::create(builder, loc, withDim(type, dim, chunk), mine,
                                dim, tpSize);
    }
    pieces.push_back({mine, localStart});
    start += segment;
    localStart += chunk;
  }
  return assemble(builder, loc, full, dim, localStart, pieces);
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
  // Per-rank chunk of the target split: ceil(size / tpSize), in whole
  // granules.
  auto chunk = [&](int64_t dim) {
    return getLocalType(global, to, tpSize).getDimSize(dim);
  };

  // Make it replicated first, then slice if needed.
  Value full = local;
  if (from.isSegmented()) {
    full = gatherSegments(builder, loc, local, from, tpSize);
  } else if (from.isSplit()) {
    int64_t dim = from.getDim();
    RankedTensorType gathered = type;
    if (!ShapedType::isDynamic(type.getDimSize(dim)))
      gathered = withDim(type, dim, type.getDimSize(dim) * tpSize);
    full = AllGatherOp::create(builder, loc, gathered, local, dim, tpSize);
    full = resizeDim(builder, loc, full, dim, global.getDimSize(dim));
  } else if (from.isPartial()) {
    if (to.isSplit() && !to.isSegmented()) {
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
  if (to.isSegmented())
    return sliceSegments(builder, loc, full, to, tpSize);
  int64_t dim = to.getDim();
  Value padded = resizeDim(builder, loc, full, dim, chunk(dim) * tpSize);
  auto fullType = cast<RankedTensorType>(padded.getType());
  return AllSliceOp::create(builder, loc, withDim(fullType, dim, chunk(dim)),
                            padded, dim, tpSize)
      .getResult();
}
