//===- EmitManifest.cpp - the tp-emit-manifest pass -----------------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Conversion/EntryPoint/Manifest.h"
#include "tp/Conversion/Passes.h"
#include "tp/Dialect/TP/IR/TPDialect.h"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPEMITMANIFEST
#include "tp/Conversion/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

struct TPEmitManifestPass
    : public tp::impl::TPEmitManifestBase<TPEmitManifestPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (target != "cpu" && target != "gpu") {
      module.emitError("unknown target '") << target << "'; expected cpu or gpu";
      return signalPassFailure();
    }
    func::FuncOp func = findEntryFunction(module, entry);
    if (!func)
      return signalPassFailure();
    int64_t tpSize = 1;
    if (auto size = module->getAttrOfType<IntegerAttr>(
            TPDialect::getSizeAttrName()))
      tpSize = size.getInt();
    FailureOr<std::string> manifest = buildManifest(func, tpSize, target);
    if (failed(manifest))
      return signalPassFailure();

    func->setAttr("llvm.emit_c_interface", UnitAttr::get(&getContext()));
    module->setAttr("tp.entry", StringAttr::get(&getContext(), func.getName()));

    OpBuilder builder(module.getBodyRegion());
    builder.setInsertionPointToStart(module.getBody());
    if (auto old = module.lookupSymbol("tp_manifest"))
      old->erase();
    std::string text = *manifest;
    text.push_back('\0');
    auto type = LLVM::LLVMArrayType::get(builder.getI8Type(), text.size());
    LLVM::GlobalOp::create(builder, module.getLoc(), type, /*isConstant=*/true,
                           LLVM::Linkage::External, "tp_manifest",
                           builder.getStringAttr(text));
  }
};

} // namespace
