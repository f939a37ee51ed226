//===- Weights.h - tp-run: arguments read from .safetensors files -*- C++ -*-=//
//
// Part of tp-mlir.
//
// tp-run --weights FILE.safetensors[,...] [--weight-map MAP] decides, before
// anything is compiled, which arguments of the entry function are read from
// which tensor, and checks each tensor's dtype and shape against the
// argument. tp-launch then reads every rank's shard itself.
//
//===----------------------------------------------------------------------===//

#ifndef TP_TOOLS_TP_RUN_WEIGHTS_H
#define TP_TOOLS_TP_RUN_WEIGHTS_H

#include "tp/runtime/tp_runtime.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/SourceMgr.h"

#include <map>
#include <string>
#include <vector>

namespace tp_run {

struct WeightPlan {
  std::vector<std::string> files;
  /// Argument index -> tensor name.
  std::map<unsigned, std::string> tensorFor;
  /// tensorFor as tp-launch's --weight-map: {"0": "name", ...}.
  std::string launchMap() const;
};

/// The argument names of `func` as written in the source ("%wq" -> "wq"),
/// from each argument's location; "" where unknown.
std::vector<std::string> argumentNames(mlir::func::FuncOp func,
                                       const llvm::SourceMgr &sourceMgr);

/// Resolves --weights (a comma-separated list, `\,` escapes) and
/// --weight-map (JSON inline or in a file; keys are argument indices or
/// names; "" maps every argument whose name is a tensor's) for `func`.
/// Reads only the files' headers. On failure `error` says why, naming the
/// argument, tensor and file.
bool resolveWeights(mlir::func::FuncOp func,
                    const std::vector<std::string> &names,
                    const std::string &weights, const std::string &weightMap,
                    WeightPlan &plan, std::string &error);

/// The runtime dtype of an element type (f32, f64, f16, bf16, i32, i64);
/// false for any other.
bool dtypeOf(mlir::Type elem, tp_dtype &dtype);

} // namespace tp_run

#endif // TP_TOOLS_TP_RUN_WEIGHTS_H
