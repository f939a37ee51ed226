//===- PropagateReshapes.cpp - fold reshapes into contractions ------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPPROPAGATERESHAPES
#include "tp/Dialect/TP/Transforms/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

/// Generalizes a named structured op that touches a reshape, so that upstream
/// fusion by expansion can fold the reshape into it. Matmuls, fills and
/// transposes stay named (they are rarely what hides a head dimension).
struct GeneralizeNextToReshape
    : public OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (isa<linalg::GenericOp, linalg::MatmulOp, linalg::FillOp,
            linalg::TransposeOp>(op.getOperation()))
      return rewriter.notifyMatchFailure(op, "kept named");
    bool touches = llvm::any_of(op->getOperands(), [](Value v) {
      return v.getDefiningOp<tensor::CollapseShapeOp>() != nullptr;
    });
    for (Value r : op->getResults())
      touches |= llvm::any_of(r.getUsers(), [](Operation *u) {
        return isa<tensor::ExpandShapeOp>(u);
      });
    if (!touches)
      return rewriter.notifyMatchFailure(op, "no reshape next to it");
    return success(succeeded(linalg::generalizeNamedOp(rewriter, op)));
  }
};

} // namespace

LogicalResult mlir::tp::propagateReshapes(Operation *root) {
  MLIRContext *ctx = root->getContext();
  RewritePatternSet patterns(ctx);
  patterns.add<GeneralizeNextToReshape>(ctx);
  linalg::populateFoldReshapeOpsByExpansionPatterns(
      patterns, [](OpOperand *) { return true; });
  tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, ctx);
  tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, ctx);
  return applyPatternsGreedily(root, std::move(patterns));
}

namespace {
struct TPPropagateReshapesPass
    : public tp::impl::TPPropagateReshapesBase<TPPropagateReshapesPass> {
  using Base::Base;
  void runOnOperation() override {
    if (failed(propagateReshapes(getOperation())))
      signalPassFailure();
  }
};
} // namespace
