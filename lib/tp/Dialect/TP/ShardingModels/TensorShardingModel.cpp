//===- TensorShardingModel.cpp - sharding rules for tensor ops ------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/ShardingModels/ShardingModels.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"

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

} // namespace

void mlir::tp::registerTensorShardingModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, tensor::TensorDialect *) {
    tensor::EmptyOp::attachInterface<EmptyShardingModel>(*ctx);
  });
}

void mlir::tp::registerShardingModels(DialectRegistry &registry) {
  registerLinalgShardingModels(registry);
  registerTensorShardingModels(registry);
  registerElementwiseShardingModels(registry);
}
