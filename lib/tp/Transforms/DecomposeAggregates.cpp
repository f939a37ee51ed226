//===- DecomposeAggregates.cpp - linalg.softmax & co. into generics -------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPDECOMPOSEAGGREGATES
#include "tp/Transforms/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;

namespace {

struct TPDecomposeAggregatesPass
    : public tp::impl::TPDecomposeAggregatesBase<TPDecomposeAggregatesPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::AggregatedOpInterface> ops;
    getOperation().walk(
        [&](linalg::AggregatedOpInterface op) { ops.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (linalg::AggregatedOpInterface op : ops) {
      rewriter.setInsertionPoint(op);
      FailureOr<SmallVector<Value>> values = op.decomposeOperation(rewriter);
      if (failed(values)) {
        op->emitError("cannot decompose this op into linalg.generic ops, "
                      "which code generation needs");
        return signalPassFailure();
      }
      rewriter.replaceOp(op, *values);
    }
  }
};

} // namespace
