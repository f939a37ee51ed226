//===- CheckInput.cpp - the tp-gpu-check-input pass -----------------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Target/GPU/Passes.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPGPUCHECKINPUT
#include "tp/Target/GPU/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

/// Element (or scalar) types the NVVM lowering and the runtime handle.
bool isSupportedScalar(Type type) {
  if (type.isF16() || type.isBF16() || type.isF32() || type.isF64() ||
      type.isIndex())
    return true;
  if (auto i = dyn_cast<IntegerType>(type))
    return llvm::is_contained({1u, 8u, 16u, 32u, 64u}, i.getWidth());
  return false;
}

/// The unsupported scalar inside `type`, if any.
std::optional<Type> findUnsupported(Type type) {
  if (auto shaped = dyn_cast<ShapedType>(type))
    type = shaped.getElementType();
  if (!type.isIntOrIndexOrFloat())
    return isa<ComplexType>(type) ? std::optional<Type>(type) : std::nullopt;
  if (isSupportedScalar(type))
    return std::nullopt;
  return type;
}

struct TPGPUCheckInputPass
    : public tp::impl::TPGPUCheckInputBase<TPGPUCheckInputPass> {
  using Base::Base;

  /// The whole GPU lowering's needs (see registerGPUTargetInterfaces): this
  /// is the first pass of tp-gpu-pipeline.
  void getDependentDialects(DialectRegistry &registry) const override {
    Base::getDependentDialects(registry);
    registerGPUTargetInterfaces(registry);
  }

  void runOnOperation() override {
    bool failed = false;
    // One report per function: the first value (argument or op result) of an
    // unsupported type, where it is defined.
    getOperation().walk([&](FunctionOpInterface func) {
      auto report = [&](Operation *op, Type bad, StringRef what) {
        op->emitOpError() << what << " has element type " << bad
                          << ", which the GPU target does not support (f16, "
                             "bf16, f32, f64, i1, i8, i16, i32, i64, index)";
        failed = true;
      };
      for (Type t : func.getArgumentTypes())
        if (std::optional<Type> bad = findUnsupported(t))
          return report(func, *bad, "an argument");
      for (Type t : func.getResultTypes())
        if (std::optional<Type> bad = findUnsupported(t))
          return report(func, *bad, "a result");
      func->walk([&](Operation *op) {
        for (Type t : op->getResultTypes())
          if (std::optional<Type> bad = findUnsupported(t)) {
            report(op, *bad, "a result");
            return WalkResult::interrupt();
          }
        return WalkResult::advance();
      });
    });
    getOperation().walk([&](Operation *op) {
      if (isa<tensor::ExtractOp, tensor::InsertOp>(op) &&
          !op->getParentOfType<linalg::LinalgOp>()) {
        op->emitOpError("accesses one element of a tensor in host code; the "
                        "GPU target keeps tensors in device memory (compute "
                        "the value inside a linalg op instead)");
        failed = true;
      }
    });
    if (failed)
      signalPassFailure();
  }
};

} // namespace
