//===- Passes.h - GPU target passes -----------------------------*- C++ -*-===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#ifndef TP_TARGET_GPU_PASSES_H
#define TP_TARGET_GPU_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace tp {

#define GEN_PASS_DECL
#include "tp/Target/GPU/Passes.h.inc"

/// Adds to `registry` what the GPU lowering needs beyond the dialects: the
/// NVVM target attribute's serialization (gpu-module-to-binary), the LLVM IR
/// translations of the builtin, LLVM, NVVM and GPU dialects and of
/// gpu.binary's offloading handler (kernels are translated during the
/// pipeline, the host module after it), and the
/// conversion-to-LLVM interfaces of the dialects found in kernels. The first
/// pass of tp-gpu-pipeline, tp-gpu-check-input, declares it as a dependency,
/// so running the pipeline adds it to the context; embedders need no
/// registerAllExtensions.
void registerGPUTargetInterfaces(DialectRegistry &registry);

#define GEN_PASS_REGISTRATION
#include "tp/Target/GPU/Passes.h.inc"

} // namespace tp
} // namespace mlir

#endif // TP_TARGET_GPU_PASSES_H
