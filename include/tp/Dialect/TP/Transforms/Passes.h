//===- Passes.h - tp dialect passes -----------------------------*- C++ -*-===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_TRANSFORMS_PASSES_H
#define TP_DIALECT_TP_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"
#include "tp/Dialect/TP/Analysis/Options.h"
#include "tp/Dialect/TP/IR/TPDialect.h"

namespace mlir {
namespace tp {

#define GEN_PASS_DECL
#include "tp/Dialect/TP/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "tp/Dialect/TP/Transforms/Passes.h.inc"

struct PartitionReport;

/// tp-partition that also fills `report` (for drivers such as tp-run that
/// print or post-process it).
std::unique_ptr<Pass>
createTPPartitionWithReport(const TPPartitionOptions &options,
                            std::shared_ptr<PartitionReport> report);

} // namespace tp
} // namespace mlir

#endif // TP_DIALECT_TP_TRANSFORMS_PASSES_H
