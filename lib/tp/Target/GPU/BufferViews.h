//===- BufferViews.h - views of a buffer and the uses through them -*- C++
//-*-===//
//
// Part of tp-mlir.
//
// tp-gpu-device-memory (does a buffer escape through the terminator),
// tp-gpu-free-after-last-use (a buffer's last use) and
// tp-gpu-map-row-groups (the buffer a view was taken of) follow a buffer
// through the views of it the same way.
//
//===----------------------------------------------------------------------===//

#ifndef TP_LIB_TARGET_GPU_BUFFERVIEWS_H
#define TP_LIB_TARGET_GPU_BUFFERVIEWS_H

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/DenseSet.h"

namespace mlir {
namespace tp {

/// The buffer `op` is a view of (a ViewLikeOpInterface op's source, a cast's,
/// a reshape's or a reinterpret_cast's operand), or null.
inline Value viewSource(Operation *op) {
  if (auto view = dyn_cast<ViewLikeOpInterface>(op))
    return view.getViewSource();
  if (isa<memref::CastOp, memref::CollapseShapeOp, memref::ExpandShapeOp,
          memref::ReinterpretCastOp>(op))
    return op->getOperand(0);
  return {};
}

/// The buffer a chain of views was taken of, or `buffer` itself.
inline Value rootOf(Value buffer) {
  while (Operation *def = buffer.getDefiningOp()) {
    Value source = viewSource(def);
    if (!source)
      break;
    buffer = source;
  }
  return buffer;
}

/// Calls `visit` on every use of `root` and of the values derived from it,
/// each value once; a user's results are derived values when `follow(user)`
/// says so. Stops at the first use `visit` returns false for, and returns
/// false then; true when every use was visited.
inline bool walkDerivedUses(Value root, function_ref<bool(Operation *)> follow,
                            function_ref<bool(OpOperand &)> visit) {
  SmallVector<Value> worklist{root};
  DenseSet<Value> seen;
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    if (!seen.insert(v).second)
      continue;
    for (OpOperand &use : v.getUses()) {
      if (!visit(use))
        return false;
      if (follow(use.getOwner()))
        llvm::append_range(worklist, use.getOwner()->getResults());
    }
  }
  return true;
}

} // namespace tp
} // namespace mlir

#endif // TP_LIB_TARGET_GPU_BUFFERVIEWS_H
