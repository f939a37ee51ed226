//===- SliceDims.h - what a slice takes of each dimension -------*- C++ -*-===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#ifndef TP_UTILS_SLICEDIMS_H
#define TP_UTILS_SLICEDIMS_H

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/SmallBitVector.h"

#include <optional>

namespace mlir {
namespace tp {

/// One dimension of the full tensor of a slice (the source of an
/// extract_slice, the destination of an insert_slice) that the slice keeps:
/// its position in the slice's own (rank-reduced) type, and its offset, size
/// and stride where they are constants.
struct SliceDim {
  int64_t fullDim;
  int64_t sliceDim;
  std::optional<int64_t> offset, size, stride;
};

/// The dimensions `slice` keeps, in order: all but those in `dropped` (its
/// rank-reduced dimensions).
inline SmallVector<SliceDim>
getKeptSliceDims(OffsetSizeAndStrideOpInterface slice,
                 const llvm::SmallBitVector &dropped) {
  SmallVector<OpFoldResult> offsets = slice.getMixedOffsets();
  SmallVector<OpFoldResult> sizes = slice.getMixedSizes();
  SmallVector<OpFoldResult> strides = slice.getMixedStrides();
  SmallVector<SliceDim> dims;
  for (int64_t d = 0, e = sizes.size(); d < e; ++d) {
    if (dropped.test(d))
      continue;
    dims.push_back(
        {d, static_cast<int64_t>(dims.size()), getConstantIntValue(offsets[d]),
         getConstantIntValue(sizes[d]), getConstantIntValue(strides[d])});
  }
  return dims;
}

} // namespace tp
} // namespace mlir

#endif // TP_UTILS_SLICEDIMS_H
