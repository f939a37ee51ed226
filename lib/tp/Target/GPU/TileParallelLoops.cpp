//===- TileParallelLoops.cpp - the tp-gpu-tile-parallel-loops pass --------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Target/GPU/Passes.h"

#include "HostLevel.h"

#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPGPUTILEPARALLELLOOPS
#include "tp/Target/GPU/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

/// Replaces `op` (no reductions) by a nest of scf.for loops.
void sequentialize(RewriterBase &rewriter, scf::ParallelOp op) {
  rewriter.setInsertionPoint(op);
  scf::buildLoopNest(
      rewriter, op.getLoc(), op.getLowerBound(), op.getUpperBound(),
      op.getStep(), [&](OpBuilder &b, Location, ValueRange ivs) {
        IRMapping mapping;
        mapping.map(op.getInductionVars(), ivs);
        for (Operation &inner : op.getBody()->without_terminator())
          b.clone(inner, mapping);
      });
  rewriter.eraseOp(op);
}

/// Collapses every dimension of `op` into one; returns the new loop.
scf::ParallelOp collapseAll(RewriterBase &rewriter, scf::ParallelOp op) {
  if (op.getNumLoops() == 1)
    return op;
  Operation *before = op->getPrevNode();
  Block *block = op->getBlock();
  std::vector<unsigned> all(op.getNumLoops());
  for (unsigned i = 0; i < all.size(); ++i)
    all[i] = i;
  collapseParallelLoops(rewriter, op, {all});
  // The new loop is the first scf.parallel after the old one's predecessor.
  Operation *it = before ? before->getNextNode() : &block->front();
  for (; it; it = it->getNextNode())
    if (auto loop = dyn_cast<scf::ParallelOp>(it))
      return loop;
  llvm_unreachable("collapseParallelLoops left no loop");
}

struct TPGPUTileParallelLoopsPass
    : public tp::impl::TPGPUTileParallelLoopsBase<TPGPUTileParallelLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (failed(checkBlockSize(getOperation(), blockSize)))
      return signalPassFailure();
    IRRewriter rewriter(&getContext());
    bool failed = false;

    for (auto loop : getHostLevelOps<scf::ParallelOp>(getOperation())) {
      bool reductions = false;
      loop.walk([&](scf::ParallelOp inner) {
        reductions |= !inner.getInitVals().empty();
      });
      if (reductions) {
        loop.emitOpError("has reductions, which the GPU target does not map "
                         "to kernels");
        failed = true;
        continue;
      }
      // Inner parallel loops run inside one thread (innermost first).
      SmallVector<scf::ParallelOp> nested;
      loop.getBody()->walk(
          [&](scf::ParallelOp inner) { nested.push_back(inner); });
      for (scf::ParallelOp inner : nested)
        sequentialize(rewriter, inner);

      // The trip count, when static, sizes the block.
      std::optional<int64_t> trips = 1;
      for (auto [lbValue, ubValue, stepValue] :
           llvm::zip(loop.getLowerBound(), loop.getUpperBound(),
                     loop.getStep())) {
        std::optional<int64_t> lb = getConstantIntValue(lbValue);
        std::optional<int64_t> ub = getConstantIntValue(ubValue);
        std::optional<int64_t> step = getConstantIntValue(stepValue);
        if (!trips || !lb || !ub || !step || *step <= 0) {
          trips = std::nullopt;
          continue;
        }
        *trips *= std::max<int64_t>(0, (*ub - *lb + *step - 1) / *step);
      }
      int64_t tile =
          trips ? std::clamp<int64_t>(*trips, 1, blockSize) : blockSize;
      scf::ParallelOp flat = collapseAll(rewriter, loop);
      scf::tileParallelLoop(flat, {tile}, /*noMinMaxBounds=*/true);
    }

    // Whatever touches memory outside the loops would run on the host.
    getOperation().walk([&](Operation *op) {
      StringRef name = op->getName().getStringRef();
      bool access = isa<memref::LoadOp, memref::StoreOp>(op) ||
                    llvm::is_contained({"affine.load", "affine.store",
                                        "vector.load", "vector.store",
                                        "vector.transfer_read",
                                        "vector.transfer_write"},
                                       name);
      if (!access || !isHostLevel(op))
        return;
      op->emitOpError("accesses device memory in host code; the GPU target "
                      "runs such accesses inside kernels only");
      failed = true;
    });
    if (failed)
      signalPassFailure();
  }
};

} // namespace
