//===- Partition.cpp - the tp-partition pass ------------------------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Transforms/Partitioner.h"
#include "tp/Dialect/TP/Transforms/Passes.h"
#include "tp/Dialect/TP/Analysis/Report.h"

#include "PartitioningPass.h"
#include "tp/Utils/SymbolReferences.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/ToolOutputFile.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseSet.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPPARTITION
#include "tp/Dialect/TP/Transforms/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

/// True if any op of `func` carries a tp.parallel annotation (written by
/// hand or by tp-plan).
bool hasAnnotations(func::FuncOp func) {
  return func
      .walk([](Operation *op) {
        return op->hasAttr(TPDialect::getParallelAttrName())
                   ? WalkResult::interrupt()
                   : WalkResult::advance();
      })
      .wasInterrupted();
}

struct TPPartitionPass : public tp::impl::TPPartitionBase<TPPartitionPass> {
  using Base::Base;
  TPPartitionPass(const TPPartitionOptions &options,
                  std::shared_ptr<PartitionReport> sink)
      : Base(options), sink(std::move(sink)) {}

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // A tp-plan just before checked every body (no tp ops; a warning on
    // TOSA) and kept each function's problem: a function whose problem is
    // still kept has not changed since, and is not walked again.
    bool plannedJustBefore = false;
    for (func::FuncOp func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      plannedJustBefore =
          getCachedChildAnalysis<ShardingProblemAnalysis>(func).has_value();
      if (!plannedJustBefore)
        break;
    }
    FailureOr<bool> goesOn = startPartitioningPass(
        module, tpSize, "tp-partition", /*scanBodies=*/!plannedJustBefore);
    if (failed(goesOn))
      return signalPassFailure();
    if (!*goesOn) {
      // Partitioned for this tp size already: nothing to do (a report
      // would be empty).
      markAllAnalysesPreserved();
      return;
    }
    bool annotated =
        llvm::any_of(module.getOps<func::FuncOp>(),
                     [](func::FuncOp f) { return hasAnnotations(f); });
    bool ok = true;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      if (failed(checkPartitionable(func)) ||
          failed(partitionOne(module, func))) {
        ok = false;
        continue;
      }
      // Not an error (replicating is a valid program), but rarely meant.
      if (tpSize > 1 && !annotated)
        func.emitRemark("nothing is annotated or planned: every op runs "
                        "replicated; run --tp-plan first (or annotate "
                        "tp.parallel)");
    }
    if (!ok)
      return signalPassFailure();
    if (failed(writeReport(module)))
      return signalPassFailure();
    module->setAttr(TPDialect::getSizeAttrName(),
                    IntegerAttr::get(IntegerType::get(&getContext(), 64),
                                     tpSize));
  }

  LogicalResult partitionOne(ModuleOp module, func::FuncOp func) {
    // The problem tp-plan solved, if it ran just before (same tp size and
    // policy; the solver's costs are the default model's).
    const ShardingProblem &problem =
        getChildAnalysis<ShardingProblemAnalysis>(func).get(tpSize, uneven,
                                                            CostModel());
    SolverOptions solverOptions;
    solverOptions.sequenceParallel = sequenceParallel;
    solverOptions.shardedResults = shardedResults;
    ShardingSolver solver(problem, solverOptions);
    if (failed(solver.initialize()))
      return failure();
    solver.solve();
    collected.recordPlan(func, solver);
    if (!dot.empty())
      collected.recordDot(func, solver);
    if (tpSize == 1) {
      markReplicated(func);
      collected.recordPartitioned(func);
      return success();
    }
    // A function whose signature changes cannot keep its callers.
    bool changesSignature = llvm::any_of(
        func.getArguments(),
        [&](BlockArgument arg) { return !solver.getSharding(arg).isReplicated(); });
    if (changesSignature && isReferenced(func, module))
      return func.emitOpError(
          "is called from elsewhere in the module; tp-partition would change "
          "its signature (inline it first, e.g. with --inline)");
    if (failed(partitionFunction(func, solver, shardedResults)))
      return failure();
    collected.recordPartitioned(func);
    return success();
  }

  LogicalResult writeReport(ModuleOp module) {
    if (sink)
      *sink = collected;
    if (!dot.empty()) {
      std::string error;
      auto file = openOutputFile(dot, &error);
      if (!file)
        return module.emitError("cannot write the dataflow graph: ") << error;
      file->os() << collected.dot;
      if (failed(keepOutput(module, *file, "the dataflow graph", dot)))
        return failure();
    }
    if (report.empty())
      return success();
    if (report == "-") {
      collected.printTable(llvm::outs());
      return success();
    }
    std::string error;
    auto file = openOutputFile(report, &error);
    if (!file)
      return module.emitError("cannot write the partition report: ") << error;
    if (StringRef(report).ends_with(".json"))
      file->os() << llvm::formatv("{0:2}", collected.toJSON()) << "\n";
    else
      collected.printTable(file->os());
    return keepOutput(module, *file, "the partition report", report);
  }

  /// Flushes `file` and keeps it; a failed write (a full disk) is a
  /// diagnostic, not LLVM's "IO failure" abort when the stream closes.
  static LogicalResult keepOutput(ModuleOp module, llvm::ToolOutputFile &file,
                                  StringRef what, StringRef path) {
    file.os().flush();
    if (std::error_code ec = file.os().error()) {
      file.os().clear_error();
      return module.emitError("cannot write ")
             << what << " to '" << path << "': " << ec.message();
    }
    file.keep();
    return success();
  }

  /// True unless nothing in the module refers to `func` (a call, or any
  /// other symbol reference rooted at its name). The module is scanned once,
  /// for the first function that asks, not once per function: with F
  /// functions that was F walks of the module.
  bool isReferenced(func::FuncOp func, ModuleOp module) {
    if (!referencedScanned) {
      referencedScanned = true;
      referenced = collectReferencedSymbols(module);
    }
    return !referenced || referenced->contains(func.getSymNameAttr());
  }

  PartitionReport collected;
  std::shared_ptr<PartitionReport> sink;
  bool referencedScanned = false;
  std::optional<llvm::DenseSet<StringAttr>> referenced;
};

} // namespace

std::unique_ptr<Pass>
mlir::tp::createTPPartitionWithReport(const TPPartitionOptions &options,
                                      std::shared_ptr<PartitionReport> report) {
  return std::make_unique<TPPartitionPass>(options, std::move(report));
}
