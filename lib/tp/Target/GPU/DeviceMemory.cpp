//===- DeviceMemory.cpp - the tp-gpu-device-memory pass -------------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Target/GPU/Passes.h"

#include "BufferViews.h"

#include "HostLevel.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPGPUDEVICEMEMORY
#include "tp/Target/GPU/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

/// True if `value`, or a view of it, is an operand of `terminator`.
bool escapesThrough(Value value, Operation *terminator) {
  return !walkDerivedUses(
      value,
      [](Operation *user) { return static_cast<bool>(viewSource(user)); },
      [&](OpOperand &use) { return use.getOwner() != terminator; });
}

bool hasIdentityLayout(Value buffer) {
  auto type = dyn_cast<MemRefType>(buffer.getType());
  return type && type.getLayout().isIdentity();
}

struct TPGPUDeviceMemoryPass
    : public tp::impl::TPGPUDeviceMemoryBase<TPGPUDeviceMemoryPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<Operation *> work;
    getOperation().walk([&](Operation *op) {
      if (isa<memref::AllocOp, memref::AllocaOp, memref::DeallocOp,
              memref::CopyOp, memref::GetGlobalOp, linalg::LinalgOp>(op) &&
          isHostLevel(op))
        work.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    bool failed = false;
    for (Operation *op : work) {
      rewriter.setInsertionPoint(op);
      Location loc = op->getLoc();
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        if (!alloc.getType().getLayout().isIdentity()) {
          alloc.emitOpError("allocates a buffer with a layout; the GPU target "
                            "allocates identity-layout device buffers only");
          failed = true;
          continue;
        }
        rewriter.replaceOpWithNewOp<gpu::AllocOp>(
            alloc, alloc.getType(), /*asyncToken=*/Type(),
            /*asyncDependencies=*/ValueRange(), alloc.getDynamicSizes(),
            alloc.getSymbolOperands(), /*hostShared=*/false);
      } else if (auto alloca = dyn_cast<memref::AllocaOp>(op)) {
        alloca.emitOpError("allocates on the host stack; the GPU target keeps "
                           "buffers in device memory");
        failed = true;
      } else if (auto dealloc = dyn_cast<memref::DeallocOp>(op)) {
        rewriter.replaceOpWithNewOp<gpu::DeallocOp>(
            dealloc, /*asyncToken=*/Type(), ValueRange(), dealloc.getMemref());
      } else if (auto copy = dyn_cast<memref::CopyOp>(op)) {
        Value src = copy.getSource(), dst = copy.getTarget();
        if (hasIdentityLayout(src) && hasIdentityLayout(dst) &&
            src.getType() == dst.getType())
          rewriter.replaceOpWithNewOp<gpu::MemcpyOp>(copy, Type(), ValueRange(),
                                                     dst, src);
        else
          rewriter.replaceOpWithNewOp<linalg::CopyOp>(copy, src, dst);
      } else if (auto global = dyn_cast<memref::GetGlobalOp>(op)) {
        // A device copy of the constant; freed at the end of the block
        // unless it leaves through the terminator.
        MemRefType type = global.getType();
        rewriter.setInsertionPointAfter(global);
        auto device = gpu::AllocOp::create(
            rewriter, loc,
            MemRefType::get(type.getShape(), type.getElementType()), Type(),
            ValueRange(), ValueRange(), ValueRange(), false);
        Value deviceBuffer = device.getMemref();
        if (!type.getLayout().isIdentity()) {
          global.emitOpError("has a layout; the GPU target copies "
                             "identity-layout constants only");
          failed = true;
          continue;
        }
        rewriter.replaceAllUsesExcept(global.getResult(), deviceBuffer, device);
        gpu::MemcpyOp::create(rewriter, loc, Type(), ValueRange(), deviceBuffer,
                              global.getResult());
        Operation *terminator = global->getBlock()->getTerminator();
        if (!escapesThrough(deviceBuffer, terminator)) {
          rewriter.setInsertionPoint(terminator);
          gpu::DeallocOp::create(rewriter, loc, Type(), ValueRange(),
                                 deviceBuffer);
        }
      } else if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
        if (linalgOp.getNumParallelLoops() != 0)
          continue;
        // No parallel loop would become a kernel: run it as one thread.
        Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
        Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
        auto parallel = scf::ParallelOp::create(
            rewriter, loc, ValueRange{zero}, ValueRange{one}, ValueRange{one});
        rewriter.moveOpBefore(op, parallel.getBody()->getTerminator());
      }
    }
    if (failed)
      signalPassFailure();
  }
};

} // namespace
