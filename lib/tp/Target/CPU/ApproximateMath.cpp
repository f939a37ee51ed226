//===- ApproximateMath.cpp - the tp-cpu-approximate-math pass -------------===//
//
// Part of tp-mlir.
//
// math.tanh / exp / log / erf ... on f32 lowered by convert-math-to-llvm and
// math-to-libm are calls into libm, one element at a time, which stops LLVM's
// loop vectorizer at every GELU, softmax and SiLU loop. Upstream's polynomial
// approximations (the same ones the MLIR CPU runners use, a few ulp) are
// plain arith ops that vectorize.
//
//===----------------------------------------------------------------------===//

#include "tp/Target/CPU/Passes.h"
#include "tp/Transforms/PatternPass.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPCPUAPPROXIMATEMATH
#include "tp/Target/CPU/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;

namespace {

struct TPCPUApproximateMathPass
    : public tp::PatternPass<
          tp::impl::TPCPUApproximateMathBase<TPCPUApproximateMathPass>> {
  using PatternPass::PatternPass;

  void populatePatterns(RewritePatternSet &set) override {
    // The predicate sees operation names ("math.tanh").
    populateMathPolynomialApproximationPatterns(set, [](StringRef name) {
      return name.consume_front("math.") &&
             llvm::is_contained(
                 {"tanh", "exp", "expm1", "log", "log1p", "log2", "erf"},
                 name);
    });
  }
};

} // namespace
