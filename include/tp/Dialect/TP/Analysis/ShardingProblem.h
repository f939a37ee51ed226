//===- ShardingProblem.h - every op's ways to run on tp ranks ---*- C++ -*-===//
//
// Part of tp-mlir.
//
// The sharding problem of one function at one tp size, built once and read
// by both engines that choose: the Planner (which decides column / row /
// vocab / replicated for the weight ops and writes annotations) and the
// ShardingSolver (which picks a sharding for every value, honouring them).
// It holds, per top-level op of the function body:
//
//  * its options: the structural ones of its sharding model
//    (ShardingOpInterface), then the segmented and granular variants that
//    SegmentedSplits derives (fused projections cut by slices, heads merged
//    with the batch, padded heads), the replicated option first;
//  * which of them are feasible at this tp size (every split divides, or is
//    padded under uneven=pad);
//  * whether it is weight-op-like (has a column, row or vocab form) and
//    whether it touches tensors without any usable rule ("unknown": it runs
//    replicated);
//  * what its `tp.parallel` / `tp.result_sharding` annotation asks for,
//    matched against the options (matchAnnotation);
//
// and, per function argument, the shardings worth trying. The costs of
// choices come from the one CostModel (CostModel.h).
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_ANALYSIS_SHARDINGPROBLEM_H
#define TP_DIALECT_TP_ANALYSIS_SHARDINGPROBLEM_H

#include "tp/Dialect/TP/Analysis/CostModel.h"
#include "tp/Dialect/TP/Analysis/Options.h"
#include "tp/Dialect/TP/Analysis/Parameters.h"
#include "tp/Dialect/TP/Interfaces/ShardingInterface.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

#include <memory>

namespace mlir {
namespace tp {

/// Why an option cannot be used at a tp size: the first split it asks for on
/// a dimension that is dynamic or not divisible.
struct Infeasibility {
  Value value;      ///< the operand, result or captured tensor
  std::string what; ///< "operand #1", "result #0", "a captured tensor"
  int64_t dim = -1;
  int64_t size = 0; ///< ShapedType::kDynamic for a dynamic size
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

/// An op's `tp.parallel` (and `tp.result_sharding`) matched against its
/// options. Only `Matched` gives a usable option; the other states say
/// which diagnostic the annotation deserves.
struct AnnotationMatch {
  enum class Status {
    None,         ///< not annotated
    NoRule,       ///< the op has no sharding model at all
    NoFeasible,   ///< it has one, but no option divides at this tp size
    Malformed,    ///< not one of the ParallelKind names
    NotWeightOp,  ///< neither matmul-like nor an embedding lookup
    NoResultForm, ///< the kind exists, not with that tp.result_sharding
    NoForm,       ///< the op has no form of that kind
    Infeasible,   ///< the form exists but does not divide (see `issue`)
    Matched,
  };
  Status status = Status::None;
  StringAttr annotation;
  ParallelKind kind = ParallelKind::Replicated;
  ShardingAttr resultSharding; ///< the tp.result_sharding asked for, if any
  bool isLookup = false;       ///< an embedding lookup (its kinds: vocab)
  /// The option asked for (Matched and Infeasible).
  const ShardingOption *option = nullptr;
  std::optional<Infeasibility> issue;
};

class ShardingProblem {
public:
  /// Collects the options of every top-level op of `func`'s body.
  ShardingProblem(func::FuncOp func, int64_t tpSize,
                  UnevenPolicy uneven = UnevenPolicy::Error,
                  CostModel model = {});

  func::FuncOp getFunction() const { return func; }
  Block *getBody() const { return body; }
  int64_t getTPSize() const { return tpSize; }
  UnevenPolicy getUnevenPolicy() const { return uneven; }
  bool allowsPadding() const { return uneven == UnevenPolicy::Pad; }
  const CostModel &getCostModel() const { return model; }

  /// The top-level ops of the body, in order.
  ArrayRef<Operation *> getOps() const { return order; }
  /// True for a top-level op of the body.
  bool contains(Operation *op) const { return indices.count(op); }
  /// The position of a top-level op in the body (in getOps()).
  unsigned getIndex(Operation *op) const { return *findIndex(op); }
  /// The same, or std::nullopt for an op that is not a top-level op.
  std::optional<unsigned> findIndex(Operation *op) const;

  /// Every option of `op`, the replicated one first; empty for ops without
  /// a sharding model.
  ArrayRef<ShardingOption> getOptions(Operation *op) const {
    return getOptionsAt(entry(op));
  }
  /// The positions in getOptions(op) of the feasible options.
  ArrayRef<unsigned> getFeasible(Operation *op) const {
    return getFeasibleAt(entry(op));
  }
  /// The same for the op at `index` in getOps().
  ArrayRef<ShardingOption> getOptionsAt(unsigned index) const {
    return getOptionsAt(entries[index]);
  }
  ArrayRef<unsigned> getFeasibleAt(unsigned index) const {
    return getFeasibleAt(entries[index]);
  }
  /// The first option of `kind` (a segmented variant comes before the plain
  /// split it derives from), among the feasible ones if `feasibleOnly`.
  const ShardingOption *findKind(Operation *op, ParallelKind kind,
                                 bool feasibleOnly) const;
  /// Why `option` of `op` is not feasible here, if it is not.
  std::optional<Infeasibility> checkFeasible(const ShardingOption &option,
                                             Operation *op) const {
    return tp::checkFeasible(option, op, tpSize, allowsPadding());
  }

  /// The model's compute cost of `op` under `option` (one of its options),
  /// computed once per option when the problem is built (a named op builds
  /// its indexing maps on every query).
  double getComputeCost(Operation *op, const ShardingOption &option) const {
    (void)op;
    assert(&option >= options.begin() && &option < options.end() &&
           "not an option of this problem");
    return compute[&option - options.data()];
  }

  /// True if `op` has a column, row or vocab form, feasible or not.
  bool isWeightOpLike(Operation *op) const { return entry(op).weightLike; }
  /// The same for the op at `index` in getOps().
  bool isWeightOpLikeAt(unsigned index) const {
    return entries[index].weightLike;
  }
  /// True if `op` touches tensors but has no feasible option: it runs
  /// replicated, whatever its neighbours do.
  bool isUnknown(Operation *op) const { return entry(op).unknown; }

  /// The activation side of a contraction (tp::getActivationOperand),
  /// asked once per weight-op-like op when the problem is built; any other
  /// op is asked directly.
  std::optional<unsigned> getActivationOperand(Operation *op) const;
  /// Which arguments of the function are parameters, decided once on these
  /// activation sides.
  const ParameterArguments &getParameters() const { return *parameters; }

  /// The shardings worth trying for a tensor argument of the body,
  /// replicated first.
  ArrayRef<ShardingAttr> getArgumentCandidates(BlockArgument arg) const;

  /// What `op`'s annotation asks for (Status::None if it has none).
  AnnotationMatch matchAnnotation(Operation *op) const;

  /// `value` wanted as `sharding` (split or replicated), followed back
  /// through the views and one-input parallel ops (transposes) that compute
  /// it: the value they start from (a parameter argument, for a weight read
  /// transposed) and the sharding it needs for them to produce `sharding`
  /// without moving data. Stops after a few ops, or where no option carries
  /// the sharding.
  std::pair<Value, ShardingAttr> traceToSource(Value value,
                                               ShardingAttr sharding) const;

private:
  /// An op's slices of the tables below.
  struct OpEntry {
    unsigned firstOption = 0, numOptions = 0;
    unsigned firstFeasible = 0, numFeasible = 0;
    int activation = -1; ///< a weight-like op's activation operand, or -1
    bool hasRule = false;
    bool weightLike = false;
    bool unknown = false;
  };

  const OpEntry &entry(Operation *op) const;
  ArrayRef<ShardingOption> getOptionsAt(const OpEntry &e) const {
    return ArrayRef<ShardingOption>(options).slice(e.firstOption, e.numOptions);
  }
  ArrayRef<unsigned> getFeasibleAt(const OpEntry &e) const {
    return ArrayRef<unsigned>(feasible).slice(e.firstFeasible, e.numFeasible);
  }
  MutableArrayRef<ShardingOption> optionsOf(const OpEntry &e) {
    return MutableArrayRef<ShardingOption>(options).slice(e.firstOption,
                                                          e.numOptions);
  }
  void collectOptions();
  void addVariants(const class SegmentedSplits &segments);
  void classify(Operation *op, OpEntry &e);
  void collectArgumentCandidates(const class SegmentedSplits &segments);

  func::FuncOp func;
  Block *body;
  int64_t tpSize;
  UnevenPolicy uneven;
  CostModel model;
  /// The annotations' names, interned once.
  StringAttr parallelName, resultShardingName;
  SmallVector<Operation *> order;
  /// Per op of `order`, at the same position (a map of small indices keeps
  /// the hashed part of a lookup small: the per-op tables of a 100-layer
  /// model outgrow the L2 cache).
  SmallVector<OpEntry, 0> entries;
  llvm::DenseMap<Operation *, unsigned> indices;
  // Every op's options, feasible positions and per-option compute costs, in
  // three tables that ops slice (a list per op was a heap allocation per op
  // and half of tp-plan's time, most of it in malloc and first-touch page
  // faults). Fixed once the constructor returns: ShardingOption pointers
  // into `options` stay valid for the problem's lifetime.
  SmallVector<ShardingOption, 0> options;
  SmallVector<unsigned, 0> feasible;
  /// Parallel to `options`; 0 for an op without FLOPs.
  SmallVector<double, 0> compute;
  llvm::DenseMap<Value, SmallVector<ShardingAttr, 4>> argCandidates;
  std::unique_ptr<ParameterArguments> parameters;
};

/// The sharding problem of a function as an analysis the pass manager keeps:
/// tp-plan builds it and preserves it (planning only adds annotations, which
/// the problem matches on demand), so a tp-partition right after it in the
/// same pipeline solves the same problem instead of building a second one.
/// Any pass that changes the function in between invalidates it.
class ShardingProblemAnalysis {
public:
  explicit ShardingProblemAnalysis(Operation *op);

  /// The problem of the function at these parameters: the kept one if it
  /// was built with them, a new one otherwise.
  const ShardingProblem &get(int64_t tpSize, UnevenPolicy uneven,
                             const CostModel &model);

private:
  func::FuncOp func;
  std::unique_ptr<ShardingProblem> problem;
};

} // namespace tp
} // namespace mlir

#endif // TP_DIALECT_TP_ANALYSIS_SHARDINGPROBLEM_H
