//===- Manifest.h - the runner's description of a model ---------*- C++ -*-===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#ifndef TP_CONVERSION_ENTRYPOINT_MANIFEST_H
#define TP_CONVERSION_ENTRYPOINT_MANIFEST_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir {
namespace tp {

/// Finds the entry function: `name` if non-empty, else the only public
/// function with a body. Emits a diagnostic and returns null otherwise.
func::FuncOp findEntryFunction(ModuleOp module, StringRef name);

/// Builds the JSON manifest of a partitioned entry function (see
/// runtime/README.md for the schema). Emits a diagnostic and fails on an
/// argument or result the runner cannot handle.
FailureOr<std::string> buildManifest(func::FuncOp entry, int64_t tpSize,
                                     StringRef target);

/// The runtime's dtype name of `type` ("f32", "bf16", ...), or "" if
/// unsupported.
StringRef getDTypeName(Type type);

} // namespace tp
} // namespace mlir

#endif // TP_CONVERSION_ENTRYPOINT_MANIFEST_H
