//===- PartitioningPass.h - how tp-plan and tp-partition start --*- C++ -*-===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#ifndef TP_LIB_DIALECT_TP_TRANSFORMS_PARTITIONINGPASS_H
#define TP_LIB_DIALECT_TP_TRANSFORMS_PARTITIONINGPASS_H

#include "mlir/IR/BuiltinOps.h"

namespace mlir {
namespace tp {

/// The checks tp-plan and tp-partition (`passName`) start with: the pass's
/// `tpSize`, then whether `module` is partitioned already
/// (checkAlreadyPartitioned); then a warning on the first TOSA op, since the
/// passes work on linalg. Returns false when `module` is partitioned for
/// `tpSize` already (the pass has nothing to do), true when the pass goes
/// on, and failure, with a diagnostic, otherwise. Without `scanBodies` the
/// functions' bodies are taken as checked (and warned about) already.
FailureOr<bool> startPartitioningPass(ModuleOp module, int64_t tpSize,
                                      StringRef passName,
                                      bool scanBodies = true);

} // namespace tp
} // namespace mlir

#endif // TP_LIB_DIALECT_TP_TRANSFORMS_PARTITIONINGPASS_H
