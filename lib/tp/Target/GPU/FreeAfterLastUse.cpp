//===- FreeAfterLastUse.cpp - the tp-gpu-free-after-last-use pass ---------===//
//
// Part of tp-mlir.
//
// Buffer deallocation frees every temporary at the end of its block, so the
// peak device memory of a function is the sum of all its temporaries. Here
// each gpu.dealloc of a buffer allocated in the same block moves to just
// after the last op of the block that uses the buffer, a view of it, or a
// value computed from it (a pointer passed to a runtime call). Every GPU op
// and runtime call of the function runs in program order on one stream, and
// the frees are stream-ordered (cudaFreeAsync), so a free placed after the
// last use in program order happens on the device after that use completed.
//
//===----------------------------------------------------------------------===//

#include "tp/Target/GPU/Passes.h"

#include "BufferViews.h"

#include "HostLevel.h"

#include "mlir/Interfaces/FunctionInterfaces.h"

#define DEBUG_TYPE "tp-gpu-free-after-last-use"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPGPUFREEAFTERLASTUSE
#include "tp/Target/GPU/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

/// The last op of `block` (an ancestor of a user) that uses `buffer` or any
/// value computed from it, not counting `dealloc`; null if a use escapes
/// through the terminator or lies outside `block`.
FailureOr<Operation *> lastUseInBlock(Value buffer, Operation *dealloc,
                                      Block &block) {
  Operation *last = nullptr;
  // A view, a pointer, an index computed from the buffer: its uses are the
  // buffer's uses too. (Results of ops that only read the buffer are
  // followed as well, which is conservative.)
  bool contained = walkDerivedUses(
      buffer, [](Operation *) { return true; },
      [&](OpOperand &use) {
        Operation *user = use.getOwner();
        if (user == dealloc)
          return true;
        Operation *anchor = block.findAncestorOpInBlock(*user);
        if (!anchor || anchor->hasTrait<OpTrait::IsTerminator>())
          return false;
        // A value carried into a region (a kernel's operand, a loop's
        // iter_arg) is used by the op holding the region: the anchor covers
        // it.
        if (!last || last->isBeforeInBlock(anchor))
          last = anchor;
        return true;
      });
  if (!contained)
    return failure();
  return last;
}

struct TPGPUFreeAfterLastUsePass
    : public tp::impl::TPGPUFreeAfterLastUseBase<TPGPUFreeAfterLastUsePass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<gpu::DeallocOp> deallocs;
    getOperation().walk([&](gpu::DeallocOp dealloc) {
      if (isHostLevel(dealloc) && !dealloc.getAsyncToken() &&
          dealloc.getAsyncDependencies().empty())
        deallocs.push_back(dealloc);
    });
    for (gpu::DeallocOp dealloc : deallocs) {
      Value buffer = dealloc.getMemref();
      // Only buffers this block allocated: an argument or a buffer from an
      // enclosing region may be used after the block.
      auto alloc = buffer.getDefiningOp<gpu::AllocOp>();
      Block *block = dealloc->getBlock();
      if (!alloc || alloc->getBlock() != block)
        continue;
      FailureOr<Operation *> last = lastUseInBlock(buffer, dealloc, *block);
      if (failed(last))
        continue;
      Operation *after = *last ? *last : alloc.getOperation();
      if (!after->isBeforeInBlock(dealloc))
        continue;
      LLVM_DEBUG(llvm::dbgs()
                 << "free " << buffer << " after " << *after << "\n");
      dealloc->moveAfter(after);
    }
  }
};

} // namespace
