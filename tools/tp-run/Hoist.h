//===- Hoist.h - tp-run: weights that arrive as constants -------*- C++ -*-===//
//
// Part of tp-mlir.
//
// A model whose weights are tensor constants (torch-mlir's default output)
// would keep every weight whole in each rank's compiled model. tp-run runs
// tp-hoist-constants on it first: the constants become parameter arguments,
// their data goes to a .safetensors file in the scratch folder, and
// tp-launch gives each rank only its shard of them, as for --weights.
//
//===----------------------------------------------------------------------===//

#ifndef TP_TOOLS_TP_RUN_HOIST_H
#define TP_TOOLS_TP_RUN_HOIST_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <map>
#include <string>

namespace tp_run {

struct HoistedWeights {
  /// Argument index of the entry function -> tensor name.
  std::map<unsigned, std::string> tensorFor;
  /// Tensor name -> data (the module's tp.hoisted_constants, taken off it
  /// so that the compiled models do not carry it).
  mlir::DictionaryAttr data;
  /// Bytes of the hoisted tensors of the entry function.
  int64_t bytes = 0;
};

/// Runs tp-hoist-constants with `minBytes` on `module` and fills `hoisted`
/// for `entry`. Fails after printing the pass's diagnostics.
mlir::LogicalResult hoistConstants(mlir::ModuleOp module,
                                   mlir::func::FuncOp entry, int64_t minBytes,
                                   HoistedWeights &hoisted);

/// Writes the entry's hoisted tensors to the .safetensors file `path`
/// (through a temporary renamed into place: no partial file on failure).
bool writeHoistedWeights(const HoistedWeights &hoisted, const std::string &path,
                         std::string &error);

} // namespace tp_run

#endif // TP_TOOLS_TP_RUN_HOIST_H
