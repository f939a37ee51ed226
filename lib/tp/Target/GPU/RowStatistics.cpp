//===- RowStatistics.cpp - numerically robust per-row statistics ----------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "RowStatistics.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::tp;

namespace {

Value constantOf(OpBuilder &b, Location loc, Type type, double value) {
  return arith::ConstantOp::create(b, loc, FloatAttr::get(type, value));
}

Value negativeInfinity(OpBuilder &b, Location loc, FloatType type) {
  return arith::ConstantOp::create(
      b, loc,
      FloatAttr::get(type, llvm::APFloat::getInf(type.getFloatSemantics(),
                                                 /*Negative=*/true)));
}

/// exp(x - reference), 0 for x = -inf (also when the reference is -inf,
/// where x - reference would be NaN).
Value scaledExp(OpBuilder &b, Location loc, Value x, Value reference) {
  auto type = cast<FloatType>(x.getType());
  Value ninf = negativeInfinity(b, loc, type);
  Value isEmpty =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, x, ninf);
  Value diff = arith::SubFOp::create(b, loc, x, reference);
  Value e = math::ExpOp::create(b, loc, diff);
  Value zero = constantOf(b, loc, type, 0.0);
  return arith::SelectOp::create(b, loc, isEmpty, zero, e);
}

} // namespace

Moments mlir::tp::emptyMoments(OpBuilder &b, Location loc, FloatType type) {
  Value zero = constantOf(b, loc, type, 0.0);
  return {zero, zero, zero};
}

Moments mlir::tp::addChunkToMoments(OpBuilder &b, Location loc, Moments acc,
                                    ArrayRef<Value> values) {
  assert(!values.empty() && "a chunk has at least one value");
  Type type = acc.mean.getType();
  auto w = static_cast<double>(values.size());
  // The chunk's mean and M2, exact up to rounding: two passes over values
  // already in registers.
  Value sum = values.front();
  for (Value v : values.drop_front())
    sum = arith::AddFOp::create(b, loc, sum, v);
  Value chunkMean =
      values.size() == 1
          ? sum
          : arith::MulFOp::create(b, loc, sum, constantOf(b, loc, type, 1 / w))
                .getResult();
  Value chunkM2;
  if (values.size() > 1)
    for (Value v : values) {
      Value d = arith::SubFOp::create(b, loc, v, chunkMean);
      Value d2 = arith::MulFOp::create(b, loc, d, d);
      chunkM2 = chunkM2 ? arith::AddFOp::create(b, loc, chunkM2, d2) : d2;
    }
  // Chan's merge with nb = w > 0 (so n > 0: no guard).
  Value nb = constantOf(b, loc, type, w);
  Value n = arith::AddFOp::create(b, loc, acc.count, nb);
  Value delta = arith::SubFOp::create(b, loc, chunkMean, acc.mean);
  Value f = arith::DivFOp::create(b, loc, nb, n);
  // (Operands built one statement at a time: a fixed order of ops.)
  Value step = arith::MulFOp::create(b, loc, delta, f);
  Value mean = arith::AddFOp::create(b, loc, acc.mean, step);
  Value delta2 = arith::MulFOp::create(b, loc, delta, delta);
  Value weight = arith::MulFOp::create(b, loc, acc.count, f);
  Value cross = arith::MulFOp::create(b, loc, delta2, weight);
  Value m2 = arith::AddFOp::create(b, loc, acc.m2, cross);
  if (chunkM2)
    m2 = arith::AddFOp::create(b, loc, m2, chunkM2);
  return {n, mean, m2};
}

Moments mlir::tp::mergeMoments(OpBuilder &b, Location loc, Moments x,
                               Moments y) {
  Type type = x.mean.getType();
  Value zero = constantOf(b, loc, type, 0.0);
  Value n = arith::AddFOp::create(b, loc, x.count, y.count);
  Value any = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, n, zero);
  // nb / n, or 0 for two empty sets.
  Value ratio = arith::DivFOp::create(b, loc, y.count, n);
  Value f = arith::SelectOp::create(b, loc, any, ratio, zero);
  Value delta = arith::SubFOp::create(b, loc, y.mean, x.mean);
  Value step = arith::MulFOp::create(b, loc, delta, f);
  Value mean = arith::AddFOp::create(b, loc, x.mean, step);
  Value delta2 = arith::MulFOp::create(b, loc, delta, delta);
  Value weight = arith::MulFOp::create(b, loc, x.count, f);
  Value cross = arith::MulFOp::create(b, loc, delta2, weight);
  Value both = arith::AddFOp::create(b, loc, x.m2, y.m2);
  Value m2 = arith::AddFOp::create(b, loc, both, cross);
  return {n, mean, m2};
}

Value mlir::tp::sumOfSquaredDeviations(OpBuilder &b, Location loc, Moments acc,
                                       Value m) {
  Value d = arith::SubFOp::create(b, loc, acc.mean, m);
  Value d2 = arith::MulFOp::create(b, loc, d, d);
  Value shift = arith::MulFOp::create(b, loc, acc.count, d2);
  return arith::AddFOp::create(b, loc, acc.m2, shift);
}

ExpSum mlir::tp::emptyExpSum(OpBuilder &b, Location loc, FloatType type) {
  return {negativeInfinity(b, loc, type), constantOf(b, loc, type, 0.0)};
}

ExpSum mlir::tp::addChunkToExpSum(OpBuilder &b, Location loc, ExpSum acc,
                                  ArrayRef<Value> values) {
  Value largest = acc.reference;
  for (Value v : values)
    largest = arith::MaximumFOp::create(b, loc, largest, v);
  // One exp to rescale the old sum, one per value: not two per value.
  Value rescale = scaledExp(b, loc, acc.reference, largest);
  Value sum = arith::MulFOp::create(b, loc, acc.sum, rescale);
  for (Value v : values) {
    Value term = scaledExp(b, loc, v, largest);
    sum = arith::AddFOp::create(b, loc, sum, term);
  }
  return {largest, sum};
}

ExpSum mlir::tp::mergeExpSums(OpBuilder &b, Location loc, ExpSum x, ExpSum y) {
  Value reference = arith::MaximumFOp::create(b, loc, x.reference, y.reference);
  Value xScale = scaledExp(b, loc, x.reference, reference);
  Value xSum = arith::MulFOp::create(b, loc, x.sum, xScale);
  Value yScale = scaledExp(b, loc, y.reference, reference);
  Value ySum = arith::MulFOp::create(b, loc, y.sum, yScale);
  Value sum = arith::AddFOp::create(b, loc, xSum, ySum);
  return {reference, sum};
}

Value mlir::tp::finishExpSum(OpBuilder &b, Location loc, ExpSum acc, Value m) {
  Value scale = scaledExp(b, loc, acc.reference, m);
  return arith::MulFOp::create(b, loc, acc.sum, scale);
}
