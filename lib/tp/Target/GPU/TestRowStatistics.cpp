//===- TestRowStatistics.cpp - the tp-gpu-test-row-statistics pass --------===//
//
// Part of tp-mlir.
//
// Test only: the formulas tp-gpu-map-row-groups emits into its kernels
// (RowStatistics.h), as bodies of host functions, so that a test runs them
// on the CPU against known answers. A GPU kernel cannot run here; the
// formulas can.
//
//===----------------------------------------------------------------------===//

#include "tp/Target/GPU/Passes.h"

#include "RowStatistics.h"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPGPUTESTROWSTATISTICS
#include "tp/Target/GPU/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

constexpr StringLiteral kAttr = "tp.test_row_statistic";

/// The results of `formula` on `args`, or failure with a diagnostic when the
/// argument count does not fit.
FailureOr<SmallVector<Value>> build(OpBuilder &b, Location loc,
                                    func::FuncOp func, StringRef formula,
                                    ArrayRef<Value> args) {
  auto arity = [&](size_t n, bool atLeast = false) -> LogicalResult {
    if (atLeast ? args.size() >= n : args.size() == n)
      return success();
    return func.emitError("'")
           << formula << "' takes " << (atLeast ? "at least " : "") << n
           << " arguments, got " << args.size();
  };
  if (formula == "add-chunk-to-moments") {
    if (failed(arity(4, /*atLeast=*/true)))
      return failure();
    Moments m = addChunkToMoments(b, loc, {args[0], args[1], args[2]},
                                  args.drop_front(3));
    return SmallVector<Value>{m.count, m.mean, m.m2};
  }
  if (formula == "merge-moments") {
    if (failed(arity(6)))
      return failure();
    Moments m = mergeMoments(b, loc, {args[0], args[1], args[2]},
                             {args[3], args[4], args[5]});
    return SmallVector<Value>{m.count, m.mean, m.m2};
  }
  if (formula == "sum-of-squared-deviations") {
    if (failed(arity(4)))
      return failure();
    return SmallVector<Value>{
        sumOfSquaredDeviations(b, loc, {args[0], args[1], args[2]}, args[3])};
  }
  if (formula == "add-chunk-to-exp-sum") {
    if (failed(arity(3, /*atLeast=*/true)))
      return failure();
    ExpSum e = addChunkToExpSum(b, loc, {args[0], args[1]}, args.drop_front(2));
    return SmallVector<Value>{e.reference, e.sum};
  }
  if (formula == "merge-exp-sums") {
    if (failed(arity(4)))
      return failure();
    ExpSum e = mergeExpSums(b, loc, {args[0], args[1]}, {args[2], args[3]});
    return SmallVector<Value>{e.reference, e.sum};
  }
  if (formula == "finish-exp-sum") {
    if (failed(arity(3)))
      return failure();
    return SmallVector<Value>{
        finishExpSum(b, loc, {args[0], args[1]}, args[2])};
  }
  return func.emitError("unknown row statistic '") << formula << "'";
}

struct TPGPUTestRowStatisticsPass
    : public tp::impl::TPGPUTestRowStatisticsBase<TPGPUTestRowStatisticsPass> {
  void runOnOperation() override {
    bool failedAny = false;
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      auto formula = func->getAttrOfType<StringAttr>(kAttr);
      if (!formula)
        continue;
      FunctionType type = func.getFunctionType();
      if (!func.isExternal()) {
        func.emitError("a function with ") << kAttr << " must be a declaration";
        failedAny = true;
        continue;
      }
      Type element = type.getNumInputs() ? type.getInput(0) : Type();
      if (!isa_and_nonnull<FloatType>(element) ||
          llvm::any_of(type.getInputs(),
                       [&](Type t) { return t != element; }) ||
          llvm::any_of(type.getResults(),
                       [&](Type t) { return t != element; })) {
        func.emitError("arguments and results must be of one float type");
        failedAny = true;
        continue;
      }
      Block *entry = func.addEntryBlock();
      OpBuilder b = OpBuilder::atBlockBegin(entry);
      SmallVector<Value> args(entry->getArguments());
      FailureOr<SmallVector<Value>> results =
          build(b, func.getLoc(), func, formula.getValue(), args);
      if (succeeded(results) && results->size() != type.getNumResults()) {
        func.emitError("'")
            << formula.getValue() << "' gives " << results->size()
            << " results, the function has " << type.getNumResults();
        results = failure();
      }
      if (failed(results)) {
        failedAny = true;
        continue;
      }
      func::ReturnOp::create(b, func.getLoc(), *results);
      func.setPrivate();
      func->removeAttr(kAttr);
    }
    if (failedAny)
      signalPassFailure();
  }
};

} // namespace
