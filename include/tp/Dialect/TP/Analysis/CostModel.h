//===- CostModel.h - what a sharding costs, in bytes ------------*- C++ -*-===//
//
// Part of tp-mlir.
//
// The one cost model under the planner and the solver. Everything is counted
// in bytes moved per rank and step:
//
//  * a collective on a tensor of B bytes over p ranks costs `alpha + f * B`
//    with the ring algorithm's traffic per rank, f = (p-1)/p for all_gather
//    and reduce_scatter and 2(p-1)/p for all_reduce; alpha stands for the
//    latency of one collective;
//  * holding a tensor costs `beta * B` per rank (B/p when split);
//  * slicing a replicated tensor locally is free but not zero (`slice`), so
//    a producer prefers to make the slice itself;
//  * computing costs FLOPs / `flopsPerByte`: the bytes a link moves in the
//    time a rank computes them, so a split that takes FLOPs off every rank
//    is worth that much communication.
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_ANALYSIS_COSTMODEL_H
#define TP_DIALECT_TP_ANALYSIS_COSTMODEL_H

#include "tp/Dialect/TP/Interfaces/ShardingInterface.h"

#include <algorithm>

namespace mlir {
namespace tp {

struct CostModel {
  /// Latency of one collective, in byte-equivalents (about 10 us at 100 GB/s).
  double alpha = 1.0e6;
  /// Weight of the bytes a rank holds, relative to bytes communicated.
  double beta = 1.0e-3;
  /// Cost of taking a local slice of a replicated tensor.
  double slice = 1.0e-2;
  /// FLOPs a rank computes in the time its link moves one byte (an H100:
  /// ~990 TFLOP/s dense bf16 against ~450 GB/s of NVLink per direction,
  /// about 2000).
  double flopsPerByte = 2000.0;

  bool operator==(const CostModel &other) const {
    return alpha == other.alpha && beta == other.beta &&
           slice == other.slice && flopsPerByte == other.flopsPerByte;
  }

  /// Cost of something impossible (nothing asks for a partial value).
  static constexpr double kInfeasible = 1.0e30;

  /// Bytes of a tensor or memref (a dynamic dimension counts as 1024).
  static double getBytes(Type type);
  /// 2 * the product of the loop ranges of a linalg op (a multiply and an
  /// add per iteration of a contraction); 0 for other ops and dynamic ones.
  static double getFlops(Operation *op);
  /// The fraction of `op`'s iterations one rank runs under `option`: that of
  /// its most divided operand or result (a row split's operands hold 1/p of
  /// the contraction, a column split's result 1/p of the features).
  static double getLocalWorkFraction(Operation *op,
                                     const ShardingOption &option, int64_t p);

  /// Cost of turning a value of `type` held as `from` into `to` on `p` ranks.
  double reshard(ShardingAttr from, ShardingAttr to, Type type,
                 int64_t p) const;
  /// As reshard, but a partial value is reduced whole before it is split
  /// (Megatron's order): what a pass in program order assumes, since a
  /// reduce_scatter that is cheaper for one op leads into a reduce_scatter +
  /// all_gather pair for the next.
  double reshardReducingWhole(ShardingAttr from, ShardingAttr to, Type type,
                              int64_t p) const;
  /// Cost of holding a value of `type` as `sharding` on each of `p` ranks.
  double memory(ShardingAttr sharding, Type type, int64_t p) const;
  /// Cost of computing `fraction` of `flops`.
  double computeFromFlops(double flops, double fraction) const {
    return flops * fraction / std::max(flopsPerByte, 1e-9);
  }
};

/// Which collective (if any) turns `from` into `to`, for reports.
llvm::StringRef getReshardName(ShardingAttr from, ShardingAttr to);

} // namespace tp
} // namespace mlir

#endif // TP_DIALECT_TP_ANALYSIS_COSTMODEL_H
