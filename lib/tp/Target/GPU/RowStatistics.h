//===- RowStatistics.h - numerically robust per-row statistics -*- C++ -*-===//
//
// Part of tp-mlir.
//
// The arithmetic of the statistics a warp-per-row kernel accumulates in
// registers and merges across its lanes, in forms that stay accurate where
// the textbook ones do not:
//
// - moments (count, mean, M2 = sum of squared deviations from the mean),
//   accumulated chunk by chunk and merged with Chan et al.'s parallel form
//   of Welford's update, for a sum of squared deviations sum((a - m)^2)
//   without the cancellation of sum(a^2) - 2 m sum(a) + n m^2 when
//   |mean| >> std;
// - a sum of exponentials sum(exp(a - m)) for an m not known while the row is
//   read (softmax's max): a running reference r (the largest a seen) and
//   s = sum(exp(a - r)), rescaled when r grows and merged as the online
//   softmax does; finished as s * exp(r - m).
//
// The kernels (tp-gpu-map-row-groups) and the CPU test of the formulas
// (tp-gpu-test-row-statistics) build the same IR through these functions.
//
//===----------------------------------------------------------------------===//

#ifndef TP_LIB_TARGET_GPU_ROWSTATISTICS_H
#define TP_LIB_TARGET_GPU_ROWSTATISTICS_H

#include "mlir/IR/Builders.h"

namespace mlir {
namespace tp {

/// Count, mean and M2 (sum of squared deviations from the mean) of a set of
/// values, all of one float type.
struct Moments {
  Value count, mean, m2;
};

/// The moments of no values.
Moments emptyMoments(OpBuilder &b, Location loc, FloatType type);

/// `acc` with `values` (one chunk, at least one value) added: the chunk's
/// own mean and M2 computed exactly in registers, then merged into `acc`.
Moments addChunkToMoments(OpBuilder &b, Location loc, Moments acc,
                          ArrayRef<Value> values);

/// Chan's merge of two sets: n = na + nb, d = mean_b - mean_a,
/// mean = mean_a + d nb / n, M2 = M2_a + M2_b + d^2 na nb / n; two empty
/// sets give an empty one (no 0 / 0).
Moments mergeMoments(OpBuilder &b, Location loc, Moments x, Moments y);

/// sum((a - m)^2) over the values = M2 + n (mean - m)^2.
Value sumOfSquaredDeviations(OpBuilder &b, Location loc, Moments acc, Value m);

/// A running sum of exponentials: `sum` = sum(exp(a - reference)) over the
/// values so far, `reference` their largest (-inf for none).
struct ExpSum {
  Value reference, sum;
};

ExpSum emptyExpSum(OpBuilder &b, Location loc, FloatType type);

/// `acc` with exp of each of `values` added: the reference moves to the
/// chunk's largest value if that is larger, and the old sum is rescaled.
ExpSum addChunkToExpSum(OpBuilder &b, Location loc, ExpSum acc,
                        ArrayRef<Value> values);

/// Two running sums as one: r = max(rx, ry), s = sx exp(rx - r) +
/// sy exp(ry - r) (a sum whose reference is -inf contributes 0).
ExpSum mergeExpSums(OpBuilder &b, Location loc, ExpSum x, ExpSum y);

/// sum(exp(a - m)) = sum * exp(reference - m) (0 when there were no values).
Value finishExpSum(OpBuilder &b, Location loc, ExpSum acc, Value m);

} // namespace tp
} // namespace mlir

#endif // TP_LIB_TARGET_GPU_ROWSTATISTICS_H
