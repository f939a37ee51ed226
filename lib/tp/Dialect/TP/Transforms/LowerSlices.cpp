//===- LowerSlices.cpp - tp.all_slice to tensor.extract_slice -------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/IR/TPOps.h"
#include "tp/Dialect/TP/Transforms/Passes.h"
#include "tp/Transforms/PatternPass.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPLOWERSLICES
#include "tp/Dialect/TP/Transforms/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

struct LowerAllSlice : public OpRewritePattern<AllSliceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AllSliceOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = op.getType();
    int64_t dim = op.getDim();
    if (resultType.isDynamicDim(dim))
      return rewriter.notifyMatchFailure(op, "dynamic sliced dimension");
    // A tensor with no elements: nothing to slice, and extract_slice rejects
    // any static offset into a zero-sized dimension ("0 >= 0").
    if (llvm::is_contained(op.getInput().getType().getShape(), 0)) {
      SmallVector<Value> dynamicSizes;
      for (int64_t i = 0, e = resultType.getRank(); i < e; ++i)
        if (resultType.isDynamicDim(i))
          dynamicSizes.push_back(
              tensor::DimOp::create(rewriter, loc, op.getInput(), i));
      rewriter.replaceOpWithNewOp<tensor::EmptyOp>(op, resultType,
                                                   dynamicSizes);
      return success();
    }
    Value rank = RankOp::create(rewriter, loc, rewriter.getIndexType());
    Value size =
        arith::ConstantIndexOp::create(rewriter, loc, resultType.getDimSize(dim));
    Value offset = arith::MulIOp::create(rewriter, loc, rank, size);

    SmallVector<OpFoldResult> offsets(resultType.getRank(),
                                      rewriter.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, op.getInput());
    SmallVector<OpFoldResult> strides(resultType.getRank(),
                                      rewriter.getIndexAttr(1));
    offsets[dim] = offset;
    sizes[dim] = rewriter.getIndexAttr(resultType.getDimSize(dim));
    rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
        op, resultType, op.getInput(), offsets, sizes, strides);
    return success();
  }
};

struct TPLowerSlicesPass
    : public PatternPass<tp::impl::TPLowerSlicesBase<TPLowerSlicesPass>,
                         LowerAllSlice> {
  using PatternPass::PatternPass;

  void runOnOperation() override {
    if (failed(applyPatterns()))
      return signalPassFailure();
    WalkResult left = getOperation().walk([](AllSliceOp op) {
      op.emitOpError("could not be lowered: the sliced dimension is dynamic");
      return WalkResult::interrupt();
    });
    if (left.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
