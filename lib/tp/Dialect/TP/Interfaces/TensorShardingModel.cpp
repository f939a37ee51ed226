//===- TensorShardingModel.cpp - sharding rules for tensor ops ------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Interfaces/ShardingModels.h"
#include "tp/Utils/SliceDims.h"

#include "ShardingModelSupport.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;
using namespace mlir::tp;

namespace {

/// `tensor.empty` only carries a shape: it can be created directly at any
/// local shape.
struct EmptyShardingModel
    : public ShardingOpInterface::ExternalModel<EmptyShardingModel,
                                                tensor::EmptyOp> {
  void getShardingOptions(Operation *op, int64_t,
                          SmallVectorImpl<ShardingOption> &options) const {
    auto empty = cast<tensor::EmptyOp>(op);
    MLIRContext *ctx = op->getContext();
    int64_t rank = empty.getType().getRank();
    for (int64_t dim = -1; dim < rank; ++dim) {
      ShardingOption option;
      option.kind = dim < 0 ? ParallelKind::Replicated : ParallelKind::Other;
      option.segmentable = dim >= 0;
      // Dynamic sizes are index operands: replicated.
      option.operands.assign(op->getNumOperands(),
                             ShardingAttr::getReplicated(ctx));
      option.results.push_back(dim < 0 ? ShardingAttr::getReplicated(ctx)
                                       : ShardingAttr::getSplit(ctx, dim));
      options.push_back(std::move(option));
    }
  }

  FailureOr<SmallVector<Value>>
  partition(Operation *op, OpBuilder &builder, const ShardingOption &option,
            ValueRange localOperands, PartitionContext &context) const {
    auto empty = cast<tensor::EmptyOp>(op);
    RankedTensorType type = getLocalType(empty.getType(), option.results[0],
                                         context.getTPSize());
    return SmallVector<Value>{tensor::EmptyOp::create(
        builder, op->getLoc(), type, localOperands)};
  }
};

/// The dimension of a reassociation group that a contiguous split of the
/// collapsed dimension lands on: the first one of size > 1 (all before it are
/// 1, so cutting the collapsed dimension into p contiguous chunks cuts that
/// one into p chunks when it is divisible). The last one if all are 1.
int64_t splitDimOfGroup(ArrayRef<int64_t> group, ArrayRef<int64_t> shape) {
  for (int64_t d : group)
    if (shape[d] != 1)
      return d;
  return group.back();
}

ShardingOption replicatedOption(Operation *op) {
  MLIRContext *ctx = op->getContext();
  ShardingOption option;
  option.kind = ParallelKind::Replicated;
  option.operands.assign(op->getNumOperands(), ShardingAttr::getReplicated(ctx));
  option.results.assign(op->getNumResults(), ShardingAttr::getReplicated(ctx));
  return option;
}

/// A reshape maps a split of one collapsed dimension to a split of the first
/// non-unit dimension of its expanded group, and a partial value to a partial
/// value (reshapes are linear).
void getReshapeOptions(Operation *op, ArrayRef<ReassociationIndices> groups,
                       ArrayRef<int64_t> expandedShape, bool sourceIsCollapsed,
                       int64_t tpSize,
                       SmallVectorImpl<ShardingOption> &options) {
  MLIRContext *ctx = op->getContext();
  options.push_back(replicatedOption(op));
  for (auto [collapsedDim, group] : llvm::enumerate(groups)) {
    int64_t expandedDim = splitDimOfGroup(group, expandedShape);
    ShardingOption option = replicatedOption(op);
    option.kind = ParallelKind::Other;
    // A padded split (uneven=pad) survives a reshape only on a dimension the
    // reshape leaves alone: padding a merged dimension would not line up
    // with the dimensions it is made of.
    // (Unit dimensions in the group do not count.)
    bool alone = llvm::count_if(group, [&](int64_t d) {
                   return expandedShape[d] != 1;
                 }) <= 1;
    option.paddable = alone;
    option.segmentable = alone;
    auto collapsed = ShardingAttr::getSplit(ctx, collapsedDim);
    auto expanded = ShardingAttr::getSplit(ctx, expandedDim);
    option.operands[0] = sourceIsCollapsed ? collapsed : expanded;
    option.results[0] = sourceIsCollapsed ? expanded : collapsed;
    options.push_back(option);
    // Padded (uneven=pad), it lines up when the collapsed dimension is cut
    // in whole units of the dimensions after the split one (12 heads of 64
    // on 8 ranks: 2 heads, 128 elements, per rank): a split with a granule.
    int64_t unit = 1, size = 1;
    for (int64_t d : group) {
      size *= expandedShape[d];
      if (d > expandedDim)
        unit *= expandedShape[d];
    }
    // A zero-sized dimension after the split one makes the unit 0 (and the
    // tensor empty): no padded variant.
    if (unit <= 1 || tpSize <= 1)
      continue;
    int64_t plainChunk = (size + tpSize - 1) / tpSize;
    int64_t unitChunk = (size + tpSize * unit - 1) / (tpSize * unit) * unit;
    if (unitChunk != plainChunk) {
      option.paddable = true;
      collapsed = ShardingAttr::getGranular(ctx, collapsedDim, unit);
      option.operands[0] = sourceIsCollapsed ? collapsed : expanded;
      option.results[0] = sourceIsCollapsed ? expanded : collapsed;
      options.push_back(std::move(option));
    }
  }
  for (ReductionKind kind :
       {ReductionKind::sum, ReductionKind::max, ReductionKind::min}) {
    ShardingOption option = replicatedOption(op);
    option.kind = ParallelKind::Other;
    option.operands[0] = option.results[0] = ShardingAttr::getPartial(ctx, kind);
    options.push_back(std::move(option));
  }
}

struct ExpandShapeShardingModel
    : public ShardingOpInterface::ExternalModel<ExpandShapeShardingModel,
                                                tensor::ExpandShapeOp> {
  void getShardingOptions(Operation *op, int64_t tpSize,
                          SmallVectorImpl<ShardingOption> &options) const {
    auto expand = cast<tensor::ExpandShapeOp>(op);
    if (!expand.getResultType().hasStaticShape())
      return options.push_back(replicatedOption(op));
    getReshapeOptions(op, expand.getReassociationIndices(),
                      expand.getResultType().getShape(),
                      /*sourceIsCollapsed=*/true, tpSize, options);
  }

  FailureOr<SmallVector<Value>>
  partition(Operation *op, OpBuilder &builder, const ShardingOption &option,
            ValueRange localOperands, PartitionContext &context) const {
    auto expand = cast<tensor::ExpandShapeOp>(op);
    RankedTensorType type = getLocalType(expand.getResultType(),
                                         option.results[0], context.getTPSize());
    return SmallVector<Value>{tensor::ExpandShapeOp::create(
        builder, op->getLoc(), type, localOperands[0],
        expand.getReassociationIndices())};
  }
};

struct CollapseShapeShardingModel
    : public ShardingOpInterface::ExternalModel<CollapseShapeShardingModel,
                                                tensor::CollapseShapeOp> {
  void getShardingOptions(Operation *op, int64_t tpSize,
                          SmallVectorImpl<ShardingOption> &options) const {
    auto collapse = cast<tensor::CollapseShapeOp>(op);
    if (!collapse.getSrcType().hasStaticShape())
      return options.push_back(replicatedOption(op));
    getReshapeOptions(op, collapse.getReassociationIndices(),
                      collapse.getSrcType().getShape(),
                      /*sourceIsCollapsed=*/false, tpSize, options);
  }

  FailureOr<SmallVector<Value>>
  partition(Operation *op, OpBuilder &builder, const ShardingOption &option,
            ValueRange localOperands, PartitionContext &context) const {
    auto collapse = cast<tensor::CollapseShapeOp>(op);
    RankedTensorType type = getLocalType(collapse.getResultType(),
                                         option.results[0], context.getTPSize());
    return SmallVector<Value>{tensor::CollapseShapeOp::create(
        builder, op->getLoc(), type, localOperands[0],
        collapse.getReassociationIndices())};
  }
};

/// The dimensions of `full` (the source of an extract_slice, the destination
/// of an insert_slice) that `slice` covers whole (offset 0, full size, stride
/// 1), each with its position in the slice's own (rank-reduced) type.
static SmallVector<std::pair<int64_t, int64_t>>
getWholeDims(OffsetSizeAndStrideOpInterface slice, RankedTensorType full,
             const llvm::SmallBitVector &dropped) {
  SmallVector<std::pair<int64_t, int64_t>> result;
  for (const SliceDim &d : getKeptSliceDims(slice, dropped))
    if (d.offset == 0 && d.stride == 1 && d.size &&
        !full.isDynamicDim(d.fullDim) && *d.size == full.getDimSize(d.fullDim))
      result.push_back({d.fullDim, d.sliceDim});
  return result;
}

/// An extract_slice keeps a split of a dimension it takes whole (offset 0,
/// full size, stride 1, not dropped).
struct ExtractSliceShardingModel
    : public ShardingOpInterface::ExternalModel<ExtractSliceShardingModel,
                                                tensor::ExtractSliceOp> {
  void getShardingOptions(Operation *op, int64_t,
                          SmallVectorImpl<ShardingOption> &options) const {
    auto slice = cast<tensor::ExtractSliceOp>(op);
    MLIRContext *ctx = op->getContext();
    options.push_back(replicatedOption(op));
    for (auto [srcDim, resultDim] :
         getWholeDims(slice, slice.getSourceType(), slice.getDroppedDims())) {
      ShardingOption option = replicatedOption(op);
      option.kind = ParallelKind::Other;
      option.segmentable = true;
      option.operands[0] = ShardingAttr::getSplit(ctx, srcDim);
      option.results[0] = ShardingAttr::getSplit(ctx, resultDim);
      options.push_back(std::move(option));
    }
  }

  FailureOr<SmallVector<Value>>
  partition(Operation *op, OpBuilder &builder, const ShardingOption &option,
            ValueRange localOperands, PartitionContext &context) const {
    auto slice = cast<tensor::ExtractSliceOp>(op);
    IRMapping mapping;
    mapping.map(op->getOperands(), localOperands);
    if (!option.operands[0].isSplit())
      return SmallVector<Value>{builder.clone(*op, mapping)->getResult(0)};
    SmallVector<OpFoldResult> offsets = slice.getMixedOffsets();
    SmallVector<OpFoldResult> sizes = slice.getMixedSizes();
    ShardingAttr source = option.operands[0];
    int64_t dim = source.getDim();
    auto localSrc = cast<RankedTensorType>(localOperands[0].getType());
    int64_t tpSize = context.getTPSize();
    std::optional<int64_t> offset = getConstantIntValue(offsets[dim]);
    std::optional<int64_t> size = getConstantIntValue(sizes[dim]);
    // (The source may already be local: tell a slice of segments from a
    // whole dimension by the result, which keeps all the segments only in
    // the latter.)
    if (source.isSegmented() && offset && size &&
        option.results[0].getSegments() != source.getSegments()) {
      // Whole segments of a segmented split: every rank holds its part of
      // each (a slice, or all of a replicated segment), in segment order.
      int64_t start = 0, localStart = 0, localSize = 0;
      for (auto [i, segment] : llvm::enumerate(source.getSegments())) {
        int64_t local = source.getLocalSegmentSize(i, tpSize);
        if (start < *offset)
          localStart += local;
        else if (start < *offset + *size)
          localSize += local;
        start += segment;
      }
      offsets[dim] = builder.getIndexAttr(localStart);
      sizes[dim] = builder.getIndexAttr(localSize);
    } else {
      // The split dimension is taken whole: its size becomes the local size.
      sizes[dim] = builder.getIndexAttr(localSrc.getDimSize(dim));
    }
    RankedTensorType type =
        getLocalType(slice.getResultType(), option.results[0], tpSize);
    return SmallVector<Value>{tensor::ExtractSliceOp::create(
        builder, op->getLoc(), type, localOperands[0], offsets, sizes,
        slice.getMixedStrides())};
  }
};

/// A concat keeps a split of any dimension but the concatenated one.
struct ConcatShardingModel
    : public ShardingOpInterface::ExternalModel<ConcatShardingModel,
                                                tensor::ConcatOp> {
  void getShardingOptions(Operation *op, int64_t,
                          SmallVectorImpl<ShardingOption> &options) const {
    auto concat = cast<tensor::ConcatOp>(op);
    MLIRContext *ctx = op->getContext();
    options.push_back(replicatedOption(op));
    for (int64_t d = 0, e = concat.getResultType().getRank(); d < e; ++d) {
      if (d == static_cast<int64_t>(concat.getDim()))
        continue;
      ShardingOption option = replicatedOption(op);
      option.kind = ParallelKind::Other;
      option.segmentable = true;
      for (ShardingAttr &s : option.operands)
        s = ShardingAttr::getSplit(ctx, d);
      option.results[0] = ShardingAttr::getSplit(ctx, d);
      options.push_back(std::move(option));
    }
  }

  FailureOr<SmallVector<Value>>
  partition(Operation *op, OpBuilder &builder, const ShardingOption &option,
            ValueRange localOperands, PartitionContext &context) const {
    auto concat = cast<tensor::ConcatOp>(op);
    return SmallVector<Value>{tensor::ConcatOp::create(
        builder, op->getLoc(), concat.getDim(), localOperands)};
  }
};

/// An insert_slice keeps a split of a destination dimension it writes whole
/// (offset 0, full size, stride 1, not dropped), with the source split along
/// the matching dimension: rotate_half's halves written back along the head
/// dimension, a KV cache updated at one position of its sequence dimension.
/// The other dimensions may be cut anywhere, even at dynamic offsets.
struct InsertSliceShardingModel
    : public ShardingOpInterface::ExternalModel<InsertSliceShardingModel,
                                                tensor::InsertSliceOp> {
  void getShardingOptions(Operation *op, int64_t,
                          SmallVectorImpl<ShardingOption> &options) const {
    auto insert = cast<tensor::InsertSliceOp>(op);
    MLIRContext *ctx = op->getContext();
    options.push_back(replicatedOption(op));
    for (auto [destDim, srcDim] :
         getWholeDims(insert, insert.getDestType(), insert.getDroppedDims())) {
      ShardingOption option = replicatedOption(op);
      option.kind = ParallelKind::Other;
      option.segmentable = true;
      option.operands[0] = ShardingAttr::getSplit(ctx, srcDim);
      option.operands[1] = ShardingAttr::getSplit(ctx, destDim);
      option.results[0] = ShardingAttr::getSplit(ctx, destDim);
      options.push_back(std::move(option));
    }
  }

  FailureOr<SmallVector<Value>>
  partition(Operation *op, OpBuilder &builder, const ShardingOption &option,
            ValueRange localOperands, PartitionContext &context) const {
    auto insert = cast<tensor::InsertSliceOp>(op);
    IRMapping mapping;
    mapping.map(op->getOperands(), localOperands);
    if (!option.results[0].isSplit())
      return SmallVector<Value>{builder.clone(*op, mapping)->getResult(0)};
    // The split dimension is written whole: its size becomes the local size.
    int64_t dim = option.results[0].getDim();
    auto localDest = cast<RankedTensorType>(localOperands[1].getType());
    SmallVector<OpFoldResult> sizes = insert.getMixedSizes();
    sizes[dim] = builder.getIndexAttr(localDest.getDimSize(dim));
    SmallVector<OpFoldResult> offsets, strides;
    for (OpFoldResult ofr : insert.getMixedOffsets())
      offsets.push_back(mapOpFoldResult(ofr, mapping));
    for (OpFoldResult ofr : insert.getMixedStrides())
      strides.push_back(mapOpFoldResult(ofr, mapping));
    for (OpFoldResult &ofr : sizes)
      ofr = mapOpFoldResult(ofr, mapping);
    return SmallVector<Value>{tensor::InsertSliceOp::create(
        builder, op->getLoc(), localOperands[0], localOperands[1], offsets,
        sizes, strides)};
  }

  static OpFoldResult mapOpFoldResult(OpFoldResult ofr,
                                      const IRMapping &mapping) {
    if (auto value = dyn_cast<Value>(ofr))
      return mapping.lookupOrDefault(value);
    return ofr;
  }
};

/// A pad keeps a split of a dimension it does not pad.
struct PadShardingModel
    : public ShardingOpInterface::ExternalModel<PadShardingModel,
                                                tensor::PadOp> {
  void getShardingOptions(Operation *op, int64_t,
                          SmallVectorImpl<ShardingOption> &options) const {
    auto pad = cast<tensor::PadOp>(op);
    MLIRContext *ctx = op->getContext();
    options.push_back(replicatedOption(op));
    for (int64_t d = 0, e = pad.getResultType().getRank(); d < e; ++d) {
      if (getConstantIntValue(pad.getMixedLowPad()[d]) != 0 ||
          getConstantIntValue(pad.getMixedHighPad()[d]) != 0)
        continue;
      ShardingOption option = replicatedOption(op);
      option.kind = ParallelKind::Other;
      option.segmentable = true;
      option.operands[0] = ShardingAttr::getSplit(ctx, d);
      option.results[0] = ShardingAttr::getSplit(ctx, d);
      options.push_back(std::move(option));
    }
  }

  FailureOr<SmallVector<Value>>
  partition(Operation *op, OpBuilder &builder, const ShardingOption &option,
            ValueRange localOperands, PartitionContext &context) const {
    return cloneWithLocalTypes(op, builder, option, localOperands, context);
  }
};

} // namespace

void mlir::tp::registerTensorShardingModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, tensor::TensorDialect *) {
    tensor::EmptyOp::attachInterface<EmptyShardingModel>(*ctx);
    tensor::ExpandShapeOp::attachInterface<ExpandShapeShardingModel>(*ctx);
    tensor::CollapseShapeOp::attachInterface<CollapseShapeShardingModel>(*ctx);
    tensor::ExtractSliceOp::attachInterface<ExtractSliceShardingModel>(*ctx);
    tensor::InsertSliceOp::attachInterface<InsertSliceShardingModel>(*ctx);
    tensor::ConcatOp::attachInterface<ConcatShardingModel>(*ctx);
    tensor::PadOp::attachInterface<PadShardingModel>(*ctx);
  });
}

void mlir::tp::registerShardingModels(DialectRegistry &registry) {
  registerLinalgShardingModels(registry);
  registerTensorShardingModels(registry);
  registerElementwiseShardingModels(registry);
}
