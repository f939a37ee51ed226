//===- HostLevel.h - is an op in host code or in a future kernel -*- C++ -*-===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#ifndef TP_LIB_CONVERSION_TPTOGPU_HOSTLEVEL_H
#define TP_LIB_CONVERSION_TPTOGPU_HOSTLEVEL_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir {
namespace tp {

/// True for ops that run in host code: not inside a linalg body, a parallel
/// loop or a launch (which become kernels), nor in a gpu.module.
inline bool isHostLevel(Operation *op) {
  for (Operation *parent = op->getParentOp(); parent;
       parent = parent->getParentOp())
    if (isa<scf::ParallelOp, gpu::LaunchOp, gpu::GPUModuleOp,
            linalg::LinalgOp>(parent))
      return false;
  return true;
}

} // namespace tp
} // namespace mlir

#endif // TP_LIB_CONVERSION_TPTOGPU_HOSTLEVEL_H
