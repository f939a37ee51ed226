//===- Plan.cpp - the tp-plan pass ----------------------------------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Transforms/Passes.h"
#include "tp/Transforms/Passes.h"
#include "tp/Dialect/TP/Analysis/Planner.h"

#include "PartitioningPass.h"

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
    FailureOr<bool> goesOn = startPartitioningPass(module, tpSize, "tp-plan");
    if (failed(goesOn))
      return signalPassFailure();
    if (!*goesOn) {
      markAllAnalysesPreserved();
      return;
    }
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
