//===- PropagateReshapes.cpp - fold reshapes into contractions ------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Transforms/Passes.h"
#include "tp/Utils/StructuredOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPPROPAGATERESHAPES
#include "tp/Transforms/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

/// A contraction with batch dimensions (attention's scores and context): the
/// only ops whose reshapes are folded. Folding more (projections, the repeat of
/// KV heads) would re-express other dimensions in reshaped loop spaces.
bool isBatchedContraction(Operation *op) {
  auto linalgOp = dyn_cast_or_null<linalg::LinalgOp>(op);
  if (!linalgOp)
    return false;
  FailureOr<linalg::ContractionDimensions> dims =
      inferReducingContraction(linalgOp);
  return succeeded(dims) && !dims->batch.empty();
}

/// True for reshapes that only merge (or split) the leading dimensions, as
/// frontends do to flatten [B, H] into one batch for batch_matmul. Others (the
/// repeat of KV heads, [G, rep] -> H) are left alone: folding them would
/// re-express heads as (g, r) loops.
bool mergesOnlyLeadingDims(Operation *reshape) {
  SmallVector<ReassociationIndices> groups;
  if (auto c = dyn_cast_or_null<tensor::CollapseShapeOp>(reshape))
    groups = c.getReassociationIndices();
  else if (auto e = dyn_cast_or_null<tensor::ExpandShapeOp>(reshape))
    groups = e.getReassociationIndices();
  else
    return false;
  for (auto [i, group] : llvm::enumerate(groups))
    if (group.size() > 1 && i != 0)
      return false;
  return true;
}

/// Generalizes a named batched contraction that touches a reshape, so that
/// upstream fusion by expansion can fold the reshape into it.
struct GeneralizeNextToReshape
    : public OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;

  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (isa<linalg::GenericOp>(op.getOperation()) ||
        !isBatchedContraction(op))
      return rewriter.notifyMatchFailure(op, "not a named batched contraction");
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
      patterns, [](OpOperand *fused) {
        // A reshape feeding a linalg op, or a linalg op feeding a reshape.
        Operation *owner = fused->getOwner();
        Operation *reshape = owner;
        Operation *linalgOp = fused->get().getDefiningOp();
        if (!isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(owner)) {
          reshape = fused->get().getDefiningOp();
          linalgOp = owner;
        }
        return isBatchedContraction(linalgOp) &&
               mergesOnlyLeadingDims(reshape);
      });
  // Reshaped fills and empties become fills and empties of the new shape, so
  // that accumulators of the folded contractions are created split.
  linalg::FillOp::getCanonicalizationPatterns(patterns, ctx);
  tensor::EmptyOp::getCanonicalizationPatterns(patterns, ctx);
  tensor::populateFoldTensorEmptyPatterns(patterns);
  // No reshape canonicalizations: composing collapse(collapse) would merge the
  // repeat of KV heads ([G, rep] -> H) into the batch collapse ([B, H] -> B*H)
  // and re-express heads as (g, r) loops. Folds (expand of collapse) still run.
  // Only the batched contractions and what touches them can change: seed the
  // rewrite with those instead of walking every op of a large model.
  SmallVector<Operation *> seeds;
  root->walk([&](Operation *op) {
    if (!isBatchedContraction(op))
      return;
    seeds.push_back(op);
    for (Value operand : op->getOperands())
      if (Operation *def = operand.getDefiningOp())
        seeds.push_back(def);
    for (Operation *user : op->getUsers())
      seeds.push_back(user);
  });
  if (seeds.empty())
    return success();
  GreedyRewriteConfig config;
  config.setStrictness(GreedyRewriteStrictness::AnyOp);
  return applyOpPatternsGreedily(seeds, std::move(patterns), config);
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
