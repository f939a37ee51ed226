//===- Planner.h - choose column/row/replicated for every weight -*- C++
//-*-===//
//
// Part of tp-mlir.
//
// The planner finds, on a function without annotations, the plan Megatron-LM's
// authors found by hand, and writes it as `tp.parallel` annotations (with a
// `tp.plan_reason` explaining each) that tp-partition consumes:
//
//  * splits start at weight ops: matmul-like ops with a parameter operand (a
//    function argument or constant reached without another contraction) and
//    embedding lookups of a parameter table;
//  * one forward pass in program order predicts every value's sharding: an op
//    keeps the sharding of its split operands when it can (elementwise ops,
//    reductions along other dimensions, reshapes that keep heads whole,
//    attention's batched matmuls), and a partial value is reduced first;
//  * a weight matmul whose activation arrives split along its contraction
//    dimension is "row" (one all_reduce after it);
//  * one whose activation arrives whole is "column" if a look-ahead shows its
//    split reaching a row layer (or the function's result) without an
//    all_gather; otherwise it stays "replicated" (this is how K/V projections
//    with fewer KV heads than ranks stay whole, and their heads are sliced
//    locally);
//  * an embedding lookup of a parameter table is "vocab" (vocabulary-parallel:
//    a masked local lookup and one all_reduce);
//  * a weight smaller than `minWeightFraction` of the largest weight whose
//    matmul reads the same input (through views) stays replicated (an MoE
//    router next to the experts it routes to; never a K/V projection because
//    of an LM head elsewhere in the program), and so does a
//    column layer whose split (with its row partner) saves fewer weight bytes
//    per rank than `minSavingsRatio` times the bytes its all_reduce (or the
//    result's all_gather) moves per step, ring algorithm, where the FLOPs
//    the split takes off each rank (compute balance: with padding a rank
//    computes more than 1/p) count as `flopsPerByte` FLOPs per byte: the
//    cost model says the memory and compute are not worth the communication;
//  * a dimension that would be split but is not divisible by the tp size is
//    an error by default (naming the value, dimension, size and tp size);
//    `uneven=replicate` keeps that weight replicated instead, `uneven=pad`
//    splits it into ceil(size / tp-size) per rank with zero padding (not
//    through reshapes or slices). A dimension smaller than the tp size
//    (fewer KV heads than ranks) is never an error: the weight stays
//    replicated.
//
// User annotations always win.
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_ANALYSIS_PLANNER_H
#define TP_DIALECT_TP_ANALYSIS_PLANNER_H

#include "tp/Dialect/TP/Analysis/Options.h"
#include "tp/Dialect/TP/Analysis/ShardingProblem.h"
#include "tp/Dialect/TP/Interfaces/ShardingInterface.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir {
namespace tp {

struct PlannerOptions {
  int64_t tpSize = 2;
  UnevenPolicy uneven = UnevenPolicy::Error;
  /// Weights below this fraction of the largest weight read from the same
  /// input stay replicated.
  double minWeightFraction = 0.01;
  /// A column layer (with its row partner) is split only if the weight bytes
  /// it saves per rank are at least this many times the bytes its collective
  /// moves per step.
  double minSavingsRatio = 1.0;
  /// FLOPs a rank computes in the time its link moves one byte (an H100:
  /// ~990 TFLOP/s dense bf16 against ~450 GB/s of NVLink per direction,
  /// about 2000). The cost check counts the FLOPs a split saves each rank
  /// as FLOPs / flopsPerByte bytes, next to the weight bytes it saves.
  double flopsPerByte = 2000.0;
};

/// Plans `func` and writes `tp.parallel` / `tp.plan_reason` annotations on
/// its weight ops. Fails with a diagnostic (e.g. an uneven dimension under
/// the error policy).
LogicalResult planFunction(func::FuncOp func, const PlannerOptions &options);
/// The same on a sharding problem of `func` built already (at the options'
/// tp size and uneven policy, with getPlannerCostModel's costs).
LogicalResult planFunction(func::FuncOp func, const PlannerOptions &options,
                           const ShardingProblem &problem);
/// The cost model the planner weighs its choices with.
CostModel getPlannerCostModel(const PlannerOptions &options);

} // namespace tp
} // namespace mlir

#endif // TP_DIALECT_TP_ANALYSIS_PLANNER_H
