//===- Planner.cpp - choose column/row/replicated for every weight --------===//
//
// Part of tp-mlir.
//
// See Planner.h for the rules. Everything here is one pass over the function
// plus a bounded look-ahead from each candidate column layer, so planning time
// grows linearly with the number of layers.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Transforms/Planner.h"
#include "tp/Dialect/TP/IR/TPOps.h"
#include "tp/Dialect/TP/Transforms/Parameters.h"
#include "tp/Dialect/TP/Transforms/Report.h"
#include "tp/Dialect/TP/Transforms/SegmentedSplits.h"
#include "tp/Dialect/TP/Transforms/ShardingSolver.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/PriorityQueue.h"
#include "llvm/Support/Debug.h"
#include "llvm/Support/FormatVariadic.h"

#define DEBUG_TYPE "tp-plan"

using namespace mlir;
using namespace mlir::tp;

std::optional<UnevenPolicy> mlir::tp::parseUnevenPolicy(StringRef value) {
  if (value == "error")
    return UnevenPolicy::Error;
  if (value == "replicate")
    return UnevenPolicy::Replicate;
  if (value == "pad")
    return UnevenPolicy::Pad;
  return std::nullopt;
}

namespace {

constexpr double kCollective = 1.0e6;
constexpr double kImpossible = 1.0e30;

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
  Operation *where = nullptr;             ///< the op that needs the gather
  std::optional<Infeasibility> unevenCause; ///< a split that would have kept it
  Operation *partner = nullptr;           ///< the row layer reached, if any
};

class Planner {
public:
  Planner(func::FuncOp func, const PlannerOptions &options)
      : func(func), body(&func.getBody().front()), options(options),
        p(options.tpSize) {}

  LogicalResult run();

private:
  struct OpInfo {
    unsigned index = 0;
    // No inline storage: the table has a slot per op of the function, and
    // an option is large; each list is allocated once, at its final size.
    SmallVector<ShardingOption, 0> all;      ///< every structural option
    SmallVector<ShardingOption, 0> feasible; ///< those that divide evenly
  };

  bool isParameter(Value value);
  std::optional<WeightOp> matchWeightOp(Operation *op);
  ShardingAttr predictedOf(Value value) const {
    auto it = predicted.find(value);
    return it == predicted.end() ? replicated : it->second;
  }
  double reshardCost(ShardingAttr have, ShardingAttr want, Type type) const;
  template <typename LookupFn>
  int choose(Operation *op, LookupFn lookup) const;
  void apply(Operation *op, const ShardingOption &option);
  Lookahead lookahead(Operation *weightOp, const ShardingOption &column);
  LogicalResult decideMatmul(Operation *op, const WeightOp &weight);
  LogicalResult decideGather(Operation *op, const WeightOp &weight);
  LogicalResult replicateUneven(Operation *op, const Infeasibility &issue,
                                Operation *where, StringRef form);
  const ShardingOption *findKind(Operation *op, ParallelKind kind,
                                 bool feasibleOnly) const;
  bool padding() const { return options.uneven == UnevenPolicy::Pad; }

  func::FuncOp func;
  Block *body;
  PlannerOptions options;
  int64_t p;
  ShardingAttr replicated;
  DenseMap<Operation *, OpInfo> infos;
  DenseMap<Operation *, WeightOp> weightOps;
  DenseMap<Operation *, Decision> decisions;
  DenseMap<Value, ShardingAttr> predicted;
  DenseMap<Value, bool> parameterCache;
  /// The largest weight among the weight matmuls reading each activation
  /// (a router next to the experts it routes to, K/V next to Q).
  DenseMap<Value, int64_t> largestSiblingBytes;
  double siblingFraction(Operation *op, const WeightOp &weight) const;
};

} // namespace

bool Planner::isParameter(Value value) {
  auto it = parameterCache.find(value);
  if (it != parameterCache.end())
    return it->second;
  bool result = true;
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    // Activations and gradients are arguments too (training steps).
    result = arg.getOwner() != body || isParameterArgument(arg);
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
  const OpInfo &info = infos[op];
  auto has = [&](ParallelKind k) {
    return llvm::any_of(info.all,
                        [&](const ShardingOption &o) { return o.kind == k; });
  };
  if (has(ParallelKind::Vocab)) {
    // The table is the captured tensor of the vocabulary-parallel option.
    for (const ShardingOption &o : info.all)
      if (o.kind == ParallelKind::Vocab && !o.captures.empty()) {
        Value table = o.captures.front().first;
        if (!isParameter(table) || !isEmbeddingLookup(op))
          return std::nullopt;
        WeightOp w;
        w.isGather = true;
        w.weight = table;
        w.weightBytes = static_cast<int64_t>(CostModel::getBytes(table.getType()));
        return w;
      }
    return std::nullopt;
  }
  if (!has(ParallelKind::Column) && !has(ParallelKind::Row))
    return std::nullopt;
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp || linalgOp.getNumDpsInputs() != 2)
    return std::nullopt;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(linalgOp);
  if (failed(dims))
    return std::nullopt;
  auto usesM = [&](OpOperand *operand) {
    AffineMap map = linalgOp.getMatchingIndexingMap(operand);
    return llvm::any_of(dims->m, [&](unsigned m) {
      return map.isFunctionOfDim(m);
    });
  };
  OpOperand *lhs = linalgOp.getDpsInputOperand(0);
  OpOperand *rhs = linalgOp.getDpsInputOperand(1);
  OpOperand *weight = nullptr, *activation = nullptr;
  if (!usesM(rhs) && usesM(lhs)) {
    weight = rhs;
    activation = lhs;
  } else if (!usesM(lhs) && usesM(rhs)) {
    weight = lhs;
    activation = rhs;
  }
  if (!weight || !isParameter(weight->get()))
    return std::nullopt;
  WeightOp w;
  w.activation = activation->getOperandNumber();
  w.weight = weight->get();
  w.weightBytes = static_cast<int64_t>(CostModel::getBytes(w.weight.getType()));
  return w;
}

/// 2 * the product of the loop ranges of a linalg op (a multiply and an add
/// per iteration of a contraction); 0 when not static.
static double getFlops(Operation *op) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp)
    return 0;
  double flops = 2;
  for (int64_t size : linalgOp.getStaticLoopRanges()) {
    if (ShapedType::isDynamic(size))
      return 0;
    flops *= double(size);
  }
  return flops;
}

double Planner::reshardCost(ShardingAttr have, ShardingAttr want,
                            Type type) const {
  if (!have || have == want)
    return 0; // An undecided value adapts for free.
  double bytes = CostModel::getBytes(type);
  if (want.isPartial())
    return kImpossible;
  if (have.isReplicated())
    return 1; // A local slice.
  if (have.isSplit())
    return kCollective + bytes + (want.isSplit() ? 1 : 0);
  // Partial values are reduced whole first (Megatron): an all_reduce.
  return 2 * (kCollective + bytes) + (want.isSplit() ? 1 : 0);
}

template <typename LookupFn>
int Planner::choose(Operation *op, LookupFn lookup) const {
  auto it = infos.find(op);
  if (it == infos.end() || it->second.feasible.empty())
    return -1;
  const SmallVectorImpl<ShardingOption> &feasible = it->second.feasible;
  int best = -1;
  double bestCost = 0;
  for (auto [i, option] : llvm::enumerate(feasible)) {
    double cost = 0;
    for (auto [j, operand] : llvm::enumerate(op->getOperands()))
      if (isa<RankedTensorType>(operand.getType()))
        cost += reshardCost(lookup(operand), option.operands[j],
                            operand.getType());
    for (auto &[value, sharding] : option.captures)
      cost += reshardCost(lookup(value), sharding, value.getType());
    if (best < 0 || cost < bestCost) {
      best = i;
      bestCost = cost;
    }
  }
  return best;
}

void Planner::apply(Operation *op, const ShardingOption &option) {
  for (auto [result, sharding] : llvm::zip(op->getResults(), option.results))
    predicted[result] = sharding;
}

const ShardingOption *Planner::findKind(Operation *op, ParallelKind kind,
                                        bool feasibleOnly) const {
  const OpInfo &info = infos.find(op)->second;
  for (const ShardingOption &o : feasibleOnly ? info.feasible : info.all)
    if (o.kind == kind)
      return &o;
  return nullptr;
}

Lookahead Planner::lookahead(Operation *weightOp,
                             const ShardingOption &column) {
  Lookahead result;
  DenseMap<Value, ShardingAttr> overlay;
  unsigned start = infos[weightOp].index;
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
  using Entry = std::pair<unsigned, Operation *>;
  llvm::PriorityQueue<Entry, std::vector<Entry>, std::greater<Entry>> queue;
  llvm::SmallPtrSet<Operation *, 16> queued;
  auto pushUsers = [&](Value v) {
    for (Operation *user : v.getUsers()) {
      Operation *top = body->findAncestorOpInBlock(*user);
      if (top && infos.count(top) && queued.insert(top).second)
        queue.push({infos[top].index, top});
      else if (top && isa<func::ReturnOp>(top) && queued.insert(top).second)
        queue.push({~0u, top});
    }
  };
  for (auto [r, sharding] : llvm::zip(weightOp->getResults(), column.results)) {
    overlay[r] = sharding;
    pushUsers(r);
  }
  while (!queue.empty()) {
    Operation *op = queue.top().second;
    queue.pop();
    if (isa<func::ReturnOp>(op))
      continue; // Gathering a result for the caller is fine (LM heads).
    (void)start;
    auto tainted = [&](Value v) { return overlay.count(v) > 0; };
    // A later weight matmul: the split must arrive along its contraction.
    auto w = weightOps.find(op);
    if (w != weightOps.end() && !w->second.isGather) {
      Value activation = op->getOperand(w->second.activation);
      const ShardingOption *row = findKind(op, ParallelKind::Row, false);
      if (tainted(activation) && row &&
          row->operands[w->second.activation] == overlay[activation]) {
        if (!result.partner)
          result.partner = op;
        continue; // Its result is the pair's partial sum.
      }
      result.gathered = true;
      result.where = op;
      if (row && tainted(activation) &&
          row->operands[w->second.activation] == overlay[activation])
        result.unevenCause = checkFeasible(*row, op, p, padding());
      return result;
    }
    int index = choose(op, lookup);
    const ShardingOption *option =
        index >= 0 ? &infos[op].feasible[index] : nullptr;
    // Padded (uneven=pad) heads fewer than ranks: most ranks would hold only
    // padding. Such K/V projections stay whole, as without padding.
    if (option && isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(op))
      for (auto [value, sharding] :
           llvm::zip(op->getResults(), option->results))
        if (auto type = dyn_cast<RankedTensorType>(value.getType());
            type && sharding.isSplit() &&
            !type.isDynamicDim(sharding.getDim()) &&
            type.getDimSize(sharding.getDim()) < p && tainted(op->getOperand(0))) {
          result.gathered = true;
          result.where = op;
          result.unevenCause = Infeasibility{value, "result #0",
                                             sharding.getDim(),
                                             type.getDimSize(sharding.getDim())};
          return result;
        }
    // Which tainted operands would have to be gathered?
    for (auto [i, operand] : llvm::enumerate(op->getOperands())) {
      if (!tainted(operand))
        continue;
      ShardingAttr have = overlay[operand];
      ShardingAttr want = option ? option->operands[i] : replicated;
      if (!have.isSplit() || have == want)
        continue;
      result.gathered = true;
      result.where = op;
      // Was there a form that keeps the split but does not divide evenly?
      auto it = infos.find(op);
      if (it != infos.end())
        for (const ShardingOption &o : it->second.all)
          if (o.operands[i] == have)
            if (auto issue = checkFeasible(o, op, p, padding())) {
              result.unevenCause = issue;
              break;
            }
      return result;
    }
    if (!option)
      continue;
    // A reduction across the split leaves partial values to all-reduce: the
    // split did not reach a row layer for free.
    if (llvm::any_of(option->results,
                     [](ShardingAttr r) { return r.isPartial(); })) {
      result.gathered = true;
      result.where = op;
      return result;
    }
    for (auto [r, sharding] : llvm::zip(op->getResults(), option->results))
      if (!sharding.isReplicated()) {
        overlay[r] = sharding;
        pushUsers(r);
      }
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
           << where->getName() << "' along dimension " << issue.dim
           << " (size " << issue.size << ", tp-size " << p
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
  const ShardingOption *row = findKind(op, ParallelKind::Row, false);
  const ShardingOption *column = findKind(op, ParallelKind::Column, false);
  Operation *from = op->getOperand(weight.activation).getDefiningOp();

  if (in.isSplit()) {
    if (row && row->operands[weight.activation] == in) {
      if (auto issue = checkFeasible(*row, op, p, padding()))
        return replicateUneven(op, *issue, op, "row");
      d.kind = ParallelKind::Row;
      d.reason = llvm::formatv("row: its input arrives split along the "
                               "contraction dimension{0}",
                               from ? " (from " + formatLocation(from->getLoc()) +
                                          ")"
                                    : std::string())
                     .str();
      return success();
    }
    d.kind = ParallelKind::Replicated;
    d.reason = "replicated: its input arrives split along a dimension that "
               "is not the contraction";
    return success();
  }
  if (!column) {
    d.kind = ParallelKind::Replicated;
    d.reason = "replicated: no output-feature dimension to split";
    return success();
  }
  // A fused projection has several column forms (segmented splits, with some
  // segments replicated, then the plain split): the first whose split
  // reaches a row layer without a gather wins; otherwise the first explains.
  SmallVector<const ShardingOption *> columns;
  for (const ShardingOption &o : infos[op].feasible)
    if (o.kind == ParallelKind::Column)
      columns.push_back(&o);
  if (columns.empty())
    return replicateUneven(op, *checkFeasible(*column, op, p, padding()), op,
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
  // The cost model: the split must save at least min-savings-ratio times as
  // many weight bytes per rank as its collective moves per step (ring
  // algorithm: all_reduce 2(p-1)/p, all_gather (p-1)/p of the tensor).
  double keep = double(p - 1) / double(p);
  // What a rank does not hold of this weight: (p-1)/p of it, less the
  // segments a fused projection keeps whole.
  // (or plus the padding of a split in whole units).
  double weightKeep = keep;
  for (auto [result, sharding] : llvm::zip(op->getResults(), column->results))
    if (auto type = dyn_cast<RankedTensorType>(result.getType());
        type && sharding.isSplit() && type.hasStaticShape()) {
      int64_t global = type.getDimSize(sharding.getDim());
      int64_t local =
          getLocalType(type, sharding, p).getDimSize(sharding.getDim());
      weightKeep = std::max(0.0, 1.0 - double(local) / double(global));
    }
  double saved = weight.weightBytes * weightKeep;
  double traffic = 0;
  // Compute balance: the pair's FLOPs are shared out; each rank computes
  // its part (padding included), 1 - weightKeep of the total.
  double flops = getFlops(op);
  if (ahead.partner) {
    auto partner = weightOps.find(ahead.partner);
    if (partner != weightOps.end())
      saved += partner->second.weightBytes * keep;
    flops += getFlops(ahead.partner);
    for (Type t : ahead.partner->getResultTypes())
      traffic += 2 * keep * CostModel::getBytes(t);
  } else {
    for (Type t : op->getResultTypes())
      traffic += keep * CostModel::getBytes(t);
  }
  double savedFlops = flops * weightKeep;
  std::string costs =
      llvm::formatv("saves {0} bytes of weights and {1} FLOPs per rank "
                    "(each rank computes {2:f1}% of the work) for {3} bytes "
                    "moved per step",
                    int64_t(saved), int64_t(savedFlops),
                    100.0 * (1.0 - weightKeep), int64_t(traffic))
          .str();
  // FLOPs count as the bytes a link moves in the same time.
  saved += savedFlops / std::max(options.flopsPerByte, 1e-9);
  if (saved < options.minSavingsRatio * traffic) {
    d.kind = ParallelKind::Replicated;
    d.reason = "replicated: splitting it " + costs +
               llvm::formatv(" (below min-savings-ratio {0})",
                             options.minSavingsRatio)
                   .str();
    return success();
  }
  d.kind = ParallelKind::Column;
  // A fused projection (its output cut apart by slices) splits each part.
  std::string features = "output features split";
  for (ShardingAttr result : column->results)
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
  d.reason = ahead.partner
                 ? llvm::formatv("column: {0}; the split reaches the row "
                                 "layer at {1}; {2}",
                                 features,
                                 formatLocation(ahead.partner->getLoc()), costs)
                       .str()
                 : "column: " + features +
                       "; gathered only for the function's result; " + costs;
  return success();
}

LogicalResult Planner::decideGather(Operation *op, const WeightOp &weight) {
  Decision &d = decisions[op];
  const ShardingOption *vocab = findKind(op, ParallelKind::Vocab, false);
  if (auto issue = checkFeasible(*vocab, op, p, padding()))
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
    d.reason = llvm::formatv("replicated: splitting the table saves {0} bytes "
                             "per rank for one all_reduce of {1} bytes per "
                             "step (below min-savings-ratio {2})",
                             int64_t(saved), int64_t(traffic),
                             options.minSavingsRatio)
                   .str();
    return success();
  }
  d.kind = ParallelKind::Vocab;
  d.reason = "vocab: each rank looks up the ids in its rows of the table "
             "(masked); one all_reduce of the embeddings";
  return success();
}

LogicalResult Planner::run() {
  replicated = ShardingAttr::getReplicated(func.getContext());
  // Sized once: growing the table moves every entry (options included).
  infos.reserve(body->getOperations().size());
  unsigned index = 0;
  for (Operation &op : *body) {
    OpInfo &info = infos[&op];
    info.index = index++;
    if (auto iface = dyn_cast<ShardingOpInterface>(&op)) {
      SmallVector<ShardingOption, 8> options;
      iface.getShardingOptions(p, options);
      info.all.reserve(options.size() + 2); // room for segmented variants
      std::move(options.begin(), options.end(), std::back_inserter(info.all));
    }
  }
  // Segmented variants (fused projections cut by slices), then the order
  // the choices rely on: replicated first.
  SegmentedSplits segments(body, p, padding(), [&](Operation *op) {
    auto it = infos.find(op);
    return it == infos.end() ? ArrayRef<ShardingOption>()
                             : ArrayRef<ShardingOption>(it->second.all);
  });
  for (Operation &op : *body) {
    OpInfo &info = infos[&op];
    segments.extend(&op, info.all);
    auto isReplicated = [](const ShardingOption &o) {
      return o.kind == ParallelKind::Replicated;
    };
    // Models list the replicated option first already; stable_partition
    // would allocate a buffer per op to find that out.
    if (!std::is_partitioned(info.all.begin(), info.all.end(), isReplicated))
      std::stable_partition(info.all.begin(), info.all.end(), isReplicated);
    info.feasible.reserve(info.all.size());
    for (const ShardingOption &o : info.all)
      if (!checkFeasible(o, &op, p, padding()))
        info.feasible.push_back(o);
  }
  for (Operation &op : *body)
    if (std::optional<WeightOp> w = matchWeightOp(&op)) {
      weightOps[&op] = *w;
      if (!w->isGather) {
        int64_t &largest =
            largestSiblingBytes[throughViews(op.getOperand(w->activation))];
        largest = std::max(largest, w->weightBytes);
      }
    }

  for (Operation &op : *body) {
    if (isa<func::ReturnOp>(op))
      continue;
    auto annotation = op.getAttrOfType<StringAttr>(
        TPDialect::getParallelAttrName());
    if (annotation) {
      // User annotations win; tp-partition checks them.
      std::optional<ParallelKind> kind = parseParallelKind(annotation);
      const ShardingOption *option =
          kind ? findKind(&op, *kind, true) : nullptr;
      if (auto result = op.getAttrOfType<ShardingAttr>(
              TPDialect::getResultShardingAttrName())) {
        option = nullptr;
        for (const ShardingOption &o : infos[&op].feasible)
          if (kind && o.kind == *kind && !option && !o.results.empty() &&
              o.results[0] == result)
            option = &o;
      }
      if (option)
        apply(&op, *option);
      continue;
    }
    auto w = weightOps.find(&op);
    if (w != weightOps.end()) {
      if (failed(w->second.isGather ? decideGather(&op, w->second)
                                    : decideMatmul(&op, w->second)))
        return failure();
      const Decision &decision = decisions[&op];
      const ShardingOption *option =
          decision.option && decision.option->kind == decision.kind
              ? decision.option
              : findKind(&op, decision.kind, true);
      if (option)
        apply(&op, *option);
      continue;
    }
    int chosen = choose(&op, [&](Value v) { return predictedOf(v); });
    if (chosen >= 0)
      apply(&op, infos[&op].feasible[chosen]);
  }

  MLIRContext *ctx = func.getContext();
  for (auto &[op, decision] : decisions) {
    op->setAttr(TPDialect::getParallelAttrName(),
                StringAttr::get(ctx, stringifyParallelKind(decision.kind)));
    op->setAttr(kPlanReasonAttrName, StringAttr::get(ctx, decision.reason));
    if (decision.option && decision.kind == decision.option->kind &&
        !decision.option->results.empty())
      op->setAttr(TPDialect::getResultShardingAttrName(),
                  decision.option->results[0]);
    LLVM_DEBUG(llvm::dbgs() << "plan: " << formatLocation(op->getLoc())
                            << ": " << decision.reason << "\n");
  }
  return success();
}

LogicalResult mlir::tp::planFunction(func::FuncOp func,
                                     const PlannerOptions &options) {
  if (func.isExternal())
    return success();
  // An annotation is the user's: a malformed one is an error, not something
  // to plan over.
  bool ok = true;
  func.walk([&](Operation *op) {
    if (Attribute annotation = op->getAttr(TPDialect::getParallelAttrName()))
      if (failed(TPDialect::verifyParallelAnnotation(op, annotation)))
        ok = false;
  });
  if (!ok)
    return failure();
  return Planner(func, options).run();
}
