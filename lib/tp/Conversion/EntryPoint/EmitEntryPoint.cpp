//===- EmitEntryPoint.cpp - the tp-emit-entry-point pass ------------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Conversion/Passes.h"

#include "mlir/Interfaces/FunctionInterfaces.h"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPEMITENTRYPOINT
#include "tp/Conversion/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

struct TPEmitEntryPointPass
    : public tp::impl::TPEmitEntryPointBase<TPEmitEntryPointPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto entryName = module->getAttrOfType<StringAttr>("tp.entry");
    if (!entryName) {
      module.emitError("no 'tp.entry' module attribute; run tp-emit-manifest "
                       "before lowering");
      return signalPassFailure();
    }
    std::string wrapperName = ("_mlir_ciface_" + entryName.getValue()).str();
    auto wrapper = module.lookupSymbol<LLVM::LLVMFuncOp>(wrapperName);
    if (!wrapper) {
      module.emitError("no @") << wrapperName
                               << "; lower the entry function with "
                                  "llvm.emit_c_interface first";
      return signalPassFailure();
    }
    LLVM::LLVMFunctionType wrapperType = wrapper.getFunctionType();
    auto ptrType = LLVM::LLVMPointerType::get(&getContext());
    for (Type t : wrapperType.getParams())
      if (t != ptrType) {
        wrapper.emitOpError("takes a non-pointer parameter ")
            << t << "; entry functions take and return tensors only";
        return signalPassFailure();
      }
    if (!isa<LLVM::LLVMVoidType>(wrapperType.getReturnType())) {
      wrapper.emitOpError("returns a value directly; expected results "
                          "through a pointer");
      return signalPassFailure();
    }

    // The C interface wrapper takes the result pointer first unless the
    // function returns nothing.
    auto funcType = module.lookupSymbol<LLVM::LLVMFuncOp>(entryName.getValue())
                        .getFunctionType();
    bool hasResults = !isa<LLVM::LLVMVoidType>(funcType.getReturnType());

    OpBuilder builder(module.getBodyRegion());
    builder.setInsertionPointToEnd(module.getBody());
    Location loc = module.getLoc();
    if (auto old = module.lookupSymbol("tp_entry"))
      old->erase();
    auto entry = LLVM::LLVMFuncOp::create(
        builder, loc, "tp_entry",
        LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(&getContext()),
                                    {ptrType}));
    Block *body = entry.addEntryBlock(builder);
    builder.setInsertionPointToStart(body);
    Value argv = body->getArgument(0);
    SmallVector<Value> operands;
    unsigned first = hasResults ? 0 : 1;
    for (unsigned i = 0, e = wrapperType.getNumParams(); i < e; ++i) {
      Value slot = LLVM::GEPOp::create(
          builder, loc, ptrType, ptrType, argv,
          ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(first + i)});
      operands.push_back(LLVM::LoadOp::create(builder, loc, ptrType, slot));
    }
    LLVM::CallOp::create(builder, loc, wrapper, operands);
    LLVM::ReturnOp::create(builder, loc, ValueRange{});
    stripTPAttributes(module);
  }

  /// The manifest now carries everything the runner needs; the tp
  /// attributes would only stand in the way of translation to LLVM IR.
  static void stripTPAttributes(ModuleOp module) {
    auto strip = [](Operation *op) {
      SmallVector<StringAttr> names;
      for (NamedAttribute attr : op->getDiscardableAttrs())
        if (attr.getName().getValue().starts_with("tp."))
          names.push_back(attr.getName());
      for (StringAttr name : names)
        op->removeDiscardableAttr(name);
    };
    strip(module);
    module.walk([&](LLVM::LLVMFuncOp func) {
      strip(func);
      auto iface = cast<FunctionOpInterface>(func.getOperation());
      auto tpNames = [](DictionaryAttr dict) {
        SmallVector<StringAttr> names;
        if (dict)
          for (NamedAttribute attr : dict)
            if (attr.getName().getValue().starts_with("tp."))
              names.push_back(attr.getName());
        return names;
      };
      for (unsigned i = 0, e = iface.getNumArguments(); i < e; ++i)
        for (StringAttr name : tpNames(iface.getArgAttrDict(i)))
          iface.removeArgAttr(i, name);
      for (unsigned i = 0, e = iface.getNumResults(); i < e; ++i)
        for (StringAttr name : tpNames(iface.getResultAttrDict(i)))
          iface.removeResultAttr(i, name);
    });
  }
};

} // namespace
