//===- PartitioningPass.cpp - how tp-plan and tp-partition start ----------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "PartitioningPass.h"

#include "tp/Dialect/TP/IR/TPDialect.h"
#include "tp/Dialect/TP/Transforms/Partitioner.h"

using namespace mlir;
using namespace mlir::tp;

FailureOr<bool> mlir::tp::startPartitioningPass(ModuleOp module, int64_t tpSize,
                                                StringRef passName,
                                                bool scanBodies) {
  if (failed(TPDialect::checkTPSize(tpSize, "tp-size",
                                    [&] { return module.emitError(); })))
    return failure();
  // One walk of the module answers both questions.
  Operation *tosaOp = nullptr;
  FailureOr<bool> partitioned =
      checkAlreadyPartitioned(module, tpSize, passName, &tosaOp, scanBodies);
  if (failed(partitioned))
    return failure();
  if (*partitioned)
    return false;
  // TOSA input needs converting to linalg first.
  if (tosaOp)
    tosaOp->emitWarning() << passName
                          << " works on linalg, and TOSA ops run replicated: "
                             "convert first with --tosa-to-linalg-pipeline "
                             "--tosa-to-tensor --tosa-to-arith --canonicalize "
                             "(tp-run converts TOSA input itself)";
  return true;
}
