//===- HoistConstants.cpp - large tensor constants become parameters -----===//
//
// Part of tp-mlir.
//
// Weights that arrive as constants (torch-mlir's default output) would stay
// whole in every rank's compiled model. Moved out as arguments, they are
// planned, partitioned and read per shard like any weight argument; their
// data waits in the module attribute `tp.hoisted_constants` for a runner to
// write out (tp-run writes a .safetensors file).
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Analysis/Parameters.h"
#include "tp/Dialect/TP/Transforms/Passes.h"
#include "tp/Utils/SymbolReferences.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "tp-hoist-constants"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPHOISTCONSTANTS
#include "tp/Dialect/TP/Transforms/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

/// The element types a weights file carries (safetensors F32, F64, F16,
/// BF16, I32, I64), as tp-run and tp-launch read them.
bool isHoistableElementType(Type type) {
  return type.isF32() || type.isF64() || type.isF16() || type.isBF16() ||
         type.isSignlessInteger(32) || type.isSignlessInteger(64);
}

/// A constant the pass moves out: its op, value and type.
struct Candidate {
  Operation *op;
  ElementsAttr value;
  RankedTensorType type;
};

/// The constant `op` defines, if it is one to hoist: a non-splat tensor
/// constant of at least `minBytes` bytes with data of a hoistable type.
/// Fails (with an error at the op) for a dense_resource without its data.
FailureOr<std::optional<Candidate>> classify(Operation *op, int64_t minBytes) {
  if (!op->hasTrait<OpTrait::ConstantLike>() || op->getNumResults() != 1)
    return std::optional<Candidate>();
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!type || !type.hasStaticShape() || type.getEncoding() ||
      !isHoistableElementType(type.getElementType()))
    return std::optional<Candidate>();
  Attribute attr;
  if (!matchPattern(op->getResult(0), m_Constant(&attr)))
    return std::optional<Candidate>();
  int64_t bytes =
      type.getNumElements() * int64_t(type.getElementTypeBitWidth() / 8);
  if (bytes < minBytes)
    return std::optional<Candidate>();
  if (auto dense = dyn_cast<DenseIntOrFPElementsAttr>(attr)) {
    if (dense.isSplat())
      return std::optional<Candidate>();
    return std::optional<Candidate>(Candidate{op, dense, type});
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    DenseResourceElementsHandle handle = resource.getRawHandle();
    const AsmResourceBlob *blob = handle.getBlob();
    if (!blob)
      return op->emitError("dense_resource '")
             << handle.getKey()
             << "' has no data in this module (was it printed with elided "
                "resources?): it cannot be hoisted; give the module with its "
                "resources, or keep it with min-bytes above "
             << bytes;
    if (int64_t(blob->getData().size()) != bytes)
      return op->emitError("dense_resource '")
             << handle.getKey() << "' holds " << blob->getData().size()
             << " bytes, but " << type << " needs " << bytes;
    return std::optional<Candidate>(Candidate{op, resource, type});
  }
  return std::optional<Candidate>(); // sparse, strings: not weights
}

struct TPHoistConstantsPass
    : public tp::impl::TPHoistConstantsBase<TPHoistConstantsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    NamedAttrList hoisted;
    if (auto existing = module->getAttrOfType<DictionaryAttr>(
            TPDialect::getHoistedConstantsAttrName()))
      hoisted.append(existing.getValue());
    // One name per distinct value in the module (attributes are uniqued).
    DenseMap<Attribute, StringAttr> nameOf;
    for (NamedAttribute entry : hoisted)
      nameOf.try_emplace(entry.getValue(), entry.getName());

    bool anyError = false;
    // Scanned once, at the first function with constants to hoist (asking
    // SymbolTable per function walked the module per function).
    ReferencedSymbols referenced(module);
    SymbolRootCollector erased;
    for (auto func : module.getOps<FunctionOpInterface>()) {
      if (func.isExternal())
        continue;
      SmallVector<Candidate> candidates;
      func.getFunctionBody().walk([&](Operation *op) {
        // An op isolated from above (a nested module, a kernel) cannot
        // read the function's arguments.
        if (op->getParentWithTrait<OpTrait::IsIsolatedFromAbove>() !=
            func.getOperation())
          return;
        FailureOr<std::optional<Candidate>> c = classify(op, minBytes);
        if (::mlir::failed(c))
          anyError = true;
        else if (*c)
          candidates.push_back(**c);
      });
      if (candidates.empty())
        continue;
      if (referenced.isReferenced(func)) {
        func.emitRemark("its tensor constants stay constants (")
            << candidates.size()
            << " of at least min-bytes): the function is called, and "
               "hoisting them would change its signature";
        continue;
      }
      // Hoisting erases the candidates and adds arguments (attributes
      // tp.param and tp.hoisted, tensor types without encoding, which hold
      // no reference). A candidate that holds a reference of its own (a
      // discardable attribute naming a function) may have been that
      // function's last one: the next question then scans again.
      if (llvm::any_of(candidates, [&](const Candidate &c) {
            return erased.collect(*c.op);
          }))
        referenced.invalidate();
      hoistInto(func, candidates, hoisted, nameOf);
    }
    if (anyError)
      return signalPassFailure();
    if (!hoisted.empty())
      module->setAttr(TPDialect::getHoistedConstantsAttrName(),
                      hoisted.getDictionary(ctx));
  }

  /// Replaces each candidate of `func` by a new parameter argument.
  void hoistInto(FunctionOpInterface func, ArrayRef<Candidate> candidates,
                 NamedAttrList &hoisted,
                 DenseMap<Attribute, StringAttr> &nameOf) {
    MLIRContext *ctx = &getContext();
    StringAttr paramName = StringAttr::get(ctx, TPDialect::getParamAttrName());
    // `tp.param` on some arguments makes exactly those the parameters: make
    // the inferred ones explicit before the new ones are marked (tensors
    // only: a scalar is never a weight).
    unsigned numArgs = func.getNumArguments();
    bool stated = false;
    for (unsigned i = 0; i < numArgs; ++i)
      stated |= static_cast<bool>(func.getArgAttr(i, paramName));
    if (!stated) {
      SmallVector<unsigned> inferred;
      for (unsigned i = 0; i < numArgs; ++i)
        if (isa<RankedTensorType>(func.getArgument(i).getType()) &&
            isParameterArgument(func.getArgument(i)))
          inferred.push_back(i);
      for (unsigned i : inferred)
        func.setArgAttr(i, paramName, UnitAttr::get(ctx));
    }

    DenseMap<Attribute, BlockArgument> argOf;
    unsigned counter = 0;
    auto freshName = [&](ElementsAttr value) {
      if (auto resource = dyn_cast<DenseResourceElementsAttr>(value))
        if (!hoisted.get(resource.getRawHandle().getKey()))
          return StringAttr::get(ctx, resource.getRawHandle().getKey());
      for (;;) {
        std::string name = (func.getName() + ".cst" + Twine(counter++)).str();
        if (!hoisted.get(name))
          return StringAttr::get(ctx, name);
      }
    };
    for (const Candidate &c : candidates) {
      BlockArgument &arg = argOf[c.value];
      if (!arg) {
        StringAttr &name = nameOf[c.value];
        if (!name) {
          name = freshName(c.value);
          hoisted.append(name, c.value);
        }
        NamedAttrList attrs;
        attrs.append(paramName, UnitAttr::get(ctx));
        attrs.append(TPDialect::getHoistedAttrName(), name);
        unsigned index = func.getNumArguments();
        // The argument's location names it, so that drivers that read
        // argument names from the source (tp-run --weights) see none.
        Location loc = NameLoc::get(name, c.op->getLoc());
        if (::mlir::failed(func.insertArgument(
                index, c.type, attrs.getDictionary(ctx), loc))) {
          c.op->emitError("cannot add an argument to the function");
          return signalPassFailure();
        }
        arg = func.getArgument(index);
        LLVM_DEBUG(llvm::dbgs() << "hoisted " << name << " as argument #"
                                << index << " of @" << func.getName() << "\n");
      }
      c.op->getResult(0).replaceAllUsesWith(arg);
      c.op->erase();
    }
  }
};

} // namespace
