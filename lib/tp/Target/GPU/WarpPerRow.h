//===- WarpPerRow.h - the pieces of a warp-per-row kernel ------*- C++ -*-===//
//
// Part of tp-mlir.
//
// What tp-gpu-map-reductions (one reduction, one warp per row) and
// tp-gpu-map-row-groups (a run of row ops, one warp per row) build alike:
// the reduction's combiner and its identity, the launch of (32, warps)
// threads with the row guard, the row's indices, and the shuffle butterfly
// that leaves every lane with the row's values.
//
//===----------------------------------------------------------------------===//

#ifndef TP_LIB_TARGET_GPU_WARPPERROW_H
#define TP_LIB_TARGET_GPU_WARPPERROW_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

namespace mlir {
namespace tp {

constexpr int64_t kWarpSize = 32;
/// The widest access one thread issues (ld.global.v4.b32 /
/// st.global.v4.b32), for a warp's lanes as for tp-gpu-map-elementwise's
/// threads.
constexpr int64_t kVectorBytes = 16;

/// Bytes of one element of `type` (a shaped type's element, or `type`
/// itself), or 0 when that is not a whole number of bytes or the element has
/// no fixed width: index, whose width is the lowering's (convert-gpu-to-nvvm's
/// index bitwidth, the data layout), unknown when a vector access and its
/// alignment are chosen here.
int64_t elementBytes(Type type);

/// For an operand of `op`: 0 when it does not move along loop `rowDim`, the
/// bytes of its element when it is read or written contiguously along it
/// (identity layout, `rowDim` its last index, elementBytes not 0), and
/// std::nullopt otherwise (no vector access).
std::optional<int64_t> bytesAlongRow(linalg::GenericOp op, OpOperand &operand,
                                     unsigned rowDim);

/// Elements per 16-byte access for elements of `widestBytes` bytes (the
/// widest accessed along the row), when that is more than one and divides
/// the row's `length`; 1 otherwise.
int64_t vectorWidth(int64_t widestBytes, int64_t length);


/// `combine`'s identity in `type`, or a null attribute when it is not a
/// combiner these passes know (addf, mulf, max, min).
TypedAttr identityOf(Operation *combine, FloatType type);

/// The combining op of a reduction's body, `combine(value, out)` yielded,
/// with `out` (the output's block argument) used by it alone, a known
/// combiner on 32- or 64-bit floats (what gpu.shuffle moves); or null.
Operation *combineOf(linalg::GenericOp op);

/// The value `combine` folds in: its operand that is not the output's block
/// argument.
Value reducedValue(linalg::GenericOp op, Operation *combine);

/// Creates a launch of `grid` blocks of (32, `warps`) threads, one warp per
/// row (`warps`: the host's constant `warpsPerBlock`), and leaves `b`
/// inside it under `if (row < rows)` (the whole warp shares the row, so
/// every lane of a live warp takes part in the shuffles). `rows` builds the
/// row count inside the kernel.
struct WarpPerRowLaunch {
  Value lane;
  Value row;
};
WarpPerRowLaunch createWarpPerRowLaunch(OpBuilder &b, Location loc, Value grid,
                                        Value warps, int64_t warpsPerBlock,
                                        function_ref<Value(OpBuilder &)> rows);

/// The indices of `row` over row dimensions of `sizes`, row-major.
SmallVector<Value> delinearizeRow(OpBuilder &b, Location loc, Value row,
                                  ArrayRef<Value> sizes);

/// A butterfly over the warp: for offsets 16, 8, .., 1 every value of
/// `values` is exchanged with the lane `offset` away (gpu.shuffle xor) and
/// `merge(totals, others)` folds the other lane's values into `totals`.
/// Returns the totals every lane then holds.
SmallVector<Value>
butterfly(OpBuilder &b, Location loc, ValueRange values,
          function_ref<void(MutableArrayRef<Value>, ArrayRef<Value>)> merge);

} // namespace tp
} // namespace mlir

#endif // TP_LIB_TARGET_GPU_WARPPERROW_H
