//===- ShardingSolver.cpp - choose a sharding for every value -------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Transforms/ShardingSolver.h"
#include "tp/Dialect/TP/Transforms/SegmentedSplits.h"

#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/Debug.h"
#include <algorithm>
#include "llvm/Support/FormatVariadic.h"

#define DEBUG_TYPE "tp-partition"

using namespace mlir;
using namespace mlir::tp;

static constexpr double kInfeasible = 1.0e30;
static constexpr unsigned kMaxSweeps = 16;

//===----------------------------------------------------------------------===//
// CostModel
//===----------------------------------------------------------------------===//

double CostModel::getBytes(Type type) {
  auto shaped = dyn_cast<RankedTensorType>(type);
  if (!shaped) {
    auto memref = dyn_cast<MemRefType>(type);
    if (!memref)
      return 0;
    return getBytes(RankedTensorType::get(memref.getShape(),
                                          memref.getElementType()));
  }
  double elements = 1;
  for (int64_t size : shaped.getShape())
    elements *= ShapedType::isDynamic(size) ? 1024.0 : double(size);
  Type element = shaped.getElementType();
  unsigned bits = element.isIntOrIndexOrFloat() ? element.getIntOrFloatBitWidth()
                                                : 64;
  return elements * std::max(1u, bits / 8);
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

//===----------------------------------------------------------------------===//
// ShardingSolver
//===----------------------------------------------------------------------===//

ShardingSolver::ShardingSolver(func::FuncOp func, int64_t tpSize,
                               CostModel model, bool replicateUneven,
                               bool allowPadding)
    : func(func), body(&func.getBody().front()), tpSize(tpSize),
      model(model), replicateUneven(replicateUneven),
      allowPadding(allowPadding) {}

/// True if `op` touches tensors: it has tensor operands or results, or its
/// regions use tensors defined outside.
static bool touchesTensors(Operation *op) {
  auto isTensor = [](Type t) { return isa<TensorType>(t); };
  if (llvm::any_of(op->getOperandTypes(), isTensor) ||
      llvm::any_of(op->getResultTypes(), isTensor))
    return true;
  llvm::SetVector<Value> captured;
  getUsedValuesDefinedAbove(op->getRegions(), captured);
  return llvm::any_of(captured,
                      [&](Value v) { return isTensor(v.getType()); });
}

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

std::optional<Infeasibility>
mlir::tp::checkFeasible(const ShardingOption &option, Operation *op,
                        int64_t tpSize, bool allowPadding) {
  auto check = [&](Value value, ShardingAttr sharding,
                   const Twine &what) -> std::optional<Infeasibility> {
    if (!sharding.isSplit())
      return std::nullopt;
    Infeasibility issue{value, what.str(), sharding.getDim(), -1};
    auto tensor = dyn_cast<RankedTensorType>(value.getType());
    if (!tensor || sharding.getDim() >= tensor.getRank())
      return issue;
    issue.size = tensor.getDimSize(sharding.getDim());
    if (ShapedType::isDynamic(issue.size))
      return issue;
    if (sharding.isSegmented()) {
      ArrayRef<int64_t> segments = sharding.getSegments();
      int64_t total = 0;
      for (int64_t s : segments)
        total += s;
      if (total != issue.size) {
        issue.size = -1; // The segments do not describe this dimension.
        return issue;
      }
      for (auto [i, s] : llvm::enumerate(segments))
        if (s % tpSize != 0 && !sharding.isSegmentReplicated(i)) {
          issue.segment = i;
          issue.size = s;
          return issue;
        }
      return std::nullopt;
    }
    int64_t unit = tpSize * sharding.getGranule();
    if (issue.size % unit != 0 && !(allowPadding && option.paddable)) {
      issue.granule = sharding.getGranule();
      return issue;
    }
    return std::nullopt;
  };
  for (auto [i, sharding] : llvm::enumerate(option.operands))
    if (auto issue =
            check(op->getOperand(i), sharding, "operand #" + Twine(i)))
      return issue;
  for (auto [i, sharding] : llvm::enumerate(option.results))
    if (auto issue = check(op->getResult(i), sharding, "result #" + Twine(i)))
      return issue;
  for (auto &[value, sharding] : option.captures)
    if (auto issue = check(value, sharding, "a captured tensor"))
      return issue;
  return std::nullopt;
}

LogicalResult ShardingSolver::initialize() {
  MLIRContext *ctx = func.getContext();
  bool ok = true;
  // Sized once: growing the tables moves every entry.
  states.reserve(body->getOperations().size());
  order.reserve(body->getOperations().size());
  // Segmented variants of the options (fused projections cut by slices).
  // The analysis asks for the options of the ops near the slices only.
  llvm::DenseMap<Operation *, SmallVector<ShardingOption>> structural;
  SegmentedSplits segments(body, tpSize, allowPadding, [&](Operation *op) {
    auto [it, inserted] = structural.try_emplace(op);
    if (inserted)
      if (auto iface = dyn_cast<ShardingOpInterface>(op))
        iface.getShardingOptions(tpSize, it->second);
    return ArrayRef<ShardingOption>(it->second);
  });
  for (Operation &op : body->getOperations()) {
    order.push_back(&op);
    auto iface = dyn_cast<ShardingOpInterface>(&op);
    Attribute annotation = op.getAttr(TPDialect::getParallelAttrName());
    if (!iface) {
      if (annotation) {
        InFlightDiagnostic diag = op.emitOpError(
            "'tp.parallel' applies only to matmul-like ops (linalg.matmul, "
            "linalg.batch_matmul, or a linalg contraction); this op has no "
            "tensor-parallel rule");
        // Even linalg.matmul has none: the models were never registered.
        std::optional<RegisteredOperationName> matmul =
            RegisteredOperationName::lookup("linalg.matmul", op.getContext());
        if (matmul && !matmul->hasInterface<ShardingOpInterface>())
          diag.attachNote()
              << "no op has a sharding model in this context: register them "
                 "with mlir::registerTPDialect (tp/InitAll.h); in mlir-opt, "
                 "load TPPlugin.so with --load-dialect-plugin as well as "
                 "--load-pass-plugin";
        ok = false;
      }
      if (touchesTensors(&op) && !isa<func::ReturnOp>(op))
        unknownOps.insert(&op);
      continue;
    }
    SmallVector<ShardingOption, 8> all;
    if (auto it = structural.find(&op); it != structural.end())
      all = std::move(it->second); // Asked for by the analysis already.
    else
      iface.getShardingOptions(tpSize, all);
    segments.extend(&op, all);
    if (llvm::any_of(all, [](const ShardingOption &o) {
          return o.kind == ParallelKind::Column ||
                 o.kind == ParallelKind::Row || o.kind == ParallelKind::Vocab;
        }))
      weightLike.insert(&op);
    OpState state;
    state.options.reserve(all.size());
    for (ShardingOption &option : all)
      if (!checkFeasible(option, &op, tpSize, allowPadding))
        state.options.push_back(option);
    if (state.options.empty()) {
      if (annotation) {
        op.emitOpError("'tp.parallel' cannot be applied: this op has no "
                       "distributable form");
        ok = false;
      }
      if (touchesTensors(&op))
        unknownOps.insert(&op);
      continue;
    }
    // Keep the replicated option first.
    auto isReplicated = [](const ShardingOption &o) {
      return o.kind == ParallelKind::Replicated;
    };
    // Usually so already (a buffer per op otherwise).
    if (!std::is_partitioned(state.options.begin(), state.options.end(),
                             isReplicated))
      std::stable_partition(state.options.begin(), state.options.end(),
                            isReplicated);

    if (annotation) {
      auto str = dyn_cast<StringAttr>(annotation);
      std::optional<ParallelKind> kind =
          str ? parseParallelKind(str.getValue()) : std::nullopt;
      if (!kind) {
        (void)TPDialect::verifyParallelAnnotation(&op, annotation);
        ok = false;
        continue;
      }
      auto hasKind = [&](ParallelKind k) {
        return llvm::any_of(all,
                            [&](const ShardingOption &o) { return o.kind == k; });
      };
      bool matmulLike = hasKind(ParallelKind::Column) || hasKind(ParallelKind::Row);
      bool lookup = hasKind(ParallelKind::Vocab);
      if (!matmulLike && !lookup) {
        op.emitOpError("'tp.parallel' applies only to matmul-like ops "
                       "(linalg.matmul, linalg.batch_matmul, or a linalg "
                       "contraction) and embedding lookups");
        ok = false;
        continue;
      }
      // The first feasible option of that kind (a segmented variant comes
      // before the plain split it derives from); else the first, to report.
      // `tp.result_sharding` narrows the choice to the form producing it.
      // (On one rank every form is the same: the unsharded reference.)
      auto resultSharding =
          tpSize > 1 ? op.getAttrOfType<ShardingAttr>(
                           TPDialect::getResultShardingAttrName())
                     : ShardingAttr();
      auto matches = [&](const ShardingOption &o) {
        return o.kind == *kind &&
               (!resultSharding ||
                (!o.results.empty() && o.results[0] == resultSharding));
      };
      const ShardingOption *wanted = nullptr;
      for (const ShardingOption &o : all)
        if (matches(o) && !wanted &&
            !checkFeasible(o, &op, tpSize, allowPadding))
          wanted = &o;
      for (const ShardingOption &o : all)
        if (matches(o) && !wanted)
          wanted = &o;
      if (!wanted && resultSharding &&
          llvm::any_of(all, [&](const ShardingOption &o) {
            return o.kind == *kind;
          })) {
        op.emitOpError("has no ")
            << str << " form whose result is " << resultSharding
            << " ('tp.result_sharding')";
        ok = false;
        continue;
      }
      if (!wanted) {
        op.emitOpError("has no ") << str << " form ("
                                  << (lookup ? "an embedding lookup takes "
                                               "\"vocab\" or \"replicated\""
                                             : "a matmul takes \"column\", "
                                               "\"row\" or \"replicated\"")
                                  << ")";
        ok = false;
        continue;
      }
      if (std::optional<Infeasibility> issue =
              checkFeasible(*wanted, &op, tpSize, allowPadding)) {
        std::string message = issue->message();
        if (!ShapedType::isDynamic(issue->size))
          message += " " + std::to_string(tpSize);
        if (replicateUneven && wanted->kind != ParallelKind::Replicated &&
            !state.options.empty() &&
            state.options.front().kind == ParallelKind::Replicated) {
          op.emitRemark("kept replicated (uneven=replicate): ")
              << str << " needs " << message;
          state.options.resize(1);
          state.fixed = true;
          states[&op] = std::move(state);
          continue;
        }
        if (!ShapedType::isDynamic(issue->size) && issue->size >= 0)
          message += wanted->paddable && !allowPadding
                         ? "; uneven=pad pads the split, uneven=replicate "
                           "keeps the op whole"
                         : "; uneven=replicate keeps the op whole";
        op.emitOpError("cannot be partitioned as ") << str << ": " << message;
        ok = false;
        continue;
      }
      state.options.assign({*wanted});
      state.fixed = true;
    }
    states[&op] = std::move(state);
  }

  // Candidate shardings of tensor arguments.
  for (BlockArgument arg : body->getArguments()) {
    SmallVector<ShardingAttr> &candidates = argCandidates[arg];
    candidates.push_back(ShardingAttr::getReplicated(ctx));
    if (auto type = dyn_cast<RankedTensorType>(arg.getType()))
      for (int64_t d = 0; d < type.getRank(); ++d)
        if (!type.isDynamicDim(d) &&
            (type.getDimSize(d) % tpSize == 0 || allowPadding))
          candidates.push_back(ShardingAttr::getSplit(ctx, d));
    segments.addArgumentCandidates(arg, candidates);
    argShardings[arg] = candidates.front();
  }
  return success(ok);
}

const ShardingOption *ShardingSolver::getChosenOption(Operation *op) const {
  auto it = states.find(op);
  if (it == states.end())
    return nullptr;
  return &it->second.options[it->second.chosen];
}

bool ShardingSolver::isAnnotated(Operation *op) const {
  auto it = states.find(op);
  return it != states.end() && it->second.fixed;
}

ShardingAttr ShardingSolver::getSharding(Value value) const {
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    auto it = argShardings.find(arg);
    if (it != argShardings.end())
      return it->second;
  } else if (const ShardingOption *option =
                 getChosenOption(value.getDefiningOp())) {
    return option->results[cast<OpResult>(value).getResultNumber()];
  }
  return ShardingAttr::getReplicated(value.getContext());
}

ShardingAttr ShardingSolver::getDemand(OpOperand &use) const {
  Operation *owner = use.getOwner();
  // Uses nested in a region belong to the top-level op around them: its option
  // says how it needs the captured value (replicated unless it has a rule).
  if (owner->getBlock() != body) {
    Operation *top = body->findAncestorOpInBlock(*owner);
    if (const ShardingOption *option = top ? getChosenOption(top) : nullptr)
      return option->getCaptureSharding(use.get());
    return ShardingAttr::getReplicated(owner->getContext());
  }
  if (const ShardingOption *option = getChosenOption(owner))
    return option->operands[use.getOperandNumber()];
  return ShardingAttr::getReplicated(owner->getContext());
}

double ShardingSolver::optionCost(Operation *op,
                                  const ShardingOption &option) const {
  double cost = 0;
  for (auto &[value, sharding] : option.captures)
    cost += model.reshard(getSharding(value), sharding, value.getType(),
                          tpSize);
  for (auto [i, operand] : llvm::enumerate(op->getOperands()))
    cost += model.reshard(getSharding(operand), option.operands[i],
                          operand.getType(), tpSize);
  for (auto [i, result] : llvm::enumerate(op->getResults())) {
    cost += model.memory(option.results[i], result.getType(), tpSize);
    cost += usesCost(result, option.results[i]);
  }
  return cost;
}

double ShardingSolver::usesCost(Value value, ShardingAttr sharding) const {
  // The partitioner moves a value once per target sharding, however many
  // users want it that way: a partial sum read by three ops is reduced once.
  SmallVector<ShardingAttr, 4> demands;
  double cost = 0;
  for (OpOperand &use : value.getUses()) {
    ShardingAttr demand = getDemand(use);
    if (llvm::is_contained(demands, demand))
      continue;
    demands.push_back(demand);
    cost += model.reshard(sharding, demand, value.getType(), tpSize);
  }
  return cost;
}

double ShardingSolver::argumentCost(BlockArgument arg,
                                    ShardingAttr sharding) const {
  return model.memory(sharding, arg.getType(), tpSize) +
         usesCost(arg, sharding);
}

bool ShardingSolver::improveOp(Operation *op) {
  auto it = states.find(op);
  if (it == states.end() || it->second.fixed)
    return false;
  OpState &state = it->second;
  unsigned best = state.chosen;
  double bestCost = optionCost(op, state.options[best]);
  for (unsigned i = 0, e = state.options.size(); i < e; ++i) {
    double cost = optionCost(op, state.options[i]);
    if (cost < bestCost * (1 - 1e-9) - 1e-9) {
      best = i;
      bestCost = cost;
    }
  }
  if (best == state.chosen)
    return false;
  state.chosen = best;
  return true;
}

bool ShardingSolver::improveArgument(BlockArgument arg) {
  ShardingAttr &current = argShardings[arg];
  ShardingAttr best = current;
  double bestCost = argumentCost(arg, best);
  for (ShardingAttr candidate : argCandidates[arg]) {
    double cost = argumentCost(arg, candidate);
    if (cost < bestCost * (1 - 1e-9) - 1e-9) {
      best = candidate;
      bestCost = cost;
    }
  }
  if (best == current)
    return false;
  current = best;
  return true;
}

void ShardingSolver::propagateForward() {
  // A partial value is reduced whole here (Megatron): turning it into a split
  // one with reduce_scatter is cheaper for one op but leads the sweeps into
  // a reduce_scatter + all_gather minimum; sequence parallelism is a separate
  // decision.
  auto cost = [&](ShardingAttr from, ShardingAttr to, Type type) {
    if (from.isPartial() && to.isSplit())
      return model.reshard(from, ShardingAttr::getReplicated(to.getContext()),
                           type, tpSize) +
             model.slice;
    return model.reshard(from, to, type, tpSize);
  };
  for (Operation *op : order) {
    auto it = states.find(op);
    if (it == states.end() || it->second.fixed)
      continue;
    OpState &state = it->second;
    double bestCost = 0;
    for (unsigned i = 0, e = state.options.size(); i < e; ++i) {
      const ShardingOption &option = state.options[i];
      double total = 0;
      for (auto [j, operand] : llvm::enumerate(op->getOperands()))
        total += cost(getSharding(operand), option.operands[j],
                      operand.getType());
      for (auto &[value, sharding] : option.captures)
        total += cost(getSharding(value), sharding, value.getType());
      if (i == 0 || total < bestCost) {
        state.chosen = i;
        bestCost = total;
      }
    }
  }
}

void ShardingSolver::solve() {
  if (tpSize == 1)
    return;
  propagateForward();
  // Local improvement: every op once, then only the neighbours of ops and
  // arguments whose choice changed, until nothing changes (bounded).
  SetVector<Operation *> worklist;
  for (Operation *op : order)
    if (states.count(op))
      worklist.insert(op);
  auto pushNeighbours = [&](Operation *op) {
    for (Value operand : op->getOperands())
      if (Operation *def = operand.getDefiningOp())
        if (states.count(def))
          worklist.insert(def);
    for (Operation *user : op->getUsers()) {
      Operation *top = body->findAncestorOpInBlock(*user);
      if (top && states.count(top))
        worklist.insert(top);
    }
  };
  size_t budget = kMaxSweeps * (order.size() + body->getNumArguments());
  for (BlockArgument arg : body->getArguments())
    if (improveArgument(arg))
      for (Operation *user : arg.getUsers())
        if (Operation *top = body->findAncestorOpInBlock(*user))
          if (states.count(top))
            worklist.insert(top);
  while (!worklist.empty() && budget-- > 0) {
    Operation *op = worklist.pop_back_val();
    if (!improveOp(op))
      continue;
    pushNeighbours(op);
    // Arguments follow the demands of their users.
    for (Value operand : op->getOperands())
      if (auto arg = dyn_cast<BlockArgument>(operand))
        if (arg.getOwner() == body && improveArgument(arg))
          for (Operation *user : arg.getUsers())
            if (Operation *top = body->findAncestorOpInBlock(*user))
              if (states.count(top))
                worklist.insert(top);
  }
  // Settle the arguments against the final choices.
  for (BlockArgument arg : body->getArguments())
    improveArgument(arg);
  LLVM_DEBUG(llvm::dbgs() << "solved: cost " << getTotalCost() << "\n");
}

double ShardingSolver::getTotalCost() const {
  double cost = 0;
  for (BlockArgument arg : body->getArguments())
    cost += model.memory(getSharding(arg), arg.getType(), tpSize);
  llvm::DenseSet<std::pair<Value, Attribute>> moved;
  for (Operation *op : order) {
    for (OpOperand &use : op->getOpOperands())
      if (moved.insert({use.get(), getDemand(use)}).second)
        cost += model.reshard(getSharding(use.get()), getDemand(use),
                              use.get().getType(), tpSize);
    if (const ShardingOption *option = getChosenOption(op))
      for (auto &[value, sharding] : option->captures)
        cost += model.reshard(getSharding(value), sharding, value.getType(),
                              tpSize);
    for (Value result : op->getResults())
      cost += model.memory(getSharding(result), result.getType(), tpSize);
  }
  return cost;
}
