//===- CostModel.cpp - what a sharding costs, in bytes --------------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Analysis/CostModel.h"

#include "tp/Utils/StructuredOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

using namespace mlir;
using namespace mlir::tp;

double CostModel::getBytes(Type type) {
  auto shaped = dyn_cast<RankedTensorType>(type);
  if (!shaped) {
    auto memref = dyn_cast<MemRefType>(type);
    if (!memref)
      return 0;
    return getBytes(
        RankedTensorType::get(memref.getShape(), memref.getElementType()));
  }
  double elements = 1;
  for (int64_t size : shaped.getShape())
    elements *= ShapedType::isDynamic(size) ? 1024.0 : double(size);
  Type element = shaped.getElementType();
  // Index elements are counted at 64 bits (their width is chosen when
  // lowering; 64 is the default); getIntOrFloatBitWidth has none for them.
  unsigned bits = element.isIntOrFloat() ? element.getIntOrFloatBitWidth() : 64;
  return elements * std::max(1u, bits / 8);
}

double CostModel::getFlops(Operation *op) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp)
    return 0;
  double flops = 2;
  for (int64_t size : getStaticLoopSizes(linalgOp)) {
    if (ShapedType::isDynamic(size))
      return 0;
    flops *= double(size);
  }
  return flops;
}

/// The fraction of a value of `type` one rank holds as `sharding`.
static double getLocalFraction(Type type, ShardingAttr sharding, int64_t p) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || !sharding || !sharding.isSplit() || !tensor.hasStaticShape())
    return 1.0;
  int64_t dim = sharding.getDim();
  if (dim >= tensor.getRank() || tensor.getDimSize(dim) == 0)
    return 1.0;
  int64_t local = getLocalDimSize(tensor, sharding, p);
  return double(local) / double(tensor.getDimSize(dim));
}

double CostModel::getLocalWorkFraction(Operation *op,
                                       const ShardingOption &option,
                                       int64_t p) {
  double fraction = 1.0;
  for (auto [value, sharding] : llvm::zip(op->getOperands(), option.operands))
    fraction =
        std::min(fraction, getLocalFraction(value.getType(), sharding, p));
  for (auto [value, sharding] : llvm::zip(op->getResults(), option.results))
    fraction =
        std::min(fraction, getLocalFraction(value.getType(), sharding, p));
  return fraction;
}

double CostModel::reshard(ShardingAttr from, ShardingAttr to, Type type,
                          int64_t p) const {
  if (from == to || p == 1)
    return 0;
  double bytes = getBytes(type);
  double ring = double(p - 1) / double(p) * bytes;
  if (to.isPartial())
    return kInfeasible; // Nothing asks for a partial value.
  if (from.isReplicated())
    return slice; // to split
  if (from.isSplit())
    return alpha + ring + (to.isSplit() ? slice : 0.0);
  // from partial
  if (to.isReplicated())
    return alpha + 2 * ring;
  return alpha + ring; // reduce_scatter
}

double CostModel::reshardReducingWhole(ShardingAttr from, ShardingAttr to,
                                       Type type, int64_t p) const {
  if (from && from.isPartial() && to.isSplit())
    return reshard(from, ShardingAttr::getReplicated(to.getContext()), type,
                   p) +
           slice;
  return reshard(from, to, type, p);
}

double CostModel::memory(ShardingAttr sharding, Type type, int64_t p) const {
  double bytes = getBytes(type);
  if (sharding && sharding.isSegmented()) {
    // The fraction of the split dimension one rank holds.
    int64_t total = 0, local = 0;
    for (int64_t i = 0, e = sharding.getSegments().size(); i < e; ++i) {
      total += sharding.getSegments()[i];
      local += sharding.getLocalSegmentSize(i, p);
    }
    bytes = bytes * double(local) / double(total);
  } else if (sharding && sharding.isSplit()) {
    bytes /= double(p);
  }
  return beta * bytes;
}

StringRef mlir::tp::getReshardName(ShardingAttr from, ShardingAttr to) {
  if (from == to)
    return "";
  if (from.isReplicated())
    return to.isSplit() ? "all_slice" : "invalid";
  if (from.isSplit())
    return to.isReplicated() ? "all_gather" : "all_gather+all_slice";
  if (to.isReplicated())
    return "all_reduce";
  return to.isSplit() ? "reduce_scatter" : "invalid";
}
