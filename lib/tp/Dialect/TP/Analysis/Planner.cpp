//===- Planner.cpp - choose column/row/replicated for every weight --------===//
//
// Part of tp-mlir.
//
// See Planner.h for the rules. Everything here is one pass over the function
// plus a bounded look-ahead from each candidate column layer, so planning time
// grows linearly with the number of layers.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Analysis/Planner.h"
#include "tp/Dialect/TP/Analysis/Parameters.h"
#include "tp/Dialect/TP/Analysis/Report.h"
#include "tp/Dialect/TP/Analysis/ShardingProblem.h"
#include "tp/Dialect/TP/IR/TPOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/PriorityQueue.h"
#include "llvm/Support/Debug.h"
#include "llvm/Support/FormatVariadic.h"

#define DEBUG_TYPE "tp-plan"

using namespace mlir;
using namespace mlir::tp;

namespace {

/// A matmul with a parameter operand, or a lookup in a parameter table.
struct WeightOp {
  bool isGather = false;
  unsigned activation = 0; ///< operand index of the activation (matmuls)
  Value weight;
  int64_t weightBytes = 0;
};

struct Decision {
  ParallelKind kind = ParallelKind::Replicated;
  std::string reason;
  /// The chosen option when its kind has several (segmented column splits
  /// of a fused projection); null otherwise.
  const ShardingOption *option = nullptr;
};

/// Where a look-ahead from a column candidate stopped.
struct Lookahead {
  bool gathered = false;
  Operation *where = nullptr;               ///< the op that needs the gather
  std::optional<Infeasibility> unevenCause; ///< a split that would have kept it
  Operation *partner = nullptr;             ///< the row layer reached, if any
};

/// The costs a column split (with its row partner) is weighed by.
struct SplitCosts {
  double savedBytes = 0; ///< weight bytes a rank no longer holds
  double savedFlops = 0; ///< FLOPs taken off each rank
  double traffic = 0;    ///< bytes its collective moves per rank and step
  double localShare = 1; ///< the fraction of the work each rank computes
};

class Planner {
public:
  Planner(func::FuncOp func, const PlannerOptions &options,
          const ShardingProblem &problem)
      : func(func), body(&func.getBody().front()), options(options),
        p(options.tpSize), problem(problem),
        replicated(ShardingAttr::getReplicated(func.getContext())) {}

  LogicalResult run();

private:

  // Weight ops.
  bool isParameter(Value value);
  std::optional<WeightOp> matchWeightOp(Operation *op);
  void collectWeightOps();
  double siblingFraction(Operation *op, const WeightOp &weight) const;

  // The forward prediction of every value's sharding.
  ShardingAttr predictedOf(Value value) const {
    auto it = predicted.find(value);
    return it == predicted.end() ? replicated : it->second;
  }
  double reshardCost(ShardingAttr have, ShardingAttr want, Type type) const;
  template <typename LookupFn>
  const ShardingOption *choose(Operation *op, LookupFn lookup) const;
  void apply(Operation *op, const ShardingOption &option);
  void applyAnnotation(Operation *op);
  using Overlay = DenseMap<Value, ShardingAttr>;
  Lookahead lookahead(Operation *weightOp, const ShardingOption &column);
  bool reachesRow(Operation *op, const WeightOp &weight, const Overlay &overlay,
                  Lookahead &result) const;
  bool stopsAt(Operation *op, const ShardingOption *option,
               const Overlay &overlay, Lookahead &result) const;

  // Decisions.
  LogicalResult decide(Operation *op, const WeightOp &weight);
  LogicalResult decideMatmul(Operation *op, const WeightOp &weight);
  LogicalResult decideRow(Operation *op, const WeightOp &weight,
                          ShardingAttr in);
  LogicalResult decideColumn(Operation *op, const WeightOp &weight);
  const ShardingOption *findRowOnHeldWeight(Operation *op,
                                            const WeightOp &weight,
                                            Operation *&holder) const;
  void recordHeldWeight(Operation *op, const WeightOp &weight,
                        const ShardingOption &option);
  SplitCosts getSplitCosts(Operation *op, const WeightOp &weight,
                           const ShardingOption &column,
                           const Lookahead &ahead) const;
  std::string describeColumn(const ShardingOption &column,
                             const Lookahead &ahead, StringRef costs) const;
  LogicalResult decideGather(Operation *op, const WeightOp &weight);
  LogicalResult replicateUneven(Operation *op, const Infeasibility &issue,
                                Operation *where, StringRef form);
  void writeDecisions();
  bool padding() const { return options.uneven == UnevenPolicy::Pad; }

  func::FuncOp func;
  Block *body;
  PlannerOptions options;
  int64_t p;
  const ShardingProblem &problem;
  ShardingAttr replicated;
  DenseMap<Operation *, WeightOp> weightOps;
  DenseMap<Operation *, Decision> decisions;
  DenseMap<Value, ShardingAttr> predicted;
  DenseMap<Value, bool> parameterCache;
  /// The split each parameter is held in by the first weight op decided to
  /// read it split (a training step reads a weight in its forward matmul
  /// and again, maybe transposed, in the backward one), and that op.
  DenseMap<Value, std::pair<ShardingAttr, Operation *>> heldWeights;
  /// The largest weight among the weight matmuls reading each activation
  /// (a router next to the experts it routes to, K/V next to Q).
  DenseMap<Value, int64_t> largestSiblingBytes;
};

} // namespace

bool Planner::isParameter(Value value) {
  auto it = parameterCache.find(value);
  if (it != parameterCache.end())
    return it->second;
  bool result = true;
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    // Activations and gradients are arguments too (training steps).
    result = arg.getOwner() != body || problem.getParameters().contains(arg);
  } else if (Operation *def = value.getDefiningOp()) {
    if (def->getBlock() != body) {
      result = false;
    } else if (auto linalgOp = dyn_cast<linalg::LinalgOp>(def);
               linalgOp && linalgOp.getNumReductionLoops() > 0) {
      result = false; // A contraction or reduction of activations.
    } else if (isa<linalg::SoftmaxOp>(def)) {
      result = false;
    } else {
      parameterCache[value] = true; // Break cycles (none in SSA, but cheap).
      for (Value operand : def->getOperands())
        if (isa<TensorType>(operand.getType()) && !isParameter(operand)) {
          result = false;
          break;
        }
    }
  }
  parameterCache[value] = result;
  return result;
}

std::optional<WeightOp> Planner::matchWeightOp(Operation *op) {
  ArrayRef<ShardingOption> all = problem.getOptions(op);
  auto has = [&](ParallelKind k) {
    return llvm::any_of(all,
                        [&](const ShardingOption &o) { return o.kind == k; });
  };
  if (has(ParallelKind::Vocab)) {
    // The table is the captured tensor of the vocabulary-parallel option.
    for (const ShardingOption &o : all)
      if (o.kind == ParallelKind::Vocab && !o.captures.empty()) {
        Value table = o.captures.front().first;
        if (!isParameter(table) || !isEmbeddingLookup(op))
          return std::nullopt;
        WeightOp w;
        w.isGather = true;
        w.weight = table;
        w.weightBytes =
            static_cast<int64_t>(CostModel::getBytes(table.getType()));
        return w;
      }
    return std::nullopt;
  }
  if (!has(ParallelKind::Column) && !has(ParallelKind::Row))
    return std::nullopt;
  std::optional<unsigned> activation = problem.getActivationOperand(op);
  if (!activation)
    return std::nullopt;
  Value weightValue = op->getOperand(*activation == 0 ? 1 : 0);
  if (!isParameter(weightValue))
    return std::nullopt;
  WeightOp w;
  w.activation = *activation;
  w.weight = weightValue;
  w.weightBytes = static_cast<int64_t>(CostModel::getBytes(w.weight.getType()));
  return w;
}

double Planner::reshardCost(ShardingAttr have, ShardingAttr want,
                            Type type) const {
  if (!have)
    return 0; // An undecided value adapts for free.
  return problem.getCostModel().reshardReducingWhole(have, want, type, p);
}

template <typename LookupFn>
const ShardingOption *Planner::choose(Operation *op, LookupFn lookup) const {
  if (!problem.contains(op))
    return nullptr;
  ArrayRef<ShardingOption> all = problem.getOptions(op);
  const ShardingOption *best = nullptr;
  double bestCost = 0;
  for (unsigned i : problem.getFeasible(op)) {
    const ShardingOption &option = all[i];
    double cost = 0;
    for (auto [j, operand] : llvm::enumerate(op->getOperands()))
      if (isa<RankedTensorType>(operand.getType()))
        cost +=
            reshardCost(lookup(operand), option.operands[j], operand.getType());
    for (auto &[value, sharding] : option.captures)
      cost += reshardCost(lookup(value), sharding, value.getType());
    if (!best || cost < bestCost) {
      best = &option;
      bestCost = cost;
    }
  }
  return best;
}

void Planner::apply(Operation *op, const ShardingOption &option) {
  for (auto [result, sharding] : llvm::zip(op->getResults(), option.results))
    predicted[result] = sharding;
}

/// At a later weight matmul reached by the split: true if the split arrives
/// along its contraction (the pair's row layer); otherwise records where and
/// why the split would be gathered.
bool Planner::reachesRow(Operation *op, const WeightOp &weight,
                         const Overlay &overlay, Lookahead &result) const {
  Value activation = op->getOperand(weight.activation);
  const ShardingOption *row = problem.findKind(op, ParallelKind::Row, false);
  auto it = overlay.find(activation);
  bool alongContraction = it != overlay.end() && row &&
                          row->operands[weight.activation] == it->second;
  if (alongContraction && !result.partner)
    result.partner = op;
  if (alongContraction)
    return true;
  result.gathered = true;
  result.where = op;
  return false;
}

/// True (and `result` says where and why) if the split, held as `overlay`
/// says, cannot pass `op` running `option` without a gather or an all-reduce.
bool Planner::stopsAt(Operation *op, const ShardingOption *option,
                      const Overlay &overlay, Lookahead &result) const {
  auto stop = [&](std::optional<Infeasibility> cause) {
    result.gathered = true;
    result.where = op;
    result.unevenCause = cause;
    return true;
  };
  // Padded (uneven=pad) heads fewer than ranks: most ranks would hold only
  // padding. Such K/V projections stay whole, as without padding.
  if (option && isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(op) &&
      overlay.count(op->getOperand(0)))
    for (auto [value, sharding] : llvm::zip(op->getResults(), option->results))
      if (auto type = dyn_cast<RankedTensorType>(value.getType());
          type && sharding.isSplit() && !type.isDynamicDim(sharding.getDim()) &&
          type.getDimSize(sharding.getDim()) < p)
        return stop(Infeasibility{value, "result #0", sharding.getDim(),
                                  type.getDimSize(sharding.getDim())});
  // Which split operands would have to be gathered?
  for (auto [i, operand] : llvm::enumerate(op->getOperands())) {
    auto it = overlay.find(operand);
    if (it == overlay.end())
      continue;
    ShardingAttr have = it->second;
    ShardingAttr want = option ? option->operands[i] : replicated;
    if (!have.isSplit() || have == want)
      continue;
    // Was there a form that keeps the split but does not divide evenly?
    if (problem.contains(op))
      for (const ShardingOption &o : problem.getOptions(op))
        if (o.operands[i] == have)
          if (auto issue = problem.checkFeasible(o, op))
            return stop(issue);
    return stop(std::nullopt);
  }
  // A reduction across the split leaves partial values to all-reduce: the
  // split did not reach a row layer for free.
  if (option && llvm::any_of(option->results,
                             [](ShardingAttr r) { return r.isPartial(); }))
    return stop(std::nullopt);
  return false;
}

Lookahead Planner::lookahead(Operation *weightOp,
                             const ShardingOption &column) {
  Lookahead result;
  Overlay overlay;
  auto lookup = [&](Value v) -> ShardingAttr {
    auto it = overlay.find(v);
    if (it != overlay.end())
      return it->second;
    // Values of weight ops not decided yet adapt for free.
    if (Operation *def = v.getDefiningOp())
      if (weightOps.count(def) && !decisions.count(def) && def != weightOp)
        return ShardingAttr();
    return predictedOf(v);
  };
  // The ops the split reaches, in program order (the return last).
  using Entry = std::pair<unsigned, Operation *>;
  llvm::PriorityQueue<Entry, std::vector<Entry>, std::greater<Entry>> queue;
  llvm::SmallPtrSet<Operation *, 16> queued;
  auto propagate = [&](Operation *op, ArrayRef<ShardingAttr> shardings) {
    for (auto [r, sharding] : llvm::zip(op->getResults(), shardings)) {
      if (sharding.isReplicated())
        continue;
      overlay[r] = sharding;
      for (Operation *user : r.getUsers())
        if (Operation *top = body->findAncestorOpInBlock(*user))
          if (problem.contains(top) && queued.insert(top).second)
            queue.push(
                {isa<func::ReturnOp>(top) ? ~0u : problem.getIndex(top), top});
    }
  };
  propagate(weightOp, column.results);
  while (!queue.empty()) {
    Operation *op = queue.top().second;
    queue.pop();
    if (isa<func::ReturnOp>(op))
      continue; // Gathering a result for the caller is fine (LM heads).
    // A later weight matmul: the split must arrive along its contraction.
    if (auto w = weightOps.find(op);
        w != weightOps.end() && !w->second.isGather) {
      if (reachesRow(op, w->second, overlay, result))
        continue; // Its result is the pair's partial sum.
      return result;
    }
    const ShardingOption *option = choose(op, lookup);
    if (stopsAt(op, option, overlay, result))
      return result;
    if (option)
      propagate(op, option->results);
  }
  return result;
}

LogicalResult Planner::replicateUneven(Operation *op,
                                       const Infeasibility &issue,
                                       Operation *where, StringRef form) {
  Decision &d = decisions[op];
  d.kind = ParallelKind::Replicated;
  std::string what = llvm::formatv("{0} of '{1}' at {2}", issue.what,
                                   where->getName().getStringRef(),
                                   formatLocation(where->getLoc()))
                         .str();
  if (ShapedType::isDynamic(issue.size)) {
    d.reason = llvm::formatv("replicated: a {0} split needs dimension {1} of "
                             "{2}, which is dynamic",
                             form, issue.dim, what);
    return success();
  }
  if (issue.size >= 0 && issue.size < p) {
    d.reason = llvm::formatv("replicated: a {0} split needs dimension {1} of "
                             "{2}, of size {3}: fewer than tp-size {4}",
                             form, issue.dim, what, issue.size, p);
    return success();
  }
  switch (options.uneven) {
  case UnevenPolicy::Replicate:
    d.reason = llvm::formatv("replicated (uneven=replicate): dimension {0} of "
                             "{1} (size {2}) is not divisible by tp-size {3}",
                             issue.dim, what, issue.size, p);
    op->emitRemark() << "kept replicated: " << d.reason;
    return success();
  case UnevenPolicy::Pad:
    // Only reached for ops that cannot be padded (reshapes, slices): the
    // padding would not line up with the reshaped dimension.
    return where->emitError("uneven=pad cannot pad ")
           << issue.what << " (" << issue.value.getType() << ") of '"
           << where->getName() << "' along dimension " << issue.dim << " (size "
           << issue.size << ", tp-size " << p
           << "): a reshape or slice cannot keep a padded split; use "
              "uneven=replicate, or a tp-size that divides it";
  case UnevenPolicy::Error:
    break;
  }
  return where->emitError("cannot split ")
         << issue.what << " (" << issue.value.getType() << ") along dimension "
         << issue.dim << ": size " << issue.size
         << " is not divisible by tp-size " << p << " (needed for a " << form
         << " split of the op at " << formatLocation(op->getLoc())
         << "); choose a tp-size that divides it, or pass uneven=replicate "
            "(keep it whole) or uneven=pad (pad the split)";
}

/// `value` seen through reshapes: the matmuls of one layer read one hidden
/// state, each perhaps through its own view of it.
static Value throughViews(Value value) {
  while (Operation *def = value.getDefiningOp()) {
    if (!isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp, tensor::CastOp>(
            def))
      break;
    value = def->getOperand(0);
  }
  return value;
}

double Planner::siblingFraction(Operation *op, const WeightOp &weight) const {
  if (weight.isGather)
    return 1.0;
  auto it =
      largestSiblingBytes.find(throughViews(op->getOperand(weight.activation)));
  if (it == largestSiblingBytes.end() || it->second <= 0)
    return 1.0;
  return double(weight.weightBytes) / double(it->second);
}

LogicalResult Planner::decideMatmul(Operation *op, const WeightOp &weight) {
  Decision &d = decisions[op];
  double fraction = siblingFraction(op, weight);
  if (fraction < options.minWeightFraction) {
    d.kind = ParallelKind::Replicated;
    d.reason = llvm::formatv("replicated: its weight is {0:f2}% of the largest "
                             "weight reading the same input (below "
                             "min-weight-fraction {1:f2}%)",
                             100 * fraction, 100 * options.minWeightFraction);
    return success();
  }
  ShardingAttr in = predictedOf(op->getOperand(weight.activation));
  if (in.isSplit())
    return decideRow(op, weight, in);
  // A weight already held split along this op's contraction (the backward
  // of a column layer whose output gradient arrives whole, as an LM head's
  // logits gradient does): row, the whole input cut locally, rather than a
  // second, whole copy of the weight.
  Operation *holder = nullptr;
  if (const ShardingOption *row = findRowOnHeldWeight(op, weight, holder)) {
    d.kind = ParallelKind::Row;
    d.option = row;
    d.reason = llvm::formatv("row: its weight is held split along the "
                             "contraction dimension (as {0} reads it); its "
                             "whole input is cut locally",
                             formatLocation(holder->getLoc()))
                   .str();
    return success();
  }
  return decideColumn(op, weight);
}

void Planner::recordHeldWeight(Operation *op, const WeightOp &weight,
                               const ShardingOption &option) {
  if (weight.isGather)
    return;
  unsigned index = weight.activation == 0 ? 1 : 0;
  auto [root, sharding] =
      problem.traceToSource(op->getOperand(index), option.operands[index]);
  if (sharding && sharding.isSplit())
    heldWeights.try_emplace(root, sharding, op);
}

/// The row option of `op` that reads its weight the way an earlier weight op
/// holds it split (`holder`), if any.
const ShardingOption *Planner::findRowOnHeldWeight(Operation *op,
                                                   const WeightOp &weight,
                                                   Operation *&holder) const {
  unsigned index = weight.activation == 0 ? 1 : 0;
  for (unsigned i : problem.getFeasible(op)) {
    const ShardingOption &option = problem.getOptions(op)[i];
    if (option.kind != ParallelKind::Row)
      continue;
    auto [root, sharding] =
        problem.traceToSource(op->getOperand(index), option.operands[index]);
    auto it = heldWeights.find(root);
    if (it != heldWeights.end() && it->second.first == sharding) {
      holder = it->second.second;
      return &option;
    }
  }
  return nullptr;
}

/// A weight matmul whose input arrives split: row if the split is along its
/// contraction.
LogicalResult Planner::decideRow(Operation *op, const WeightOp &weight,
                                 ShardingAttr in) {
  Decision &d = decisions[op];
  const ShardingOption *row = problem.findKind(op, ParallelKind::Row, false);
  if (!row || row->operands[weight.activation] != in) {
    d.kind = ParallelKind::Replicated;
    d.reason = "replicated: its input arrives split along a dimension that "
               "is not the contraction";
    return success();
  }
  if (auto issue = problem.checkFeasible(*row, op))
    return replicateUneven(op, *issue, op, "row");
  Operation *from = op->getOperand(weight.activation).getDefiningOp();
  d.kind = ParallelKind::Row;
  d.reason =
      llvm::formatv("row: its input arrives split along the "
                    "contraction dimension{0}",
                    from ? " (from " + formatLocation(from->getLoc()) + ")"
                         : std::string())
          .str();
  return success();
}

/// A weight matmul whose input arrives whole: column if a look-ahead shows
/// its split reaching a row layer (or the result) without a gather, and the
/// cost model says the split is worth its collective.
LogicalResult Planner::decideColumn(Operation *op, const WeightOp &weight) {
  Decision &d = decisions[op];
  const ShardingOption *column =
      problem.findKind(op, ParallelKind::Column, false);
  if (!column) {
    d.kind = ParallelKind::Replicated;
    d.reason = "replicated: no output-feature dimension to split";
    return success();
  }
  // A fused projection has several column forms (segmented splits, with some
  // segments replicated, then the plain split): the first whose split
  // reaches a row layer without a gather wins; otherwise the first explains.
  SmallVector<const ShardingOption *> columns;
  for (unsigned i : problem.getFeasible(op))
    if (problem.getOptions(op)[i].kind == ParallelKind::Column)
      columns.push_back(&problem.getOptions(op)[i]);
  if (columns.empty())
    return replicateUneven(op, *problem.checkFeasible(*column, op), op,
                           "column");
  column = columns.front();
  Lookahead ahead = lookahead(op, *column);
  for (const ShardingOption *other : ArrayRef(columns).drop_front()) {
    if (!ahead.gathered)
      break;
    Lookahead next = lookahead(op, *other);
    if (!next.gathered) {
      column = other;
      ahead = next;
    }
  }
  if (columns.size() > 1)
    d.option = column;
  if (ahead.gathered) {
    if (ahead.unevenCause)
      return replicateUneven(op, *ahead.unevenCause, ahead.where, "column");
    d.kind = ParallelKind::Replicated;
    d.reason = llvm::formatv("replicated: a column split would be gathered "
                             "again at '{0}' ({1})",
                             ahead.where->getName().getStringRef(),
                             formatLocation(ahead.where->getLoc()));
    return success();
  }
  SplitCosts costs = getSplitCosts(op, weight, *column, ahead);
  std::string text =
      llvm::formatv("saves {0} bytes of weights and {1} FLOPs per rank "
                    "(each rank computes {2:f1}% of the work) for {3} bytes "
                    "moved per step",
                    int64_t(costs.savedBytes), int64_t(costs.savedFlops),
                    100.0 * costs.localShare, int64_t(costs.traffic))
          .str();
  // FLOPs count as the bytes a link moves in the same time.
  double saved =
      costs.savedBytes +
      costs.savedFlops / std::max(problem.getCostModel().flopsPerByte, 1e-9);
  if (saved < options.minSavingsRatio * costs.traffic) {
    d.kind = ParallelKind::Replicated;
    d.reason =
        "replicated: splitting it " + text +
        llvm::formatv(" (below min-savings-ratio {0})", options.minSavingsRatio)
            .str();
    return success();
  }
  d.kind = ParallelKind::Column;
  d.reason = describeColumn(*column, ahead, text);
  return success();
}

/// What a column split (with the row layer the look-ahead reached) saves and
/// costs per rank: the weight bytes and FLOPs it takes off each rank against
/// the bytes its collective moves per step (ring algorithm: all_reduce
/// 2(p-1)/p, all_gather (p-1)/p of the tensor).
SplitCosts Planner::getSplitCosts(Operation *op, const WeightOp &weight,
                                  const ShardingOption &column,
                                  const Lookahead &ahead) const {
  SplitCosts costs;
  double keep = double(p - 1) / double(p);
  // What a rank does not hold of this weight: (p-1)/p of it, less the
  // segments a fused projection keeps whole (or plus the padding of a split
  // in whole units).
  double weightKeep = keep;
  for (auto [result, sharding] : llvm::zip(op->getResults(), column.results))
    if (auto type = dyn_cast<RankedTensorType>(result.getType());
        type && sharding.isSplit() && type.hasStaticShape()) {
      int64_t global = type.getDimSize(sharding.getDim());
      int64_t local =
          getLocalType(type, sharding, p).getDimSize(sharding.getDim());
      weightKeep = std::max(0.0, 1.0 - double(local) / double(global));
    }
  costs.localShare = 1.0 - weightKeep;
  costs.savedBytes = weight.weightBytes * weightKeep;
  // Compute balance: the pair's FLOPs are shared out; each rank computes
  // its part (padding included).
  double flops = CostModel::getFlops(op);
  if (ahead.partner) {
    auto partner = weightOps.find(ahead.partner);
    if (partner != weightOps.end())
      costs.savedBytes += partner->second.weightBytes * keep;
    flops += CostModel::getFlops(ahead.partner);
    for (Type t : ahead.partner->getResultTypes())
      costs.traffic += 2 * keep * CostModel::getBytes(t);
  } else {
    for (Type t : op->getResultTypes())
      costs.traffic += keep * CostModel::getBytes(t);
  }
  costs.savedFlops = flops * weightKeep;
  return costs;
}

/// The reason text of a column decision.
std::string Planner::describeColumn(const ShardingOption &column,
                                    const Lookahead &ahead,
                                    StringRef costs) const {
  // A fused projection (its output cut apart by slices) splits each part.
  std::string features = "output features split";
  for (ShardingAttr result : column.results)
    if (result.isSegmented()) {
      features = "output features split within each of the segments [";
      llvm::raw_string_ostream os(features);
      llvm::interleaveComma(result.getSegments(), os);
      os << "] (a fused projection)";
      if (!result.getReplicatedSegments().empty()) {
        os << ", except segments [";
        llvm::interleaveComma(result.getReplicatedSegments(), os);
        os << "] kept whole on every rank";
      }
      break;
    }
  if (!ahead.partner)
    return ("column: " + features +
            "; gathered only for the function's result; " + costs)
        .str();
  return llvm::formatv("column: {0}; the split reaches the row layer at {1}; "
                       "{2}",
                       features, formatLocation(ahead.partner->getLoc()), costs)
      .str();
}

LogicalResult Planner::decideGather(Operation *op, const WeightOp &weight) {
  Decision &d = decisions[op];
  const ShardingOption *vocab =
      problem.findKind(op, ParallelKind::Vocab, false);
  if (auto issue = problem.checkFeasible(*vocab, op))
    return replicateUneven(op, *issue, op, "vocabulary");
  // The cost model: the table bytes a rank does not hold against the
  // all_reduce of the looked-up rows (ring algorithm).
  double keep = double(p - 1) / double(p);
  double saved = keep * weight.weightBytes;
  double traffic = 0;
  for (Type t : op->getResultTypes())
    traffic += 2 * keep * CostModel::getBytes(t);
  if (saved < options.minSavingsRatio * traffic) {
    d.kind = ParallelKind::Replicated;
    d.reason =
        llvm::formatv("replicated: splitting the table saves {0} bytes "
                      "per rank for one all_reduce of {1} bytes per "
                      "step (below min-savings-ratio {2})",
                      int64_t(saved), int64_t(traffic), options.minSavingsRatio)
            .str();
    return success();
  }
  d.kind = ParallelKind::Vocab;
  d.reason = "vocab: each rank looks up the ids in its rows of the table "
             "(masked); one all_reduce of the embeddings";
  return success();
}

void Planner::collectWeightOps() {
  for (Operation *op : problem.getOps())
    if (std::optional<WeightOp> w = matchWeightOp(op)) {
      weightOps[op] = *w;
      if (!w->isGather) {
        int64_t &largest =
            largestSiblingBytes[throughViews(op->getOperand(w->activation))];
        largest = std::max(largest, w->weightBytes);
      }
    }
}

/// User annotations win (tp-partition checks them): the prediction follows
/// the option they ask for, if it is usable.
void Planner::applyAnnotation(Operation *op) {
  AnnotationMatch match = problem.matchAnnotation(op);
  if (match.status == AnnotationMatch::Status::Matched)
    apply(op, *match.option);
}

LogicalResult Planner::decide(Operation *op, const WeightOp &weight) {
  if (failed(weight.isGather ? decideGather(op, weight)
                             : decideMatmul(op, weight)))
    return failure();
  const Decision &decision = decisions[op];
  const ShardingOption *option =
      decision.option && decision.option->kind == decision.kind
          ? decision.option
          : problem.findKind(op, decision.kind, true);
  if (option) {
    apply(op, *option);
    if (option->kind == ParallelKind::Column ||
        option->kind == ParallelKind::Row)
      recordHeldWeight(op, weight, *option);
  }
  return success();
}

LogicalResult Planner::run() {
  collectWeightOps();
  // An annotation is the user's: a malformed one is an error, not something
  // to plan over. The dialect verifies every op's annotation when the module
  // is verified; this catches one set by an unverified pass before us.
  StringAttr parallelName =
      StringAttr::get(func.getContext(), TPDialect::getParallelAttrName());
  bool malformed = false;
  for (Operation *op : problem.getOps()) {
    if (isa<func::ReturnOp>(op))
      continue;
    if (Attribute annotation = op->getDiscardableAttr(parallelName)) {
      if (failed(TPDialect::verifyParallelAnnotation(op, annotation)))
        malformed = true;
      else
        applyAnnotation(op);
      continue;
    }
    if (auto w = weightOps.find(op); w != weightOps.end()) {
      if (failed(decide(op, w->second)))
        return failure();
      continue;
    }
    if (const ShardingOption *chosen =
            choose(op, [&](Value v) { return predictedOf(v); }))
      apply(op, *chosen);
  }
  if (malformed)
    return failure();
  writeDecisions();
  return success();
}

void Planner::writeDecisions() {
  MLIRContext *ctx = func.getContext();
  for (auto &[op, decision] : decisions) {
    op->setAttr(TPDialect::getParallelAttrName(),
                StringAttr::get(ctx, stringifyParallelKind(decision.kind)));
    op->setAttr(TPDialect::getPlanReasonAttrName(),
                StringAttr::get(ctx, decision.reason));
    if (decision.option && decision.kind == decision.option->kind &&
        !decision.option->results.empty())
      op->setAttr(TPDialect::getResultShardingAttrName(),
                  decision.option->results[0]);
    LLVM_DEBUG(llvm::dbgs() << "plan: " << formatLocation(op->getLoc()) << ": "
                            << decision.reason << "\n");
  }
}

CostModel mlir::tp::getPlannerCostModel(const PlannerOptions &options) {
  CostModel model;
  model.flopsPerByte = options.flopsPerByte;
  return model;
}

LogicalResult mlir::tp::planFunction(func::FuncOp func,
                                     const PlannerOptions &options) {
  if (func.isExternal())
    return success();
  ShardingProblem problem(func, options.tpSize, options.uneven,
                          getPlannerCostModel(options));
  return planFunction(func, options, problem);
}

LogicalResult mlir::tp::planFunction(func::FuncOp func,
                                     const PlannerOptions &options,
                                     const ShardingProblem &problem) {
  if (func.isExternal())
    return success();
  return Planner(func, options, problem).run();
}
