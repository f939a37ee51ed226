//===- FuseElementwise.cpp - the tp-gpu-fuse-elementwise pass -------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Target/GPU/Passes.h"
#include "tp/Transforms/PatternPass.h"

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Linalg/Utils/Utils.h"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPGPUFUSEELEMENTWISE
#include "tp/Target/GPU/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

/// A contraction keeps its operands as they are: tp-form-gemms turns it into
/// a cuBLASLt call that reads them in place.
bool isContraction(Operation *op) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  return linalgOp && linalg::isaContractionOpInterface(linalgOp);
}

/// Named elementwise ops (linalg.add, linalg.exp, ...) become generics so
/// that the fusion patterns, which work on generics, see them. Fills,
/// transposes, broadcasts and contractions stay named: tp-form-gemms looks for
/// them by name.
struct GeneralizeElementwise
    : public OpInterfaceRewritePattern<linalg::LinalgOp> {
  using OpInterfaceRewritePattern::OpInterfaceRewritePattern;
  LogicalResult matchAndRewrite(linalg::LinalgOp op,
                                PatternRewriter &rewriter) const override {
    if (isa<linalg::GenericOp, linalg::FillOp, linalg::TransposeOp,
            linalg::BroadcastOp, linalg::CopyOp>(op.getOperation()) ||
        !op.hasPureTensorSemantics() || !linalg::isElementwise(op) ||
        isContraction(op))
      return rewriter.notifyMatchFailure(op, "not a named elementwise op");
    return linalg::generalizeNamedOp(rewriter, op);
  }
};

struct TPGPUFuseElementwisePass
    : public PatternPass<
          tp::impl::TPGPUFuseElementwiseBase<TPGPUFuseElementwisePass>> {
  using PatternPass::PatternPass;

  void populatePatterns(RewritePatternSet &set) override {
    set.add<GeneralizeElementwise>(set.getContext());
    linalg::ControlFusionFn control = [](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      if (!producer || isContraction(fused->getOwner()))
        return false;
      // Fuse only into the single user: no recomputation per consumer.
      return fused->get().hasOneUse();
    };
    linalg::populateElementwiseOpsFusionPatterns(set, control);
  }
};

} // namespace
