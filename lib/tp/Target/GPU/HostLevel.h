//===- HostLevel.h - is an op in host code or in a future kernel -*- C++ -*-===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#ifndef TP_LIB_TARGET_GPU_HOSTLEVEL_H
#define TP_LIB_TARGET_GPU_HOSTLEVEL_H

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

/// The ops of type `OpTy` under `root` that run in host code, in walk order:
/// what a kernel-launching pass maps (collected first, so that mapping one
/// may erase it).
template <typename OpTy> SmallVector<OpTy> getHostLevelOps(Operation *root) {
  SmallVector<OpTy> ops;
  root->walk([&](OpTy op) {
    if (isHostLevel(op))
      ops.push_back(op);
  });
  return ops;
}

/// Checks a kernel-launching pass's block-size option: threads per block in
/// [multiple, 1024] (CUDA's limit) and a multiple of `multiple` (32 for the
/// passes that give each row a warp); the error goes on `op`.
inline LogicalResult checkBlockSize(Operation *op, int64_t blockSize,
                                    int64_t multiple = 1) {
  if (blockSize >= multiple && blockSize <= 1024 && blockSize % multiple == 0)
    return success();
  InFlightDiagnostic diag = op->emitError("block-size must be ");
  if (multiple > 1)
    diag << "a multiple of " << multiple << " in [" << multiple << ", 1024], ";
  else
    diag << "in [1, 1024], ";
  return diag << "got " << blockSize;
}

} // namespace tp
} // namespace mlir

#endif // TP_LIB_TARGET_GPU_HOSTLEVEL_H
