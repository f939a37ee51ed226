//===- Partition.cpp - the tp-partition pass ------------------------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Transforms/Partitioner.h"
#include "tp/Dialect/TP/Transforms/Passes.h"

#include "mlir/IR/SymbolTable.h"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPPARTITION
#include "tp/Dialect/TP/Transforms/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

struct TPPartitionPass : public tp::impl::TPPartitionBase<TPPartitionPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (tpSize < 1) {
      module.emitError("tp-size must be at least 1, got ")
          << static_cast<int64_t>(tpSize);
      return signalPassFailure();
    }
    bool ok = true;
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      if (failed(checkPartitionable(func)) ||
          failed(partitionOne(module, func)))
        ok = false;
    }
    if (!ok)
      return signalPassFailure();
    module->setAttr(TPDialect::getSizeAttrName(),
                    IntegerAttr::get(IntegerType::get(&getContext(), 64),
                                     tpSize));
  }

  LogicalResult partitionOne(ModuleOp module, func::FuncOp func) {
    ShardingSolver solver(func, tpSize);
    if (failed(solver.initialize()))
      return failure();
    if (tpSize == 1) {
      markReplicated(func);
      return success();
    }
    solver.solve();
    // A function whose signature changes cannot keep its callers.
    bool changesSignature = llvm::any_of(
        func.getArguments(),
        [&](BlockArgument arg) { return !solver.getSharding(arg).isReplicated(); });
    if (changesSignature && !SymbolTable::symbolKnownUseEmpty(func, module))
      return func.emitOpError(
          "is called from elsewhere in the module; tp-partition would change "
          "its signature (inline it first, e.g. with --inline)");
    return partitionFunction(func, solver);
  }
};

} // namespace
