//===- MergeKernelModules.cpp - the tp-gpu-merge-kernel-modules pass ------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Target/GPU/Passes.h"

#include "mlir/IR/SymbolTable.h"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPGPUMERGEKERNELMODULES
#include "tp/Target/GPU/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

struct TPGPUMergeKernelModulesPass
    : public tp::impl::TPGPUMergeKernelModulesBase<
          TPGPUMergeKernelModulesPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUModuleOp> kernelModules(
        module.getOps<gpu::GPUModuleOp>());
    if (kernelModules.size() < 2)
      return;
    gpu::GPUModuleOp target = kernelModules.front();
    for (gpu::GPUModuleOp other : kernelModules)
      if (other.getTargetsAttr() || other.getOffloadingHandlerAttr()) {
        other.emitOpError("already has targets or an offloading handler; "
                          "tp-gpu-merge-kernel-modules runs before "
                          "nvvm-attach-target");
        return signalPassFailure();
      }

    SymbolTable targetSymbols(target);
    MLIRContext *ctx = &getContext();
    // Old (module, symbol) -> new symbol in `target`.
    DenseMap<std::pair<StringAttr, StringAttr>, StringAttr> renamed;
    for (gpu::GPUModuleOp other : llvm::drop_begin(kernelModules)) {
      for (Operation &op :
           llvm::make_early_inc_range(other.getBody()->getOperations())) {
        auto symbol = dyn_cast<SymbolOpInterface>(op);
        if (!symbol)
          continue;
        StringAttr oldName = symbol.getNameAttr();
        op.remove();
        // insert() renames on a clash and returns the name used.
        renamed[{other.getNameAttr(), oldName}] = targetSymbols.insert(&op);
      }
      other.erase();
    }
    module.walk([&](gpu::LaunchFuncOp launch) {
      SymbolRefAttr kernel = launch.getKernel();
      auto it = renamed.find(
          {kernel.getRootReference(), kernel.getLeafReference()});
      if (it == renamed.end())
        return;
      launch.setKernelAttr(SymbolRefAttr::get(
          target.getNameAttr(), {FlatSymbolRefAttr::get(ctx, it->second)}));
    });
  }
};

} // namespace
