//===- ElementwiseShardingModel.cpp - arith/math ops on tensors -----------===//
//
// Part of tp-mlir.
//
// Elementwise ops on tensors (arith, math) can be split along any static
// dimension: every operand and result is cut the same way. Constants: a splat
// can be built directly at any local shape; other dense constants stay
// replicated (consumers that need a slice take it locally).
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Interfaces/ShardingModels.h"

#include "ShardingModelSupport.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::tp;

namespace {

/// Options shared by ops whose every tensor operand and result has the same
/// shape and is cut the same way.
void getSameShapeOptions(Operation *op, int64_t rank,
                         SmallVectorImpl<ShardingOption> &options) {
  MLIRContext *ctx = op->getContext();
  auto shardingFor = [&](Value v, ShardingAttr s) {
    return isa<RankedTensorType>(v.getType()) ? s
                                              : ShardingAttr::getReplicated(ctx);
  };
  for (int64_t dim = -1; dim < rank; ++dim) {
    ShardingAttr s = dim < 0 ? ShardingAttr::getReplicated(ctx)
                             : ShardingAttr::getSplit(ctx, dim);
    ShardingOption option;
    option.kind = dim < 0 ? ParallelKind::Replicated : ParallelKind::Other;
    option.segmentable = dim >= 0;
    for (Value v : op->getOperands())
      option.operands.push_back(shardingFor(v, s));
    for (Value v : op->getResults())
      option.results.push_back(shardingFor(v, s));
    options.push_back(std::move(option));
  }
}

int64_t tensorRank(Operation *op) {
  for (Type t : op->getResultTypes())
    if (auto type = dyn_cast<RankedTensorType>(t))
      return type.getRank();
  return -1;
}

/// Linear ops keep partial sums partial (reduced once, later): a sum or
/// difference of partial sums, a negation. (Not a product by a whole
/// tensor: see addPartialSumOptions in LinalgShardingModel.cpp.)
void addPartialSumOptions(Operation *op,
                          SmallVectorImpl<ShardingOption> &options) {
  MLIRContext *ctx = op->getContext();
  auto sum = ShardingAttr::getPartial(ctx, ReductionKind::sum);
  auto add = [&](ArrayRef<ShardingAttr> operands) {
    ShardingOption option;
    option.kind = ParallelKind::Other;
    option.paddable = false;
    option.operands.assign(operands.begin(), operands.end());
    option.results.assign(op->getNumResults(), sum);
    options.push_back(std::move(option));
  };
  if (isa<arith::AddFOp, arith::SubFOp>(op))
    add({sum, sum});
  else if (isa<arith::NegFOp, arith::ExtFOp>(op))
    add({sum});
}

/// The options of an elementwise op whose tensor operands and results have
/// one rank.
void getElementwiseShardingOptions(Operation *op,
                                   SmallVectorImpl<ShardingOption> &options) {
  int64_t rank = tensorRank(op);
  if (rank < 0)
    return; // Scalar form: nothing to distribute.
  for (Value v : op->getOperands())
    if (auto type = dyn_cast<RankedTensorType>(v.getType()))
      if (type.getRank() != rank)
        return;
  getSameShapeOptions(op, rank, options);
  addPartialSumOptions(op, options);
}

struct ConstantShardingModel
    : public ShardingOpInterface::ExternalModel<ConstantShardingModel,
                                                arith::ConstantOp> {
  void getShardingOptions(Operation *op, int64_t,
                          SmallVectorImpl<ShardingOption> &options) const {
    auto constant = cast<arith::ConstantOp>(op);
    auto type = dyn_cast<RankedTensorType>(constant.getType());
    if (!type)
      return;
    auto splat = dyn_cast<SplatElementsAttr>(constant.getValue());
    getSameShapeOptions(op, splat ? type.getRank() : 0, options);
  }

  FailureOr<SmallVector<Value>>
  partition(Operation *op, OpBuilder &builder, const ShardingOption &option,
            ValueRange, PartitionContext &context) const {
    auto constant = cast<arith::ConstantOp>(op);
    auto type = cast<RankedTensorType>(constant.getType());
    RankedTensorType localType =
        getLocalType(type, option.results[0], context.getTPSize());
    if (localType == type)
      return SmallVector<Value>{builder.clone(*op)->getResult(0)};
    auto splat = cast<SplatElementsAttr>(constant.getValue());
    auto value = SplatElementsAttr::get(localType,
                                        splat.getSplatValue<Attribute>());
    return SmallVector<Value>{
        arith::ConstantOp::create(builder, op->getLoc(), localType, value)};
  }
};

template <typename... OpTys> void attachElementwise(MLIRContext *ctx) {
  attachFamilyModels<getElementwiseShardingOptions, cloneWithLocalTypes,
                     OpTys...>(ctx);
}

} // namespace

FailureOr<SmallVector<Value>> mlir::tp::cloneWithLocalTypes(
    Operation *op, OpBuilder &builder, const ShardingOption &option,
    ValueRange localOperands, PartitionContext &context) {
  IRMapping mapping;
  mapping.map(op->getOperands(), localOperands);
  Operation *local = builder.clone(*op, mapping);
  for (auto [result, sharding] : llvm::zip(local->getResults(), option.results))
    if (auto type = dyn_cast<RankedTensorType>(result.getType()))
      result.setType(getLocalType(type, sharding, context.getTPSize()));
  return SmallVector<Value>(local->getResults());
}

void mlir::tp::registerElementwiseShardingModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, arith::ArithDialect *) {
    arith::ConstantOp::attachInterface<ConstantShardingModel>(*ctx);
    attachElementwise<
        arith::AddFOp, arith::AddIOp, arith::SubFOp, arith::SubIOp,
        arith::MulFOp, arith::MulIOp, arith::DivFOp, arith::DivSIOp,
        arith::DivUIOp, arith::RemFOp, arith::RemSIOp, arith::RemUIOp,
        arith::NegFOp, arith::MaximumFOp, arith::MinimumFOp, arith::MaxNumFOp,
        arith::MinNumFOp, arith::MaxSIOp, arith::MinSIOp, arith::MaxUIOp,
        arith::MinUIOp, arith::AndIOp, arith::OrIOp, arith::XOrIOp,
        arith::CmpFOp, arith::CmpIOp, arith::SelectOp, arith::ExtFOp,
        arith::TruncFOp, arith::ExtSIOp, arith::ExtUIOp, arith::TruncIOp,
        arith::SIToFPOp, arith::UIToFPOp, arith::FPToSIOp, arith::FPToUIOp,
        arith::BitcastOp>(ctx);
  });
  registry.addExtension(+[](MLIRContext *ctx, math::MathDialect *) {
    attachElementwise<math::AbsFOp, math::CeilOp, math::CosOp, math::ErfOp,
                      math::ExpOp, math::Exp2Op, math::FloorOp, math::LogOp,
                      math::Log2Op, math::PowFOp, math::RsqrtOp, math::SinOp,
                      math::SqrtOp, math::TanhOp, math::FmaOp>(ctx);
  });
}
