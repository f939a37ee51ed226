//===- ShardingSolver.h - choose a sharding for every value -----*- C++ -*-===//
//
// Part of tp-mlir.
//
// Given the sharding problem of a function (ShardingProblem.h: every op's
// options, their feasibility, the annotations), chooses one option for every
// op and a sharding for every argument so that the total cost of the one
// CostModel (communication between ops, memory per rank, compute per rank)
// is low. Ops the user annotated with `tp.parallel` keep the annotated
// option; the solver fills in the rest by local improvement sweeps from a
// start that a forward pass in program order picks.
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_ANALYSIS_SHARDINGSOLVER_H
#define TP_DIALECT_TP_ANALYSIS_SHARDINGSOLVER_H

#include "tp/Dialect/TP/Analysis/ShardingProblem.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"

namespace mlir {
namespace tp {

struct SolverOptions {
  /// Sequence parallelism (Megatron-SP): after the solve, every all_reduce
  /// whose value goes on through token-wise ops becomes a reduce_scatter over
  /// the token dimension, and those ops run on token shards until an op
  /// needs the whole activation (an all_gather there).
  bool sequenceParallel = false;
  /// Results come back in the distribution their value has (partial ones
  /// reduced): the return takes any non-partial sharding at no cost. With
  /// sequenceParallel too, the step's activations cross its boundary as
  /// token shards, as between Megatron-SP blocks: activation arguments (not
  /// parameters) arrive as their token shard, and a partial activation
  /// result leaves reduce-scattered over its tokens.
  bool shardedResults = false;
};

class ShardingSolver {
public:
  /// With the problem's uneven=replicate, an annotated op whose split does
  /// not divide evenly runs replicated (with a remark) instead of failing.
  explicit ShardingSolver(const ShardingProblem &problem,
                          SolverOptions options = {});

  /// Applies the annotations. Emits a diagnostic and fails on an invalid
  /// annotation.
  LogicalResult initialize();
  /// Improves the unfixed choices until nothing changes.
  void solve();

  /// The option chosen for `op`, or null for ops the solver does not track
  /// (scalar ops) and for ops without a sharding rule (they run replicated).
  const ShardingOption *getChosenOption(Operation *op) const;
  /// True if `op` has tensor operands or results but no sharding rule.
  bool isUnknown(Operation *op) const {
    return problem.contains(op) && problem.isUnknown(op);
  }
  /// True if the user's annotation fixed `op`'s option.
  bool isAnnotated(Operation *op) const;
  /// True if `op` has a column, row or vocab form (a matmul-like op or an
  /// embedding lookup).
  bool isWeightOpLike(Operation *op) const {
    return problem.contains(op) && problem.isWeightOpLike(op);
  }
  /// The sharding `value` has in the solution (replicated if untracked).
  ShardingAttr getSharding(Value value) const;
  /// The sharding the user of `use` requires for it.
  ShardingAttr getDemand(OpOperand &use) const;
  /// What the function's result `index`, when its value is partial, is
  /// reduced to: its token split at a sequence-parallel boundary (see
  /// SolverOptions::shardedResults), otherwise whole. Indexed by position:
  /// valid while and after the partitioner rewrites the body.
  ShardingAttr getPartialResultSharding(unsigned index) const;
  /// Total cost of the current solution.
  double getTotalCost() const;

  int64_t getTPSize() const { return tpSize; }
  const CostModel &getCostModel() const { return model; }
  const ShardingProblem &getProblem() const { return problem; }

private:
  struct OpState {
    /// The problem's options of the op (held here: getSharding and
    /// getDemand run on every cost evaluation, one table lookup each); null
    /// for an op the solver does not track (no feasible option: it runs
    /// replicated).
    const ShardingOption *options = nullptr;
    /// Positions in `options` of the ones this op may take.
    SmallVector<unsigned, 4> candidates;
    unsigned chosen = 0;
    bool fixed = false;
  };

  static const ShardingOption &option(const OpState &state,
                                      unsigned candidate) {
    return state.options[state.candidates[candidate]];
  }
  const ShardingOption &option(Operation *op, unsigned candidate) const {
    return option(*findState(op), candidate);
  }
  /// The state of a top-level op the solver tracks, or null.
  OpState *findState(Operation *op) {
    std::optional<unsigned> index = problem.findIndex(op);
    return index && states[*index].options ? &states[*index] : nullptr;
  }
  const OpState *findState(Operation *op) const {
    return const_cast<ShardingSolver *>(this)->findState(op);
  }
  bool tracks(Operation *op) const { return findState(op) != nullptr; }
  /// Sequence parallelism, on the solved choices (see SolverOptions).
  void applySequenceParallel();
  /// The moved ops and token shards applySequenceParallel's steps share.
  struct TokenGrowth;
  /// Step 1: the users that reduce the partial `result` whole move to token
  /// options together, when each has one (the return takes it as token
  /// shards at a sequence-parallel boundary).
  void seedTokenShards(TokenGrowth &growth, Value result);
  /// Step 2, in program order: every queued user of a token shard that can
  /// keep it moves too, and its users are queued.
  void growTokenShards(TokenGrowth &growth);
  /// The option that puts `op` on token shards: it keeps every split
  /// operand as it is and reads a token shard (`tokenShards`) or scatters a
  /// partial operand over its tokens, with no other communication.
  std::optional<unsigned>
  findTokenOption(Operation *op,
                  const llvm::DenseSet<Value> &tokenShards) const;
  /// With shardedResults, makes the step's boundary sequence parallel:
  /// replicated activation arguments with a token dimension become token
  /// shards (added to `tokenShards`, fixed against the final settling).
  void shardBoundaryArguments(llvm::DenseSet<Value> &tokenShards);
  /// With shardedResults, the dimension a partial result `value` is
  /// reduce-scattered over at the return (its token dimension), if any.
  std::optional<int64_t> getResultScatterDim(Value value) const;
  /// The sharding the return takes its operand `index` in: whole, or with
  /// shardedResults its value's own (partial values as above).
  ShardingAttr getResultSharding(unsigned index) const;
  /// Puts back the ops at the region's edge whose token shard inputs are
  /// gathered anyway for whole users outside it (`previous`: each moved
  /// op's choice before).
  void pruneTokenShards(llvm::DenseMap<Operation *, unsigned> &previous,
                        llvm::DenseSet<Value> &tokenShards);
  /// Fixes `op` to what its annotation asks for, or reports why it cannot.
  LogicalResult applyAnnotation(Operation *op, const AnnotationMatch &match,
                                OpState &state);
  /// The cost of `op` (at `index` in the problem) taking `option`.
  double optionCost(unsigned index, Operation *op,
                    const ShardingOption &option) const;
  /// Picks, for every op in order, the option that needs the least
  /// resharding of its operands: a good start for the improvement sweeps.
  void propagateForward();
  /// Before propagateForward: an argument that an annotated (or planned) op
  /// reads split, directly or through views and transposes, starts split
  /// that way (a weight whose other users, the backward's weight gradient
  /// and its update, could only follow it together).
  void seedArguments();
  double argumentCost(BlockArgument arg, ShardingAttr sharding) const;

  /// The body's values and their uses by op index, read once from the IR
  /// when the solver starts (buildGraph): costing an option reads its
  /// neighbours' choices through these arrays rather than through the IR's
  /// use lists and defining ops, which a large model's IR spreads beyond
  /// the caches. A value of the body (an op's result or an argument) is a
  /// slot; the solver does not change the IR, so the graph stays valid.
  struct UseRef {
    enum Kind : uint8_t { Direct, Nested, Terminator, Outside };
    Kind kind = Outside;
    unsigned top = 0; ///< the top-level user's index
    unsigned operandNumber = 0; ///< the use's operand (Direct, Terminator)
  };
  struct OperandRef {
    Value value;
    Type type;
    int defIndex = -1; ///< the defining op's index; -1 for an argument
    unsigned slot = 0;
  };
  void buildGraph();
  ArrayRef<OperandRef> getOperandRefs(unsigned index) const {
    return ArrayRef<OperandRef>(operandRefs)
        .slice(firstOperandRef[index],
               firstOperandRef[index + 1] - firstOperandRef[index]);
  }
  ArrayRef<UseRef> getUseRefs(unsigned slot) const {
    return ArrayRef<UseRef>(useRefs).slice(
        firstUseRef[slot], firstUseRef[slot + 1] - firstUseRef[slot]);
  }
  /// The option chosen for the op at `index`, or null.
  const ShardingOption *getChosenAt(unsigned index) const {
    const OpState &state = states[index];
    if (!state.options || state.candidates.empty())
      return nullptr;
    return &option(state, state.chosen);
  }
  /// How an operand's value is held now (getSharding, from the graph).
  ShardingAttr getShardingOf(const OperandRef &operand) const {
    if (operand.defIndex < 0)
      return getSharding(operand.value);
    const ShardingOption *def = getChosenAt(operand.defIndex);
    return def ? def->results[operand.slot - firstResultSlot[operand.defIndex]]
               : replicated;
  }
  /// Where `use` is: a direct operand of a top-level op, inside one's
  /// regions, the return's, or outside the problem.
  UseRef classifyUse(OpOperand &use) const;
  /// The sharding a use of `value`, as classified, requires.
  ShardingAttr getDemand(const UseRef &use, Value value) const;
  /// What moving `value` (slot `slot`), held as `sharding`, to its users
  /// costs: one collective per distinct sharding they want.
  double usesCost(unsigned slot, Value value, ShardingAttr sharding) const;
  /// True if a user of `value` (slot `slot`) other than the op at `index`
  /// already wants it as `sharding` from another sharding (`have`): the
  /// collective that moves it is there anyway (one per value and target
  /// sharding), and the op shares it.
  bool isDemandedElsewhere(unsigned slot, Value value, ShardingAttr have,
                           unsigned index, ShardingAttr sharding) const;
  bool improveOp(Operation *op);
  bool improveArgument(BlockArgument arg);

  const ShardingProblem &problem;
  SolverOptions options;
  Block *body;
  int64_t tpSize;
  const CostModel &model;
  /// The replicated sharding, uniqued once (every unplanned value's).
  ShardingAttr replicated;
  /// Per op of the problem, at its index (ShardingProblem::getOps()).
  SmallVector<OpState, 0> states;
  /// The graph (buildGraph): each op's operands from firstOperandRef[i];
  /// slot s's uses from firstUseRef[s]; op i's results are the slots from
  /// firstResultSlot[i], the arguments those from argumentSlots.
  SmallVector<unsigned, 0> firstOperandRef;
  SmallVector<OperandRef, 0> operandRefs;
  SmallVector<unsigned, 0> firstResultSlot;
  unsigned argumentSlots = 0;
  SmallVector<unsigned, 0> firstUseRef;
  SmallVector<UseRef, 0> useRefs;
  llvm::DenseMap<Value, ShardingAttr> argShardings;
  /// Arguments whose sharding a policy fixed (sequence-parallel boundary).
  llvm::DenseSet<Value> fixedArguments;
  /// Results (by index) the return takes reduce-scattered over their tokens
  /// (sequence-parallel boundary), instead of whole.
  llvm::DenseMap<unsigned, ShardingAttr> resultScatters;
};

} // namespace tp
} // namespace mlir

#endif // TP_DIALECT_TP_ANALYSIS_SHARDINGSOLVER_H
