//===- SymbolReferences.h - which symbols a module refers to ----*- C++ -*-===//
//
// Part of tp-mlir.
//
// Whether anything in a module refers to a function, for the passes that
// change a function's signature only where nothing refers to it. Asking
// SymbolTable (symbolKnownUseEmpty, getSymbolUses) walks the whole module for
// each symbol, building every op's attribute dictionary from its properties
// on the way: asked per function, that is quadratic in the functions. Here
// one walk collects every name referred to, and each question is a lookup.
//
//===----------------------------------------------------------------------===//

#ifndef TP_UTILS_SYMBOLREFERENCES_H
#define TP_UTILS_SYMBOLREFERENCES_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseSet.h"

#include <optional>

namespace mlir {
namespace tp {

/// Collects the root names of symbol references (`@f` of `@f::@g`) held in
/// attributes, remembering the attributes found to hold none: attributes are
/// uniqued, and most ops of a model share a few (iterator types, indexing
/// maps), so each is looked into once. Attributes that cannot hold a
/// reference (affine maps, numbers, strings, dense data of unencoded
/// tensors) are not walked at all: walking every attribute of a 100-layer
/// model was a tenth of tp-partition.
///
/// A caller that walks the IR anyway feeds it each op (collect(Operation &))
/// instead of walking again; it then owes what collectReferencedSymbols
/// does: stop at ops that mayBeUnknownSymbolTable, and not look into the
/// regions of nested symbol tables (their references are to their own
/// symbols).
class SymbolRootCollector {
public:
  /// Adds the roots of the references in `attr`; true if it holds any.
  bool collect(Attribute attr);

  /// Adds the roots of the references `op` holds in attributes of its own,
  /// discardable and inherent (not those of the ops in its regions): what
  /// SymbolTable's walks read of an op, without building its attribute
  /// dictionary. True if it holds any.
  bool collect(Operation &op);

  /// True for an op at which SymbolTable's walks give up (their answer is
  /// then "unknown"): an unregistered op with one region may be a symbol
  /// table, whose references would be to its own symbols.
  static bool mayBeUnknownSymbolTable(Operation &op) {
    return op.getNumRegions() == 1 && !op.getDialect();
  }

  /// The roots collected so far.
  const llvm::DenseSet<StringAttr> &getNames() const { return names; }
  llvm::DenseSet<StringAttr> takeNames() { return std::move(names); }

private:
  llvm::DenseSet<StringAttr> names;
  llvm::DenseSet<Attribute> withoutReferences;
};

/// The names that ops of `module` refer to: the roots of their symbol
/// references, outside nested symbol tables, as SymbolTable::getSymbolUses
/// finds them (the module's own attributes are not among them). A function
/// `f` directly in `module` is then referenced exactly when its name is in
/// the set (SymbolTable::symbolKnownUseEmpty(f, module) is false).
///
/// std::nullopt where SymbolTable cannot know either: some op of the module
/// (outside nested symbol tables) is unregistered and has one region, so may
/// be a symbol table of its own. Every symbol then counts as referenced.
std::optional<llvm::DenseSet<StringAttr>>
collectReferencedSymbols(ModuleOp module);

/// The answer to "does anything in `module` refer to this symbol?", from one
/// collectReferencedSymbols scan made at the first question rather than a
/// walk of the module per question.
class ReferencedSymbols {
public:
  explicit ReferencedSymbols(ModuleOp module) : module(module) {}

  /// True unless nothing in the module refers to `symbol` (an op directly in
  /// the module): !SymbolTable::symbolKnownUseEmpty(symbol, module).
  bool isReferenced(Operation *symbol);

  /// Forgets the scan, after a change that may have added or removed a
  /// reference; the next question scans again.
  void invalidate() {
    scanned = false;
    names.reset();
  }

private:
  ModuleOp module;
  bool scanned = false;
  std::optional<llvm::DenseSet<StringAttr>> names;
};

} // namespace tp
} // namespace mlir

#endif // TP_UTILS_SYMBOLREFERENCES_H
