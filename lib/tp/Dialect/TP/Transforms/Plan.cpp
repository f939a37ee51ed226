//===- Plan.cpp - the tp-plan pass ----------------------------------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Transforms/Partitioner.h"
#include "tp/Dialect/TP/Transforms/Passes.h"
#include "tp/Transforms/Passes.h"
#include "tp/Dialect/TP/Analysis/Planner.h"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPPLAN
#include "tp/Dialect/TP/Transforms/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

struct TPPlanPass : public tp::impl::TPPlanBase<TPPlanPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(TPDialect::checkTPSize(tpSize, "tp-size",
                                      [&] { return module.emitError(); })))
      return signalPassFailure();
    FailureOr<bool> partitioned =
        checkAlreadyPartitioned(module, tpSize, "tp-plan");
    if (failed(partitioned))
      return signalPassFailure();
    if (*partitioned) {
      markAllAnalysesPreserved();
      return;
    }
    // tp-plan works on linalg: TOSA input needs converting first.
    module.walk([&](Operation *op) {
      if (!op->getDialect() || op->getDialect()->getNamespace() != "tosa")
        return WalkResult::advance();
      op->emitWarning("tp-plan works on linalg, and TOSA ops run replicated: "
                      "convert first with --tosa-to-linalg-pipeline "
                      "--tosa-to-tensor --tosa-to-arith --canonicalize "
                      "(tp-run converts TOSA input itself)");
      return WalkResult::interrupt();
    });
    if (propagateReshapes && failed(tp::propagateReshapes(module)))
      return signalPassFailure();
    PlannerOptions options;
    options.tpSize = tpSize;
    options.uneven = uneven;
    options.minWeightFraction = minWeightFraction;
    options.minSavingsRatio = minSavingsRatio;
    options.flopsPerByte = flopsPerByte;
    // Each function's sharding problem stays with the pass manager for a
    // tp-partition that follows (planning only adds attributes). Built
    // fresh here: a problem kept by an earlier tp-plan may predate the
    // reshapes propagated above.
    getAnalysisManager().invalidate({});
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      const ShardingProblem &problem =
          getChildAnalysis<ShardingProblemAnalysis>(func).get(
              tpSize, uneven, getPlannerCostModel(options));
      if (failed(planFunction(func, options, problem)))
        return signalPassFailure();
    }
    markAnalysesPreserved<ShardingProblemAnalysis>();
  }
};

} // namespace
