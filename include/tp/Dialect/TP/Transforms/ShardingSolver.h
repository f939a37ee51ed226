//===- ShardingSolver.h - choose a sharding for every value -----*- C++ -*-===//
//
// Part of tp-mlir.
//
// Given a function and the tensor-parallel group size, chooses one sharding
// option for every op (and a sharding for every argument) so that the total
// cost (communication between ops plus memory per rank) is low. Ops the user
// annotated with `tp.parallel` keep the annotated option; the solver fills in
// the rest by local improvement sweeps from an all-replicated start.
//
// Cost model (what `tp-plan` reports too): a collective on a tensor of B bytes
// over p ranks costs `alpha + f * B` with the ring algorithm's traffic per
// rank, f = (p-1)/p for all_gather and reduce_scatter and 2(p-1)/p for
// all_reduce; alpha stands for the latency of one collective. Holding a tensor
// costs `beta * B` per rank (B/p when split). Slicing a replicated tensor is
// free but not zero (so a producer prefers to make the slice itself).
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_TRANSFORMS_SHARDINGSOLVER_H
#define TP_DIALECT_TP_TRANSFORMS_SHARDINGSOLVER_H

#include "tp/Dialect/TP/IR/ShardingInterface.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

namespace mlir {
namespace tp {

/// Communication and memory costs, in bytes.
struct CostModel {
  /// Latency of one collective, in byte-equivalents (about 10 us at 100 GB/s).
  double alpha = 1.0e6;
  /// Weight of the bytes a rank holds, relative to bytes communicated.
  double beta = 1.0e-3;
  /// Cost of taking a local slice of a replicated tensor.
  double slice = 1.0e-2;

  static double getBytes(Type type);
  /// Cost of turning a value of `type` held as `from` into `to` on `p` ranks.
  double reshard(ShardingAttr from, ShardingAttr to, Type type,
                 int64_t p) const;
  /// Cost of holding a value of `type` as `sharding` on each of `p` ranks.
  double memory(ShardingAttr sharding, Type type, int64_t p) const;
};

/// Which collective (if any) turns `from` into `to`, for reports.
llvm::StringRef getReshardName(ShardingAttr from, ShardingAttr to);

/// Why an option cannot be used at a tp size: the first split it asks for on
/// a dimension that is dynamic or not divisible.
struct Infeasibility {
  Value value;        ///< the operand, result or captured tensor
  std::string what;   ///< "operand #1", "result #0", "a captured tensor"
  int64_t dim = -1;
  int64_t size = 0;   ///< ShapedType::kDynamic for a dynamic size
  /// For a segmented split: the segment that does not divide (its size is
  /// `size`), or -1.
  int64_t segment = -1;
  /// For a split in whole units (`granule`), the unit, else 1.
  int64_t granule = 1;
  std::string message() const;
};

/// Returns std::nullopt if every split of `option` on `op` divides evenly by
/// `tpSize` (or, with `allowPadding` and a paddable option, is static). Every
/// segment of a segmented split must divide evenly (they are never padded).
std::optional<Infeasibility> checkFeasible(const ShardingOption &option,
                                           Operation *op, int64_t tpSize,
                                           bool allowPadding = false);

class ShardingSolver {
public:
  /// With `replicateUneven`, an annotated op whose split does not divide
  /// evenly runs replicated (with a remark) instead of failing; with
  /// `allowPadding`, such splits are padded (uneven=pad).
  ShardingSolver(func::FuncOp func, int64_t tpSize, CostModel model = {},
                 bool replicateUneven = false, bool allowPadding = false);

  /// Collects the options of every op and applies the annotations. Emits a
  /// diagnostic and fails on an invalid annotation.
  LogicalResult initialize();
  /// Improves the unfixed choices until nothing changes.
  void solve();

  /// The option chosen for `op`, or null for ops the solver does not track
  /// (scalar ops) and for ops without a sharding rule (they run replicated).
  const ShardingOption *getChosenOption(Operation *op) const;
  /// True if `op` has tensor operands or results but no sharding rule.
  bool isUnknown(Operation *op) const { return unknownOps.contains(op); }
  /// True if the user's annotation fixed `op`'s option.
  bool isAnnotated(Operation *op) const;
  /// True if `op` has a column, row or vocab form (a matmul-like op or an
  /// embedding lookup).
  bool isWeightOpLike(Operation *op) const { return weightLike.contains(op); }
  /// The sharding `value` has in the solution (replicated if untracked).
  ShardingAttr getSharding(Value value) const;
  /// The sharding the user of `use` requires for it.
  ShardingAttr getDemand(OpOperand &use) const;
  /// Total cost of the current solution.
  double getTotalCost() const;

  int64_t getTPSize() const { return tpSize; }
  const CostModel &getCostModel() const { return model; }

private:
  struct OpState {
    /// No inline storage: the table has a slot per op and an option is
    /// large; the list is allocated once, at its final size.
    SmallVector<ShardingOption, 0> options;
    unsigned chosen = 0;
    bool fixed = false;
  };

  double optionCost(Operation *op, const ShardingOption &option) const;
  /// Picks, for every op in order, the option that needs the least
  /// resharding of its operands: a good start for the improvement sweeps.
  void propagateForward();
  double argumentCost(BlockArgument arg, ShardingAttr sharding) const;
  /// What moving `value`, held as `sharding`, to its users costs: one
  /// collective per distinct sharding they want.
  double usesCost(Value value, ShardingAttr sharding) const;
  bool improveOp(Operation *op);
  bool improveArgument(BlockArgument arg);

  func::FuncOp func;
  Block *body;
  int64_t tpSize;
  CostModel model;
  bool replicateUneven;
  bool allowPadding;
  llvm::DenseMap<Operation *, OpState> states;
  llvm::DenseSet<Operation *> unknownOps;
  llvm::DenseSet<Operation *> weightLike;
  SmallVector<Operation *> order;
  llvm::DenseMap<Value, ShardingAttr> argShardings;
  llvm::DenseMap<Value, SmallVector<ShardingAttr>> argCandidates;
};

} // namespace tp
} // namespace mlir

#endif // TP_DIALECT_TP_TRANSFORMS_SHARDINGSOLVER_H
