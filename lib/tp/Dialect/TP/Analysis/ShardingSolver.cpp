//===- ShardingSolver.cpp - choose a sharding for every value -------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Analysis/ShardingSolver.h"
#include "tp/Dialect/TP/Analysis/Parameters.h"
#include "tp/Dialect/TP/IR/TPDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/Debug.h"

#include <queue>

#define DEBUG_TYPE "tp-partition"

using namespace mlir;
using namespace mlir::tp;

static constexpr unsigned kMaxSweeps = 16;

ShardingSolver::ShardingSolver(const ShardingProblem &problem,
                               SolverOptions options)
    : problem(problem), options(options), body(problem.getBody()),
      tpSize(problem.getTPSize()), model(problem.getCostModel()),
      replicated(
          ShardingAttr::getReplicated(body->getParentOp()->getContext())) {}

LogicalResult ShardingSolver::initialize() {
  bool ok = true;
  states.resize(problem.getOps().size());
  for (auto [op, state] : llvm::zip(problem.getOps(), states)) {
    ArrayRef<unsigned> feasible = problem.getFeasible(op);
    AnnotationMatch match = problem.matchAnnotation(op);
    if (feasible.empty()) {
      // Untracked: the op runs replicated (an annotation on it is an error).
      OpState none;
      if (match.status != AnnotationMatch::Status::None)
        ok &= succeeded(applyAnnotation(op, match, none));
      continue;
    }
    state.options = problem.getOptions(op).data();
    state.candidates.assign(feasible.begin(), feasible.end());
    if (match.status != AnnotationMatch::Status::None)
      ok &= succeeded(applyAnnotation(op, match, state));
  }
  for (BlockArgument arg : body->getArguments())
    argShardings[arg] = problem.getArgumentCandidates(arg).front();
  buildGraph();
  return success(ok);
}

LogicalResult ShardingSolver::applyAnnotation(Operation *op,
                                              const AnnotationMatch &match,
                                              OpState &state) {
  using Status = AnnotationMatch::Status;
  switch (match.status) {
  case Status::None:
    return success();
  case Status::Matched:
    state.candidates.assign(
        {unsigned(match.option - problem.getOptions(op).data())});
    state.chosen = 0;
    state.fixed = true;
    return success();
  case Status::NoRule: {
    InFlightDiagnostic diag = op->emitOpError(
        "'tp.parallel' applies only to matmul-like ops (linalg.matmul, "
        "linalg.batch_matmul, or a linalg contraction); this op has no "
        "tensor-parallel rule");
    // Even linalg.matmul has none: the models were never registered.
    std::optional<RegisteredOperationName> matmul =
        RegisteredOperationName::lookup("linalg.matmul", op->getContext());
    if (matmul && !matmul->hasInterface<ShardingOpInterface>())
      diag.attachNote()
          << "no op has a sharding model in this context: register them "
             "with mlir::registerTPDialect (tp/InitAll.h); in mlir-opt, "
             "load TPPlugin.so with --load-dialect-plugin as well as "
             "--load-pass-plugin";
    return failure();
  }
  case Status::NoFeasible:
    return op->emitOpError("'tp.parallel' cannot be applied: this op has no "
                           "distributable form");
  case Status::Malformed:
    (void)TPDialect::verifyParallelAnnotation(
        op, op->getAttr(TPDialect::getParallelAttrName()));
    return failure();
  case Status::NotWeightOp:
    return op->emitOpError("'tp.parallel' applies only to matmul-like ops "
                           "(linalg.matmul, linalg.batch_matmul, or a linalg "
                           "contraction) and embedding lookups");
  case Status::NoResultForm:
    return op->emitOpError("has no ")
           << match.annotation << " form whose result is "
           << match.resultSharding << " ('tp.result_sharding')";
  case Status::NoForm:
    return op->emitOpError("has no ")
           << match.annotation << " form ("
           << (match.isLookup ? "an embedding lookup takes "
                                "\"vocab\" or \"replicated\""
                              : "a matmul takes \"column\", "
                                "\"row\" or \"replicated\"")
           << ")";
  case Status::Infeasible:
    break;
  }
  const Infeasibility &issue = *match.issue;
  std::string message = issue.message();
  if (!ShapedType::isDynamic(issue.size))
    message += " " + std::to_string(tpSize);
  if (problem.getUnevenPolicy() == UnevenPolicy::Replicate &&
      match.option->kind != ParallelKind::Replicated &&
      problem.getOptions(op)[state.candidates.front()].kind ==
          ParallelKind::Replicated) {
    op->emitRemark("kept replicated (uneven=replicate): ")
        << match.annotation << " needs " << message;
    state.candidates.resize(1);
    state.chosen = 0;
    state.fixed = true;
    return success();
  }
  if (!ShapedType::isDynamic(issue.size) && issue.size >= 0)
    message += match.option->paddable && !problem.allowsPadding()
                   ? "; uneven=pad pads the split, uneven=replicate "
                     "keeps the op whole"
                   : "; uneven=replicate keeps the op whole";
  return op->emitOpError("cannot be partitioned as ")
         << match.annotation << ": " << message;
}

const ShardingOption *ShardingSolver::getChosenOption(Operation *op) const {
  const OpState *state = findState(op);
  if (!state || state->candidates.empty())
    return nullptr;
  return &option(*state, state->chosen);
}

bool ShardingSolver::isAnnotated(Operation *op) const {
  const OpState *state = findState(op);
  return state && state->fixed;
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
  return replicated;
}

ShardingAttr ShardingSolver::getDemand(OpOperand &use) const {
  return getDemand(classifyUse(use), use.get());
}

ShardingSolver::UseRef ShardingSolver::classifyUse(OpOperand &use) const {
  Operation *owner = use.getOwner();
  UseRef ref;
  // Uses nested in a region belong to the top-level op around them: its
  // option says how it needs the captured value.
  Operation *top = owner->getBlock() == body
                       ? owner
                       : body->findAncestorOpInBlock(*owner);
  std::optional<unsigned> index = top ? problem.findIndex(top) : std::nullopt;
  if (!index)
    return ref; // Outside: wanted replicated.
  ref.top = *index;
  ref.operandNumber = use.getOperandNumber();
  if (top != owner)
    ref.kind = UseRef::Nested;
  else if (owner->hasTrait<OpTrait::IsTerminator>())
    ref.kind = UseRef::Terminator;
  else
    ref.kind = UseRef::Direct;
  return ref;
}

ShardingAttr ShardingSolver::getPartialResultSharding(unsigned index) const {
  auto it = resultScatters.find(index);
  return it != resultScatters.end() ? it->second : replicated;
}

ShardingAttr ShardingSolver::getResultSharding(unsigned index) const {
  if (!options.shardedResults)
    return replicated;
  ShardingAttr sharding =
      getSharding(body->getTerminator()->getOperand(index));
  return sharding.isPartial() ? getPartialResultSharding(index) : sharding;
}

void ShardingSolver::buildGraph() {
  ArrayRef<Operation *> ops = problem.getOps();
  // Slots: every op's results in order, then the arguments.
  firstResultSlot.reserve(ops.size());
  unsigned slots = 0;
  for (Operation *op : ops) {
    firstResultSlot.push_back(slots);
    slots += op->getNumResults();
  }
  argumentSlots = slots;
  slots += body->getNumArguments();
  auto slotOf = [&](Value value) -> std::pair<int, unsigned> {
    if (auto arg = dyn_cast<BlockArgument>(value))
      return {-1, argumentSlots + arg.getArgNumber()};
    auto result = cast<OpResult>(value);
    unsigned def = problem.getIndex(result.getOwner());
    return {int(def), firstResultSlot[def] + result.getResultNumber()};
  };
  firstOperandRef.reserve(ops.size() + 1);
  for (Operation *op : ops) {
    firstOperandRef.push_back(operandRefs.size());
    for (Value operand : op->getOperands()) {
      auto [def, slot] = slotOf(operand);
      operandRefs.push_back({operand, operand.getType(), def, slot});
    }
  }
  firstOperandRef.push_back(operandRefs.size());
  // Uses, slot by slot, in use-list order (costs add up in that order).
  firstUseRef.reserve(slots + 1);
  auto addUses = [&](Value value) {
    firstUseRef.push_back(useRefs.size());
    for (OpOperand &use : value.getUses())
      useRefs.push_back(classifyUse(use));
  };
  for (Operation *op : ops)
    for (Value result : op->getResults())
      addUses(result);
  for (BlockArgument arg : body->getArguments())
    addUses(arg);
  firstUseRef.push_back(useRefs.size());
}

ShardingAttr ShardingSolver::getDemand(const UseRef &use, Value value) const {
  switch (use.kind) {
  case UseRef::Direct:
    if (const ShardingOption *option = getChosenAt(use.top))
      return option->operands[use.operandNumber];
    return replicated;
  case UseRef::Nested:
    if (const ShardingOption *option = getChosenAt(use.top))
      return option->getCaptureSharding(value);
    return replicated;
  case UseRef::Terminator:
    return getResultSharding(use.operandNumber);
  case UseRef::Outside:
    break;
  }
  return replicated;
}

double ShardingSolver::optionCost(unsigned index, Operation *op,
                                  const ShardingOption &option) const {
  // The FLOPs a rank computes: a split that saves them is worth that much
  // communication (so "replicate and gather" loses where a split saves
  // FLOPs at an equal byte count).
  double cost = problem.getComputeCost(op, option);
  for (auto &[value, sharding] : option.captures)
    cost +=
        model.reshard(getSharding(value), sharding, value.getType(), tpSize);
  for (auto [i, operand] : llvm::enumerate(getOperandRefs(index))) {
    ShardingAttr have = getShardingOf(operand);
    if (!isDemandedElsewhere(operand.slot, operand.value, have, index,
                             option.operands[i]))
      cost += model.reshard(have, option.operands[i], operand.type, tpSize);
  }
  for (auto [i, result] : llvm::enumerate(op->getResults())) {
    cost += model.memory(option.results[i], result.getType(), tpSize);
    cost += usesCost(firstResultSlot[index] + i, result, option.results[i]);
  }
  return cost;
}

bool ShardingSolver::isDemandedElsewhere(unsigned slot, Value value,
                                         ShardingAttr have, unsigned index,
                                         ShardingAttr sharding) const {
  // Only a collective is shared; a local slice is each user's own.
  if (have.isReplicated() || have == sharding)
    return false;
  for (const UseRef &use : getUseRefs(slot)) {
    bool byThisOp =
        (use.kind == UseRef::Direct || use.kind == UseRef::Nested) &&
        use.top == index;
    if (!byThisOp && getDemand(use, value) == sharding)
      return true;
  }
  return false;
}

double ShardingSolver::usesCost(unsigned slot, Value value,
                                ShardingAttr sharding) const {
  // The partitioner moves a value once per target sharding, however many
  // users want it that way: a partial sum read by three ops is reduced once.
  SmallVector<ShardingAttr, 4> demands;
  double cost = 0;
  Type type = value.getType();
  for (const UseRef &use : getUseRefs(slot)) {
    ShardingAttr demand = getDemand(use, value);
    if (llvm::is_contained(demands, demand))
      continue;
    demands.push_back(demand);
    cost += model.reshard(sharding, demand, type, tpSize);
  }
  return cost;
}

double ShardingSolver::argumentCost(BlockArgument arg,
                                    ShardingAttr sharding) const {
  return model.memory(sharding, arg.getType(), tpSize) +
         usesCost(argumentSlots + arg.getArgNumber(), arg, sharding);
}

bool ShardingSolver::improveOp(Operation *op) {
  std::optional<unsigned> index = problem.findIndex(op);
  if (!index)
    return false;
  OpState &state = states[*index];
  if (!state.options || state.fixed || state.candidates.empty())
    return false;
  unsigned best = state.chosen;
  double bestCost = optionCost(*index, op, option(state, best));
  for (unsigned i = 0, e = state.candidates.size(); i < e; ++i) {
    if (i == state.chosen)
      continue;
    double cost = optionCost(*index, op, option(state, i));
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
  for (ShardingAttr candidate : problem.getArgumentCandidates(arg)) {
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

void ShardingSolver::seedArguments() {
  // What every annotated op wants of each argument it reads, directly or
  // through views and transposes; an argument they all want split the same
  // way starts split so.
  llvm::MapVector<BlockArgument, SmallVector<ShardingAttr, 2>> wants;
  auto want = [&](Value value, ShardingAttr wanted) {
    auto [source, sharding] = problem.traceToSource(value, wanted);
    auto arg = dyn_cast<BlockArgument>(source);
    if (!arg || arg.getOwner() != body || !isa<RankedTensorType>(arg.getType()))
      return;
    SmallVector<ShardingAttr, 2> &list = wants[arg];
    if (!llvm::is_contained(list, sharding))
      list.push_back(sharding);
  };
  for (auto [op, state] : llvm::zip(problem.getOps(), states)) {
    if (!state.options || !state.fixed)
      continue;
    const ShardingOption &chosen = option(state, state.chosen);
    for (auto [i, operand] : llvm::enumerate(op->getOperands()))
      want(operand, chosen.operands[i]);
    // A lookup's table is captured by its body.
    for (auto &[value, sharding] : chosen.captures)
      want(value, sharding);
  }
  for (auto &[arg, list] : wants)
    if (list.size() == 1 && list.front().isSplit() &&
        argShardings[arg].isReplicated() &&
        llvm::is_contained(problem.getArgumentCandidates(arg), list.front()))
      argShardings[arg] = list.front();
}

void ShardingSolver::propagateForward() {
  // A partial value is reduced whole here (Megatron; see
  // CostModel::reshardReducingWhole); sequence parallelism is a separate
  // decision.
  auto cost = [&](ShardingAttr from, ShardingAttr to, Type type) {
    return model.reshardReducingWhole(from, to, type, tpSize);
  };
  // A partial value that some user can only read whole is reduced anyway:
  // its other users share that reduction rather than carry the pending sum
  // on (through a view of it, say) into a second one. Known per slot: 0 not
  // asked yet, 1 no, 2 yes. Read from the graph, as the costs below: this
  // sweep is the first of the solver's over every op.
  SmallVector<uint8_t, 0> reducedAnyway(firstUseRef.size(), 0);
  auto isReducedAnyway = [&](unsigned slot) {
    uint8_t &known = reducedAnyway[slot];
    if (known)
      return known == 2;
    known = 1;
    for (const UseRef &use : getUseRefs(slot)) {
      if (use.kind != UseRef::Direct)
        continue;
      ArrayRef<unsigned> feasible = problem.getFeasibleAt(use.top);
      ArrayRef<ShardingOption> userOptions = problem.getOptionsAt(use.top);
      if (!feasible.empty() && llvm::none_of(feasible, [&](unsigned i) {
            return userOptions[i].operands[use.operandNumber].isPartial();
          })) {
        known = 2;
        break;
      }
    }
    return known == 2;
  };
  for (auto [index, state] : llvm::enumerate(states)) {
    if (!state.options || state.fixed || state.candidates.empty())
      continue;
    ArrayRef<OperandRef> operands = getOperandRefs(index);
    double bestCost = 0;
    for (unsigned i = 0, e = state.candidates.size(); i < e; ++i) {
      const ShardingOption &candidate = option(state, i);
      double total = 0;
      for (auto [j, operand] : llvm::enumerate(operands)) {
        ShardingAttr have = getShardingOf(operand);
        if (have.isPartial() && candidate.operands[j].isReplicated() &&
            isReducedAnyway(operand.slot))
          continue;
        total += cost(have, candidate.operands[j], operand.type);
      }
      for (auto &[value, sharding] : candidate.captures)
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
  seedArguments();
  propagateForward();
  // Local improvement: every op once, then only the neighbours of ops and
  // arguments whose choice changed, until nothing changes (bounded).
  SetVector<Operation *> worklist;
  for (Operation *op : problem.getOps())
    if (tracks(op))
      worklist.insert(op);
  auto pushNeighbours = [&](Operation *op) {
    for (Value operand : op->getOperands())
      if (Operation *def = operand.getDefiningOp())
        if (tracks(def))
          worklist.insert(def);
    for (Operation *user : op->getUsers()) {
      Operation *top = body->findAncestorOpInBlock(*user);
      if (top && tracks(top))
        worklist.insert(top);
    }
  };
  size_t budget =
      kMaxSweeps * (problem.getOps().size() + body->getNumArguments());
  for (BlockArgument arg : body->getArguments())
    if (improveArgument(arg))
      for (Operation *user : arg.getUsers())
        if (Operation *top = body->findAncestorOpInBlock(*user))
          if (tracks(top))
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
              if (tracks(top))
                worklist.insert(top);
  }
  if (options.sequenceParallel)
    applySequenceParallel();
  // Settle the arguments against the final choices.
  for (BlockArgument arg : body->getArguments())
    if (!fixedArguments.contains(arg))
      improveArgument(arg);
  LLVM_DEBUG(llvm::dbgs() << "solved: cost " << getTotalCost() << "\n");
}

double ShardingSolver::getTotalCost() const {
  double cost = 0;
  for (BlockArgument arg : body->getArguments())
    cost += model.memory(getSharding(arg), arg.getType(), tpSize);
  llvm::DenseSet<std::pair<Value, Attribute>> moved;
  for (Operation *op : problem.getOps()) {
    for (OpOperand &use : op->getOpOperands())
      if (moved.insert({use.get(), getDemand(use)}).second)
        cost += model.reshard(getSharding(use.get()), getDemand(use),
                              use.get().getType(), tpSize);
    if (const ShardingOption *option = getChosenOption(op)) {
      cost += problem.getComputeCost(op, *option);
      for (auto &[value, sharding] : option->captures)
        cost += model.reshard(getSharding(value), sharding, value.getType(),
                              tpSize);
    }
    for (Value result : op->getResults())
      cost += model.memory(getSharding(result), result.getType(), tpSize);
  }
  return cost;
}

//===----------------------------------------------------------------------===//
// Sequence parallelism
//===----------------------------------------------------------------------===//

/// The dimension a partial value of `type` is scattered along to make token
/// shards: from the last-but-one dimension outwards, the first that divides
/// by `p` (the tokens of [T, E], the sequence of [B, S, E]); never the last
/// (hidden) dimension, which the norms reduce over.
static std::optional<int64_t> getTokenDim(Type type, int64_t p) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor || tensor.getRank() < 2)
    return std::nullopt;
  for (int64_t d = tensor.getRank() - 2; d >= 0; --d)
    if (!tensor.isDynamicDim(d) && tensor.getDimSize(d) % p == 0)
      return d;
  return std::nullopt;
}

std::optional<unsigned> ShardingSolver::findTokenOption(
    Operation *op, const llvm::DenseSet<Value> &tokenShards) const {
  const OpState *found = findState(op);
  // Weight ops keep their form (a column layer wants its whole input: the
  // all_gather goes there).
  if (!found || found->fixed || problem.isWeightOpLike(op))
    return std::nullopt;
  const OpState &state = *found;
  for (unsigned i = 0, e = state.candidates.size(); i < e; ++i) {
    if (i == state.chosen)
      continue;
    const ShardingOption &candidate = option(op, i);
    bool reads = false, ok = true;
    for (auto [j, operand] : llvm::enumerate(op->getOperands())) {
      if (!isa<RankedTensorType>(operand.getType()))
        continue;
      ShardingAttr have = getSharding(operand);
      ShardingAttr want = candidate.operands[j];
      if (have.isPartial()) {
        // The all_reduce becomes a reduce_scatter over the tokens.
        std::optional<int64_t> dim = getTokenDim(operand.getType(), tpSize);
        ok &= want.isSplit() && !want.isSegmented() && want.getGranule() == 1 &&
              dim && want.getDim() == *dim;
        reads = true;
      } else if (have.isSplit()) {
        ok &= want == have; // no communication
        reads |= tokenShards.contains(operand);
      } else {
        ok &= !want.isPartial(); // a local slice of a whole value
      }
    }
    for (auto &[value, sharding] : candidate.captures) {
      ShardingAttr have = getSharding(value);
      ok &= have == sharding || have.isReplicated();
    }
    // Its results stay token shards (or, for a sum over the tokens such as
    // a norm's weight gradient, partial: a small all_reduce).
    for (ShardingAttr result : candidate.results)
      ok &= !result.isReplicated();
    if (ok && reads)
      return i;
  }
  return std::nullopt;
}

/// What the steps of applySequenceParallel share: the moved ops (each with
/// its choice before), the values now held as token shards, and the ops
/// waiting for the growth step, in program order.
struct ShardingSolver::TokenGrowth {
  explicit TokenGrowth(ShardingSolver &solver) : solver(solver) {}

  /// Moves `op` to its option `candidate`; its split results become token
  /// shards.
  void move(Operation *op, unsigned candidate) {
    OpState &state = *solver.findState(op);
    previous.try_emplace(op, state.chosen);
    state.chosen = candidate;
    for (auto [result, sharding] :
         llvm::zip(op->getResults(), solver.option(op, candidate).results))
      if (sharding.isSplit())
        tokenShards.insert(result);
  }
  /// Queues the op of the body that holds `user` (if it has a state), once.
  void enqueue(Operation *user) {
    if (Operation *top = solver.body->findAncestorOpInBlock(*user))
      if (solver.tracks(top) && queued.insert(top).second)
        queue.push({solver.problem.getIndex(top), top});
  }
  /// Queues the users of `op`'s token-shard results.
  void pushUsers(Operation *op) {
    for (Value result : op->getResults())
      if (tokenShards.contains(result))
        for (Operation *user : result.getUsers())
          enqueue(user);
  }

  ShardingSolver &solver;
  llvm::DenseMap<Operation *, unsigned> previous; // moved op -> old choice
  llvm::DenseSet<Value> tokenShards;
  using Entry = std::pair<unsigned, Operation *>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue;
  llvm::DenseSet<Operation *> queued;
};

void ShardingSolver::seedTokenShards(TokenGrowth &growth, Value result) {
  Operation *terminator = body->getTerminator();
  SmallVector<Operation *, 4> group;
  for (OpOperand &use : result.getUses())
    if (getDemand(use).isReplicated())
      if (Operation *top = body->findAncestorOpInBlock(*use.getOwner()))
        if (!llvm::is_contained(group, top))
          group.push_back(top);
  // The return takes the value as token shards at a sequence-parallel
  // boundary; every other user must have a token option.
  std::optional<int64_t> scatterDim;
  SmallVector<std::pair<Operation *, unsigned>, 4> moves;
  for (Operation *user : group)
    if (user == terminator)
      scatterDim = getResultScatterDim(result);
    else if (std::optional<unsigned> candidate =
                 findTokenOption(user, growth.tokenShards))
      moves.push_back({user, *candidate});
  if (group.empty() || moves.size() + (scatterDim ? 1 : 0) != group.size())
    return;
  for (auto [user, candidate] : moves)
    growth.move(user, candidate);
  if (scatterDim)
    for (OpOperand &use : terminator->getOpOperands())
      if (use.get() == result)
        resultScatters[use.getOperandNumber()] =
            ShardingAttr::getSplit(result.getContext(), *scatterDim);
  for (Operation *user : group)
    if (user != terminator)
      growth.pushUsers(user);
}

void ShardingSolver::growTokenShards(TokenGrowth &growth) {
  while (!growth.queue.empty()) {
    Operation *op = growth.queue.top().second;
    growth.queue.pop();
    if (growth.previous.count(op))
      continue;
    if (std::optional<unsigned> candidate =
            findTokenOption(op, growth.tokenShards)) {
      growth.move(op, *candidate);
      growth.pushUsers(op);
    }
  }
}

void ShardingSolver::applySequenceParallel() {
  // A policy the user asked for, not a cost decision: the cost model would
  // keep every all_reduce (a reduce_scatter + all_gather pair moves the same
  // bytes with twice the latency, and the activation memory it saves weighs
  // little), and the backward's norms would stay whole for the small
  // all_reduces of their weights' gradients, which Megatron-SP accepts.
  //
  // 1. Seeds: the users that reduce a partial value whole move together (the
  //    value is reduce-scattered once), if each has a token option.
  // 2. Growth, in program order: every user of a token shard that keeps it
  //    (findTokenOption) moves too.
  // 3. Pruning: an op at the edge (no user of its results moved) whose token
  //    shard inputs are gathered anyway for a whole user outside goes back
  //    (a transpose of a norm's output feeding a weight gradient: it would
  //    gather its own result again).
  TokenGrowth growth(*this);
  if (options.shardedResults) {
    shardBoundaryArguments(growth.tokenShards);
    for (Value arg : fixedArguments)
      for (Operation *user : arg.getUsers())
        growth.enqueue(user);
  }
  for (Operation *op : problem.getOps())
    for (Value result : op->getResults())
      if (getSharding(result).isPartial())
        seedTokenShards(growth, result);
  growTokenShards(growth);
  pruneTokenShards(growth.previous, growth.tokenShards);
}

void ShardingSolver::shardBoundaryArguments(
    llvm::DenseSet<Value> &tokenShards) {
  const ParameterArguments &parameters = problem.getParameters();
  for (BlockArgument arg : body->getArguments()) {
    if (parameters.contains(arg) || !getSharding(arg).isReplicated())
      continue;
    std::optional<int64_t> dim = getTokenDim(arg.getType(), tpSize);
    if (!dim)
      continue;
    ShardingAttr shard = ShardingAttr::getSplit(arg.getContext(), *dim);
    if (!llvm::is_contained(problem.getArgumentCandidates(arg), shard))
      continue;
    argShardings[arg] = shard;
    fixedArguments.insert(arg);
    tokenShards.insert(arg);
  }
}

std::optional<int64_t> ShardingSolver::getResultScatterDim(Value value) const {
  if (!options.shardedResults)
    return std::nullopt;
  return getTokenDim(value.getType(), tpSize);
}

void ShardingSolver::pruneTokenShards(
    llvm::DenseMap<Operation *, unsigned> &previous,
    llvm::DenseSet<Value> &tokenShards) {
  auto moved = [&](Operation *user) {
    Operation *top = body->findAncestorOpInBlock(*user);
    return top && previous.count(top);
  };
  bool changed = true;
  while (changed) {
    changed = false;
    for (Operation *op : llvm::reverse(problem.getOps())) {
      auto it = previous.find(op);
      if (it == previous.end())
        continue;
      bool edge = llvm::none_of(op->getUsers(), moved);
      const ShardingOption &whole = option(op, it->second);
      bool shared = true, scatters = false;
      for (auto [i, operand] : llvm::enumerate(op->getOperands())) {
        scatters |= getSharding(operand).isPartial();
        if (!tokenShards.contains(operand))
          continue;
        // Is the operand wanted whole by a user outside the region?
        shared &= llvm::any_of(operand.getUses(), [&](OpOperand &use) {
          return !moved(use.getOwner()) && getDemand(use) == whole.operands[i];
        });
      }
      if (!edge || scatters || !shared)
        continue;
      findState(op)->chosen = it->second;
      for (Value result : op->getResults())
        tokenShards.erase(result);
      previous.erase(it);
      changed = true;
    }
  }
}
