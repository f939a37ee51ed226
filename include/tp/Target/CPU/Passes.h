//===- Passes.h - CPU target passes -----------------------------*- C++ -*-===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#ifndef TP_TARGET_CPU_PASSES_H
#define TP_TARGET_CPU_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace tp {

#define GEN_PASS_DECL
#include "tp/Target/CPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "tp/Target/CPU/Passes.h.inc"

} // namespace tp
} // namespace mlir

#endif // TP_TARGET_CPU_PASSES_H
