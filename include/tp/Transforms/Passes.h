//===- Passes.h - passes on upstream dialects -------------------*- C++ -*-===//
//
// Part of tp-mlir.
//
// Passes that need no tp dialect (Passes.td says which and why they exist).
//
//===----------------------------------------------------------------------===//

#ifndef TP_TRANSFORMS_PASSES_H
#define TP_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace tp {

#define GEN_PASS_DECL
#include "tp/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "tp/Transforms/Passes.h.inc"

/// Generalizes named ops next to reshapes and folds the reshapes into them
/// (the body of tp-propagate-reshapes).
LogicalResult propagateReshapes(Operation *root);

} // namespace tp
} // namespace mlir

#endif // TP_TRANSFORMS_PASSES_H
