//===- PatternPass.h - a pass that applies one pattern set ------*- C++ -*-===//
//
// Part of tp-mlir.
//
// The form of a pass whose work is one set of rewrite patterns: the set is
// built and frozen once, in initialize(), and applied greedily in every
// runOnOperation() (STYLE.md: "Build conversion targets and frozen pattern
// sets in initialize(), apply in runOnOperation()").
//
//===----------------------------------------------------------------------===//

#ifndef TP_TRANSFORMS_PATTERNPASS_H
#define TP_TRANSFORMS_PATTERNPASS_H

#include "mlir/IR/PatternMatch.h"
#include "mlir/Rewrite/FrozenRewritePatternSet.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace tp {

/// Sits between a pass and its TableGen base `PassBase`
/// (`impl::...Base<ThePass>`):
///
///   struct TPLowerSlicesPass
///       : public PatternPass<impl::TPLowerSlicesBase<TPLowerSlicesPass>,
///                            LowerAllSlice> {
///     using PatternPass::PatternPass;
///   };
///
/// The set holds `Patterns`, each built from the context; a pass whose
/// patterns come from populate functions overrides populatePatterns()
/// instead. A pass that checks the IR before or after the rewrite overrides
/// runOnOperation() and calls applyPatterns() in it.
template <typename PassBase, typename... Patterns>
class PatternPass : public PassBase {
public:
  using PassBase::PassBase;

  LogicalResult initialize(MLIRContext *ctx) override {
    RewritePatternSet set(ctx);
    populatePatterns(set);
    patterns = FrozenRewritePatternSet(std::move(set));
    return success();
  }

  void runOnOperation() override {
    if (failed(applyPatterns()))
      this->signalPassFailure();
  }

protected:
  /// Adds the pass's patterns to `set`.
  virtual void populatePatterns(RewritePatternSet &set) {
    if constexpr (sizeof...(Patterns) > 0)
      set.add<Patterns...>(set.getContext());
  }

  /// Applies the frozen set to the pass's operation.
  LogicalResult applyPatterns(GreedyRewriteConfig config = {}) {
    return applyPatternsGreedily(this->getOperation(), patterns, config);
  }

private:
  FrozenRewritePatternSet patterns;
};

} // namespace tp
} // namespace mlir

#endif // TP_TRANSFORMS_PATTERNPASS_H
