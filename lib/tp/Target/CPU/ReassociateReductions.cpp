//===- ReassociateReductions.cpp - the tp-cpu-reassociate-reductions pass -===//
//
// Part of tp-mlir.
//
// A float sum over a loop is a chain of dependent adds unless the compiler may
// reassociate it; LLVM's loop vectorizer only vectorizes a float reduction
// whose operations carry the `reassoc` flag. Marking the combining op of each
// linalg reduction (the body op that folds the output's block argument) lets
// the softmax and norm sums run in vector lanes. Sums then round differently
// from the sequential order, as they already do between ranks.
//
//===----------------------------------------------------------------------===//

#include "tp/Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPCPUREASSOCIATEREDUCTIONS
#include "tp/Target/CPU/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;

namespace {

struct TPCPUReassociateReductionsPass
    : public tp::impl::TPCPUReassociateReductionsBase<
          TPCPUReassociateReductionsPass> {
  using Base::Base;

  void runOnOperation() override {
    getOperation().walk([](linalg::LinalgOp op) {
      if (op.getNumReductionLoops() == 0)
        return;
      Block *body = op.getBlock();
      for (OpOperand &init : op.getDpsInitsMutable()) {
        BlockArgument acc = op.getMatchingBlockArgument(&init);
        for (Operation *user : acc.getUsers()) {
          if (user->getBlock() != body ||
              !isa<arith::AddFOp, arith::MulFOp>(user))
            continue;
          auto fastMath = cast<arith::ArithFastMathInterface>(user);
          user->setAttr(fastMath.getFastMathAttrName(),
                        arith::FastMathFlagsAttr::get(
                            user->getContext(),
                            fastMath.getFastMathFlagsAttr().getValue() |
                                arith::FastMathFlags::reassoc));
        }
      }
    });
  }
};

} // namespace
