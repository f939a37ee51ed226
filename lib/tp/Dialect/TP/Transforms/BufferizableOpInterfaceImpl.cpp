//===- BufferizableOpInterfaceImpl.cpp - bufferizing tp ops ---------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Transforms/BufferizableOpInterfaceImpl.h"
#include "tp/Dialect/TP/IR/TPOps.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::bufferization;
using namespace mlir::tp;

namespace {

/// Builds the tp.buffer.* op for a tensor collective.
Operation *createBufferOp(OpBuilder &b, Operation *op, Value src, Value dst) {
  Location loc = op->getLoc();
  if (auto ar = dyn_cast<AllReduceOp>(op))
    return BufferAllReduceOp::create(b, loc, src, dst, ar.getKind(),
                                     ar.getGroupSize());
  if (auto ag = dyn_cast<AllGatherOp>(op))
    return BufferAllGatherOp::create(b, loc, src, dst, ag.getDim(),
                                     ag.getGroupSize());
  auto rs = cast<ReduceScatterOp>(op);
  return BufferReduceScatterOp::create(b, loc, src, dst, rs.getKind(),
                                       rs.getDim(), rs.getGroupSize());
}

/// A collective reads its operand and writes a fresh buffer of the result's
/// shape (identity layout, so the runtime sees contiguous memory).
template <typename OpTy>
struct CollectiveBufferizationModel
    : public BufferizableOpInterface::ExternalModel<
          CollectiveBufferizationModel<OpTy>, OpTy> {
  bool bufferizesToAllocation(Operation *, Value) const { return true; }

  bool bufferizesToMemoryRead(Operation *, OpOperand &,
                              const AnalysisState &) const {
    return true;
  }

  bool bufferizesToMemoryWrite(Operation *, OpOperand &,
                               const AnalysisState &) const {
    return false;
  }

  AliasingValueList getAliasingValues(Operation *, OpOperand &,
                                      const AnalysisState &) const {
    return {};
  }

  FailureOr<BufferLikeType>
  getBufferType(Operation *op, Value value, const BufferizationOptions &,
                const BufferizationState &, SmallVector<Value> &) const {
    return cast<BufferLikeType>(getMemRefTypeWithStaticIdentityLayout(
        cast<TensorType>(value.getType())));
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    Location loc = op->getLoc();
    FailureOr<Value> src =
        getBuffer(rewriter, op->getOperand(0), options, state);
    if (failed(src))
      return failure();
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    auto memrefType =
        MemRefType::get(resultType.getShape(), resultType.getElementType());
    // Dynamic sizes are never the collective's dimension (the verifier
    // requires it static for a change of size), so they come from the source.
    SmallVector<Value> dynamicSizes;
    for (int64_t i = 0, e = resultType.getRank(); i < e; ++i)
      if (resultType.isDynamicDim(i))
        dynamicSizes.push_back(memref::DimOp::create(rewriter, loc, *src, i));
    FailureOr<Value> dst =
        options.createAlloc(rewriter, loc, memrefType, dynamicSizes);
    if (failed(dst))
      return failure();
    createBufferOp(rewriter, op, *src, *dst);
    replaceOpWithBufferizedValues(rewriter, op, *dst);
    return success();
  }
};

} // namespace

void mlir::tp::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, TPDialect *) {
    AllReduceOp::attachInterface<CollectiveBufferizationModel<AllReduceOp>>(
        *ctx);
    AllGatherOp::attachInterface<CollectiveBufferizationModel<AllGatherOp>>(
        *ctx);
    ReduceScatterOp::attachInterface<
        CollectiveBufferizationModel<ReduceScatterOp>>(*ctx);
  });
}
