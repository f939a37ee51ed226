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

/// A warning on the first TOSA op of `module`: TOSA input needs converting
/// to linalg before `passName`.
static void warnAboutTosa(ModuleOp module, StringRef passName) {
  module.walk([&](Operation *op) {
    if (!op->getDialect() || op->getDialect()->getNamespace() != "tosa")
      return WalkResult::advance();
    op->emitWarning() << passName
                      << " works on linalg, and TOSA ops run replicated: "
                         "convert first with --tosa-to-linalg-pipeline "
                         "--tosa-to-tensor --tosa-to-arith --canonicalize "
                         "(tp-run converts TOSA input itself)";
    return WalkResult::interrupt();
  });
}

FailureOr<bool> mlir::tp::startPartitioningPass(ModuleOp module, int64_t tpSize,
                                                StringRef passName) {
  if (failed(TPDialect::checkTPSize(tpSize, "tp-size",
                                    [&] { return module.emitError(); })))
    return failure();
  FailureOr<bool> partitioned =
      checkAlreadyPartitioned(module, tpSize, passName);
  if (failed(partitioned))
    return failure();
  if (*partitioned)
    return false;
  warnAboutTosa(module, passName);
  return true;
}
