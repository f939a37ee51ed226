//===- StructuredOps.h - cheap queries on linalg ops ------------*- C++ -*-===//
//
// Part of tp-mlir.
//
// Queries the planner asks of every linalg op of a model, answered without
// upstream's general machinery where that machinery dominates compile time:
// LinalgOp::getStaticLoopRanges composes the inverse of the concatenated
// indexing maps with a uniqued affine constant per operand dimension, and
// linalg::inferContractionDims builds sets of loops per operand; on a
// 96-layer model the two were a fifth of tp-plan + tp-partition.
//
//===----------------------------------------------------------------------===//

#ifndef TP_UTILS_STRUCTUREDOPS_H
#define TP_UTILS_STRUCTUREDOPS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir {
namespace tp {

/// The static size of each loop of `op` (whose indexing maps are `maps`):
/// the size of the first operand dimension, in operand order, that a loop
/// indexes by itself. ShapedType::kDynamic where that size is dynamic or no
/// operand dimension is the bare loop. For a verified op this is
/// LinalgOp::getStaticLoopRanges.
inline SmallVector<int64_t> getStaticLoopSizes(linalg::LinalgOp op,
                                               ArrayRef<AffineMap> maps) {
  // Every indexing map has one dimension per loop (asking the op for its
  // loop count builds a named op's iterator types).
  unsigned numLoops = maps.empty() ? 0 : maps.front().getNumDims();
  SmallVector<int64_t> sizes(numLoops, ShapedType::kDynamic);
  SmallVector<bool> found(sizes.size(), false);
  for (auto [operand, map] : llvm::zip(op->getOpOperands(), maps)) {
    auto shaped = dyn_cast<ShapedType>(operand.get().getType());
    if (!shaped || !shaped.hasRank())
      continue;
    ArrayRef<int64_t> shape = shaped.getShape();
    for (auto [dim, expr] : llvm::enumerate(map.getResults())) {
      auto loop = dyn_cast<AffineDimExpr>(expr);
      if (!loop || dim >= shape.size() || loop.getPosition() >= sizes.size() ||
          found[loop.getPosition()])
        continue;
      found[loop.getPosition()] = true;
      sizes[loop.getPosition()] = shape[dim];
    }
  }
  return sizes;
}

inline SmallVector<int64_t> getStaticLoopSizes(linalg::LinalgOp op) {
  return getStaticLoopSizes(op, op.getIndexingMapsArray());
}

/// The contraction dimensions of `op` if it is a contraction that reduces
/// over some loop (K not empty); failure otherwise. Ops without a reduction
/// loop, most of a model's two-input ops (adds, products), are turned away
/// before linalg::inferContractionDims, which costs ~10k instructions.
inline FailureOr<linalg::ContractionDimensions>
inferReducingContraction(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() == 0)
    return failure();
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || dims->k.empty())
    return failure();
  return dims;
}

} // namespace tp
} // namespace mlir

#endif // TP_UTILS_STRUCTUREDOPS_H
