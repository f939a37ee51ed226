//===- SymbolReferences.cpp - which symbols a module refers to ------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Utils/SymbolReferences.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace mlir::tp;

/// True for dense data of a tensor without an encoding: its elements and
/// type hold no attribute that could be a reference.
static bool isUnencodedDense(Attribute attr) {
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  auto tensor = dense ? dyn_cast<RankedTensorType>(dense.getType()) : nullptr;
  return tensor && !tensor.getEncoding();
}

bool SymbolRootCollector::collect(Attribute attr) {
  if (auto ref = dyn_cast<SymbolRefAttr>(attr)) {
    names.insert(ref.getRootReference());
    return true;
  }
  if (isa<AffineMapAttr, IntegerAttr, FloatAttr, StringAttr, UnitAttr,
          DenseArrayAttr>(attr) ||
      withoutReferences.contains(attr))
    return false;
  bool found = false;
  if (auto array = dyn_cast<ArrayAttr>(attr)) {
    for (Attribute element : array)
      found |= collect(element);
  } else if (auto dict = dyn_cast<DictionaryAttr>(attr)) {
    for (NamedAttribute entry : dict)
      found |= collect(entry.getValue());
  } else if (!isUnencodedDense(attr)) {
    attr.walk<WalkOrder::PreOrder>([&](Attribute nested) {
      if (auto ref = dyn_cast<SymbolRefAttr>(nested)) {
        names.insert(ref.getRootReference());
        found = true;
        return WalkResult::skip();
      }
      return WalkResult::advance();
    });
  }
  if (!found)
    withoutReferences.insert(attr);
  return found;
}

bool SymbolRootCollector::collect(Operation &op) {
  bool found = false;
  for (NamedAttribute attr : op.getDiscardableAttrs())
    found |= collect(attr.getValue());
  if (std::optional<RegisteredOperationName> info = op.getRegisteredInfo())
    for (StringAttr name : info->getAttributeNames())
      if (Attribute inherent =
              op.getInherentAttr(name.getValue()).value_or(Attribute()))
        found |= collect(inherent);
  return found;
}

std::optional<llvm::DenseSet<StringAttr>>
mlir::tp::collectReferencedSymbols(ModuleOp module) {
  SymbolRootCollector collector;
  SmallVector<Region *> worklist{&module.getBodyRegion()};
  while (!worklist.empty()) {
    for (Operation &op : worklist.pop_back_val()->getOps()) {
      if (SymbolRootCollector::mayBeUnknownSymbolTable(op))
        return std::nullopt;
      collector.collect(op);
      if (!op.hasTrait<OpTrait::SymbolTable>())
        for (Region &region : op.getRegions())
          worklist.push_back(&region);
    }
  }
  return collector.takeNames();
}

bool ReferencedSymbols::isReferenced(Operation *symbol) {
  if (!scanned) {
    scanned = true;
    names = collectReferencedSymbols(module);
  }
  return !names || names->contains(SymbolTable::getSymbolName(symbol));
}
