//===- ShardingProblem.cpp - every op's ways to run on tp ranks -----------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Analysis/ShardingProblem.h"
#include "tp/Dialect/TP/Analysis/SegmentedSplits.h"
#include "tp/Dialect/TP/IR/TPDialect.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::tp;

//===----------------------------------------------------------------------===//
// Feasibility
//===----------------------------------------------------------------------===//

std::string Infeasibility::message() const {
  if (ShapedType::isDynamic(size))
    return llvm::formatv("{0} has a dynamic size on the split dimension {1}; "
                         "only static dimensions can be split",
                         what, dim);
  if (size < 0)
    return what + " cannot be split";
  if (granule != 1)
    return llvm::formatv("sharded dimension {0} of {1} (size {2}) does not "
                         "divide into whole units of {3} by tp-size",
                         dim, what, size, granule);
  if (segment >= 0)
    return llvm::formatv("segment {0} (size {1}) of the split dimension {2} "
                         "of {3} is not divisible by tp-size",
                         segment, size, dim, what);
  return llvm::formatv("sharded dimension {0} of {1} (size {2}) is not "
                       "divisible by tp-size",
                       dim, what, size);
}

/// Why `value` cannot be held as `sharding` on `tpSize` ranks, if it cannot.
/// `what` names it in the message; it is only rendered for an issue (this
/// runs for every option of every op).
static std::optional<Infeasibility>
checkSplit(Value value, ShardingAttr sharding, const Twine &what,
           int64_t tpSize, bool allowPadding) {
  if (!sharding.isSplit())
    return std::nullopt;
  int64_t dim = sharding.getDim();
  auto issue = [&](int64_t size, int64_t segment = -1, int64_t granule = 1) {
    return Infeasibility{value, what.str(), dim, size, segment, granule};
  };
  auto tensor = dyn_cast<RankedTensorType>(value.getType());
  if (!tensor || dim >= tensor.getRank())
    return issue(-1);
  int64_t size = tensor.getDimSize(dim);
  if (ShapedType::isDynamic(size))
    return issue(size);
  if (sharding.isSegmented()) {
    ArrayRef<int64_t> segments = sharding.getSegments();
    int64_t total = 0;
    for (int64_t s : segments)
      total += s;
    if (total != size)
      return issue(-1); // The segments do not describe this dimension.
    for (auto [i, s] : llvm::enumerate(segments))
      if (s % tpSize != 0 && !sharding.isSegmentReplicated(i))
        return issue(s, i);
    return std::nullopt;
  }
  int64_t unit = tpSize * sharding.getGranule();
  if (size % unit != 0 && !allowPadding)
    return issue(size, -1, sharding.getGranule());
  return std::nullopt;
}

std::optional<Infeasibility>
mlir::tp::checkFeasible(const ShardingOption &option, Operation *op,
                        int64_t tpSize, bool allowPadding) {
  bool pad = allowPadding && option.paddable;
  for (auto [i, sharding] : llvm::enumerate(option.operands))
    if (auto issue = checkSplit(op->getOperand(i), sharding,
                                "operand #" + Twine(i), tpSize, pad))
      return issue;
  for (auto [i, sharding] : llvm::enumerate(option.results))
    if (auto issue = checkSplit(op->getResult(i), sharding,
                                "result #" + Twine(i), tpSize, pad))
      return issue;
  for (auto &[value, sharding] : option.captures)
    if (auto issue =
            checkSplit(value, sharding, "a captured tensor", tpSize, pad))
      return issue;
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// ShardingProblem
//===----------------------------------------------------------------------===//

ShardingProblem::ShardingProblem(func::FuncOp func, int64_t tpSize,
                                 UnevenPolicy uneven, CostModel model)
    : func(func), body(&func.getBody().front()), tpSize(tpSize), uneven(uneven),
      model(model), parallelName(StringAttr::get(
                        func.getContext(), TPDialect::getParallelAttrName())),
      resultShardingName(StringAttr::get(
          func.getContext(), TPDialect::getResultShardingAttrName())) {
  collectOptions();
  // Segmented and granular variants, derived from the structural options.
  SegmentedSplits segments(body, tpSize, allowsPadding(), [&](Operation *op) {
    std::optional<unsigned> index = findIndex(op);
    return index ? optionsOf(entries[*index]) : ArrayRef<ShardingOption>();
  });
  addVariants(segments);
  collectArgumentCandidates(segments);
  parameters = std::make_unique<ParameterArguments>(
      func, [&](linalg::LinalgOp op) { return getActivationOperand(op); });
}

std::optional<unsigned>
ShardingProblem::getActivationOperand(Operation *op) const {
  std::optional<unsigned> index = findIndex(op);
  if (index && entries[*index].weightLike) {
    if (entries[*index].activation < 0)
      return std::nullopt;
    return static_cast<unsigned>(entries[*index].activation);
  }
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  return linalgOp ? tp::getActivationOperand(linalgOp) : std::nullopt;
}

void ShardingProblem::collectOptions() {
  size_t size = body->getOperations().size();
  order.reserve(size);
  entries.reserve(size);
  indices.reserve(size);
  options.reserve(4 * size);
  compute.reserve(4 * size);
  SmallVector<ShardingOption, 8> scratch;
  for (Operation &op : *body) {
    indices[&op] = order.size();
    order.push_back(&op);
    OpEntry &e = entries.emplace_back();
    if (auto iface = dyn_cast<ShardingOpInterface>(&op)) {
      e.hasRule = true;
      scratch.clear();
      iface.getShardingOptions(tpSize, scratch);
      e.firstOption = options.size();
      e.numOptions = scratch.size();
      options.append(std::make_move_iterator(scratch.begin()),
                     std::make_move_iterator(scratch.end()));
    }
    // Classified while the op and its options are still in the cache (a
    // sweep of its own came back to a large model's ops after they had
    // left it); the few ops that get segmented variants are classified
    // again (addVariants).
    classify(&op, e);
  }
}

/// Each op's options with the segmented variants inserted: in place when
/// there are none, else as a new slice at the table's end (the old one is
/// left unused).
void ShardingProblem::addVariants(const SegmentedSplits &segments) {
  SmallVector<ShardingOption, 16> extended;
  for (auto [op, e] : llvm::zip(order, entries)) {
    extended.clear();
    if (!segments.extend(op, optionsOf(e), extended))
      continue;
    if (extended.size() == e.numOptions) {
      std::move(extended.begin(), extended.end(), optionsOf(e).begin());
    } else {
      e.firstOption = options.size();
      e.numOptions = extended.size();
      options.append(std::make_move_iterator(extended.begin()),
                     std::make_move_iterator(extended.end()));
    }
    // Its feasible positions and compute costs again, as a new slice of
    // `feasible` (the old one is left unused).
    classify(op, e);
  }
}

/// True if `op` touches tensors: it has tensor operands or results, or its
/// regions use tensors defined outside.
static bool touchesTensors(Operation *op) {
  auto isTensor = [](Type t) { return isa<TensorType>(t); };
  if (llvm::any_of(op->getOperandTypes(), isTensor) ||
      llvm::any_of(op->getResultTypes(), isTensor))
    return true;
  llvm::SetVector<Value> captured;
  getUsedValuesDefinedAbove(op->getRegions(), captured);
  return llvm::any_of(captured, [&](Value v) { return isTensor(v.getType()); });
}

void ShardingProblem::classify(Operation *op, OpEntry &e) {
  compute.resize(options.size(), 0.0);
  MutableArrayRef<ShardingOption> opOptions = optionsOf(e);
  auto isReplicated = [](const ShardingOption &o) {
    return o.kind == ParallelKind::Replicated;
  };
  // Models list the replicated option first already; stable_partition
  // would allocate a buffer per op to find that out.
  if (!std::is_partitioned(opOptions.begin(), opOptions.end(), isReplicated))
    std::stable_partition(opOptions.begin(), opOptions.end(), isReplicated);
  e.weightLike = llvm::any_of(opOptions, [](const ShardingOption &o) {
    return o.kind == ParallelKind::Column || o.kind == ParallelKind::Row ||
           o.kind == ParallelKind::Vocab;
  });
  // The weight ops' activation sides are asked for again and again.
  if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op); linalgOp && e.weightLike)
    if (std::optional<unsigned> activation = tp::getActivationOperand(linalgOp))
      e.activation = static_cast<int>(*activation);
  e.firstFeasible = feasible.size();
  for (auto [i, option] : llvm::enumerate(opOptions))
    if (!checkFeasible(option, op))
      feasible.push_back(i);
  e.numFeasible = feasible.size() - e.firstFeasible;
  e.unknown =
      e.numFeasible == 0 && touchesTensors(op) && !isa<func::ReturnOp>(op);
  if (double flops = e.numFeasible == 0 ? 0 : CostModel::getFlops(op))
    for (auto [i, option] : llvm::enumerate(opOptions))
      compute[e.firstOption + i] = model.computeFromFlops(
          flops, CostModel::getLocalWorkFraction(op, option, tpSize));
}

void ShardingProblem::collectArgumentCandidates(
    const SegmentedSplits &segments) {
  MLIRContext *ctx = func.getContext();
  for (BlockArgument arg : body->getArguments()) {
    SmallVector<ShardingAttr, 4> &candidates = argCandidates[arg];
    candidates.push_back(ShardingAttr::getReplicated(ctx));
    if (auto type = dyn_cast<RankedTensorType>(arg.getType()))
      for (int64_t d = 0; d < type.getRank(); ++d)
        if (!type.isDynamicDim(d) &&
            (type.getDimSize(d) % tpSize == 0 || allowsPadding()))
          candidates.push_back(ShardingAttr::getSplit(ctx, d));
    SmallVector<ShardingAttr> segmented;
    segments.addArgumentCandidates(arg, segmented);
    candidates.append(segmented.begin(), segmented.end());
  }
}

const ShardingProblem::OpEntry &ShardingProblem::entry(Operation *op) const {
  std::optional<unsigned> index = findIndex(op);
  assert(index && "not a top-level op of the function");
  return entries[*index];
}

std::optional<unsigned> ShardingProblem::findIndex(Operation *op) const {
  auto it = indices.find(op);
  if (it == indices.end())
    return std::nullopt;
  return it->second;
}

const ShardingOption *ShardingProblem::findKind(Operation *op,
                                                ParallelKind kind,
                                                bool feasibleOnly) const {
  ArrayRef<ShardingOption> opOptions = getOptions(op);
  if (feasibleOnly) {
    for (unsigned i : getFeasible(op))
      if (opOptions[i].kind == kind)
        return &opOptions[i];
    return nullptr;
  }
  for (const ShardingOption &o : opOptions)
    if (o.kind == kind)
      return &o;
  return nullptr;
}

ArrayRef<ShardingAttr>
ShardingProblem::getArgumentCandidates(BlockArgument arg) const {
  auto it = argCandidates.find(arg);
  return it == argCandidates.end() ? ArrayRef<ShardingAttr>()
                                   : ArrayRef<ShardingAttr>(it->second);
}

AnnotationMatch ShardingProblem::matchAnnotation(Operation *op) const {
  using Status = AnnotationMatch::Status;
  AnnotationMatch match;
  // Discardable attributes only, by interned name: looking among an op's
  // inherent attributes (by string) first reads its properties, one more
  // cache line of every op of a model that no longer fits the caches.
  Attribute attr = op->getDiscardableAttr(parallelName);
  if (!attr)
    return match;
  const OpEntry &e = entry(op);
  ArrayRef<ShardingOption> opOptions = getOptions(op);
  ArrayRef<unsigned> opFeasible = getFeasible(op);
  auto done = [&](Status status) {
    match.status = status;
    return match;
  };
  if (!e.hasRule)
    return done(Status::NoRule);
  if (opFeasible.empty())
    return done(Status::NoFeasible);
  match.annotation = dyn_cast<StringAttr>(attr);
  std::optional<ParallelKind> kind =
      match.annotation ? parseParallelKind(match.annotation.getValue())
                       : std::nullopt;
  if (!kind)
    return done(Status::Malformed);
  match.kind = *kind;
  auto hasKind = [&](ParallelKind k) {
    return llvm::any_of(opOptions,
                        [&](const ShardingOption &o) { return o.kind == k; });
  };
  match.isLookup = hasKind(ParallelKind::Vocab);
  if (!hasKind(ParallelKind::Column) && !hasKind(ParallelKind::Row) &&
      !match.isLookup)
    return done(Status::NotWeightOp);
  // `tp.result_sharding` narrows the choice to the form producing it (on one
  // rank every form is the same: the unsharded reference).
  if (tpSize > 1)
    match.resultSharding = dyn_cast_or_null<ShardingAttr>(
        op->getDiscardableAttr(resultShardingName));
  auto matches = [&](const ShardingOption &o) {
    return o.kind == *kind &&
           (!match.resultSharding ||
            (!o.results.empty() && o.results[0] == match.resultSharding));
  };
  // The first feasible option of that kind (a segmented variant comes before
  // the plain split it derives from); else the first, to report.
  for (unsigned i : opFeasible)
    if (!match.option && matches(opOptions[i]))
      match.option = &opOptions[i];
  if (match.option)
    return done(Status::Matched);
  for (const ShardingOption &o : opOptions)
    if (!match.option && matches(o))
      match.option = &o;
  if (!match.option)
    return done(match.resultSharding && hasKind(*kind) ? Status::NoResultForm
                                                       : Status::NoForm);
  match.issue = checkFeasible(*match.option, op);
  return done(Status::Infeasible);
}

std::pair<Value, ShardingAttr>
ShardingProblem::traceToSource(Value value, ShardingAttr sharding) const {
  for (unsigned depth = 0; depth < 4 && sharding && !sharding.isPartial();
       ++depth) {
    Operation *def = value.getDefiningOp();
    if (!def || !contains(def) || def->getNumResults() != 1)
      break;
    unsigned source = 0;
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(def)) {
      if (linalgOp.getNumDpsInputs() != 1 ||
          linalgOp.getNumReductionLoops() != 0)
        break;
      source = linalgOp.getDpsInputOperand(0)->getOperandNumber();
    } else if (!isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(def)) {
      break;
    }
    const ShardingOption *carried = nullptr;
    for (unsigned i : getFeasible(def)) {
      const ShardingOption &option = getOptions(def)[i];
      ShardingAttr in = option.operands[source];
      if (option.results[0] == sharding &&
          (sharding.isReplicated() ? in.isReplicated() : in.isSplit())) {
        carried = &option;
        break;
      }
    }
    if (!carried)
      break;
    value = def->getOperand(source);
    sharding = carried->operands[source];
  }
  return {value, sharding};
}

//===----------------------------------------------------------------------===//
// ShardingProblemAnalysis
//===----------------------------------------------------------------------===//

ShardingProblemAnalysis::ShardingProblemAnalysis(Operation *op)
    : func(cast<func::FuncOp>(op)) {}

const ShardingProblem &ShardingProblemAnalysis::get(int64_t tpSize,
                                                    UnevenPolicy uneven,
                                                    const CostModel &model) {
  bool stale = !problem || problem->getTPSize() != tpSize ||
               problem->getUnevenPolicy() != uneven ||
               !(problem->getCostModel() == model);
  if (stale)
    problem = std::make_unique<ShardingProblem>(func, tpSize, uneven, model);
  return *problem;
}
