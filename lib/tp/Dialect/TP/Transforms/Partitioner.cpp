//===- Partitioner.cpp - rewrite a function into its per-rank form --------===//
//
// Part of tp-mlir.
//
// Walks the function once, in order. Every value is rewritten in place into
// its local form; before each op, its operands are brought into the shardings
// the chosen option requires (one collective per value and target sharding,
// shared by all users); the op's model then builds its local form.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Transforms/Partitioner.h"
#include "tp/Dialect/TP/IR/TPOps.h"
#include "tp/Dialect/TP/Transforms/Reshard.h"

#include "mlir/Transforms/RegionUtils.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "tp-partition"

using namespace mlir;
using namespace mlir::tp;

LogicalResult mlir::tp::checkPartitionable(func::FuncOp func) {
  if (func.isExternal())
    return success();
  if (!func.getBody().hasOneBlock())
    return func.emitOpError("has ")
           << func.getBody().getBlocks().size()
           << " blocks; tp-partition handles single-block functions (run "
              "--lift-cf-to-scf first)";
  bool ok = true;
  func.walk([&](Operation *op) {
    if (op->getBlock() != &func.getBody().front() &&
        op->hasAttr(TPDialect::getParallelAttrName())) {
      op->emitOpError("'tp.parallel' on an op nested in a region is not "
                      "supported; annotate ops at the top level of the "
                      "function");
      ok = false;
    }
  });
  return success(ok);
}

FailureOr<bool> mlir::tp::checkAlreadyPartitioned(ModuleOp module,
                                                  int64_t tpSize,
                                                  StringRef passName,
                                                  Operation **firstTosaOp,
                                                  bool scanBodies) {
  if (auto size =
          module->getAttrOfType<IntegerAttr>(TPDialect::getSizeAttrName())) {
    int64_t partitioned = size.getValue().getSExtValue();
    if (partitioned == tpSize)
      return true;
    return module.emitError("module is already partitioned for tp-size ")
           << partitioned << " ('" << TPDialect::getSizeAttrName() << "'); "
           << passName << " cannot re-partition it for tp-size " << tpSize
           << ": run it on the unpartitioned program";
  }
  // Hand-made or stripped modules: shardings or tp ops without tp.size.
  Operation *found = nullptr;
  Dialect *tosa = firstTosaOp && scanBodies
                      ? module.getContext()->getLoadedDialect("tosa")
                      : nullptr;
  // Tp ops count inside functions; TOSA ops anywhere.
  auto scan = [&](Operation *root, bool inFunction) {
    root->walk([&](Operation *op) {
      Dialect *dialect = op->getDialect();
      if (inFunction && isa_and_present<TPDialect>(dialect)) {
        found = op;
        return WalkResult::interrupt();
      }
      if (tosa && dialect == tosa && !*firstTosaOp)
        *firstTosaOp = op;
      return WalkResult::advance();
    });
  };
  auto hasTPAttr = [](DictionaryAttr attrs) {
    return attrs && (attrs.get(TPDialect::getShardingAttrName()) ||
                     attrs.get(TPDialect::getGlobalTypeAttrName()));
  };
  for (Operation &top : module.getBody()->getOperations()) {
    auto func = dyn_cast<FunctionOpInterface>(top);
    if (!func) {
      if (tosa)
        scan(&top, /*inFunction=*/false);
      continue;
    }
    for (unsigned i = 0, e = func.getNumArguments(); i < e && !found; ++i)
      if (hasTPAttr(func.getArgAttrDict(i)))
        found = func;
    for (unsigned i = 0, e = func.getNumResults(); i < e && !found; ++i)
      if (hasTPAttr(func.getResultAttrDict(i)))
        found = func;
    if (!found && scanBodies)
      scan(func, /*inFunction=*/true);
    if (found)
      break;
  }
  if (!found)
    return false;
  return found->emitError("this looks partitioned already (tp ops or '")
         << TPDialect::getShardingAttrName()
         << "' attributes) but the module has no '"
         << TPDialect::getSizeAttrName() << "'; " << passName
         << " cannot re-partition it: run it on the unpartitioned program";
}

/// Sets `tp.sharding` and `tp.global_type` on every tensor argument and
/// result, keeping their other attributes. All dictionaries at once: setting
/// them one by one rebuilds the function's array of argument dictionaries
/// each time, quadratic in the number of arguments (a 96-layer model has
/// over a thousand).
static void setSignatureShardings(func::FuncOp func,
                                  ArrayRef<ShardingAttr> argShardings,
                                  ArrayRef<Type> argGlobalTypes,
                                  ArrayRef<ShardingAttr> resultShardings,
                                  ArrayRef<Type> resultGlobalTypes) {
  auto withShardings = [&](DictionaryAttr old, ShardingAttr sharding,
                           Type global) {
    NamedAttrList attrs(old);
    if (isa<RankedTensorType>(global)) {
      attrs.set(TPDialect::getShardingAttrName(), sharding);
      attrs.set(TPDialect::getGlobalTypeAttrName(), TypeAttr::get(global));
    }
    return attrs.getDictionary(func.getContext());
  };
  SmallVector<DictionaryAttr> args, results;
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    args.push_back(withShardings(func.getArgAttrDict(i), argShardings[i],
                                 argGlobalTypes[i]));
  for (unsigned i = 0, e = func.getNumResults(); i < e; ++i)
    results.push_back(withShardings(func.getResultAttrDict(i),
                                    resultShardings[i],
                                    resultGlobalTypes[i]));
  func.setAllArgAttrs(args);
  func.setAllResultAttrs(results);
}

namespace {

/// The planner's annotations (tp.parallel, tp.result_sharding,
/// tp.plan_reason), named once: removeAttr by string interns the name for
/// every op, a tenth of partitioning a large model.
class PlanAnnotations {
public:
  explicit PlanAnnotations(MLIRContext *ctx)
      : names{StringAttr::get(ctx, TPDialect::getParallelAttrName()),
              StringAttr::get(ctx, TPDialect::getResultShardingAttrName()),
              StringAttr::get(ctx, TPDialect::getPlanReasonAttrName())} {}

  void dropFrom(Operation *op) const {
    if (op->getRawDictionaryAttrs().empty())
      return;
    for (StringAttr name : names)
      op->removeDiscardableAttr(name);
  }

private:
  StringAttr names[3];
};

class FunctionPartitioner {
public:
  FunctionPartitioner(func::FuncOp func, ShardingSolver &solver,
                      bool shardedResults)
      : func(func), solver(solver), tpSize(solver.getTPSize()),
        shardedResults(shardedResults), builder(func.getContext()),
        context(tpSize, &func.getBody().front()),
        replicated(ShardingAttr::getReplicated(func.getContext())) {}

  LogicalResult run();

  /// Rewrites the return: every result whole, or, with shardedResults, in
  /// the distribution its value has. Sets the function type and the
  /// arguments' and results' tp.sharding / tp.global_type.
  LogicalResult finishSignature(ArrayRef<Type> globalArgTypes);

private:
  ShardingAttr shardingOf(Value value) const {
    auto it = shardings.find(value);
    return it == shardings.end() ? replicated : it->second;
  }
  /// Records how `local` is held and, where its local type is not the
  /// global one, its global type. Replicated values, most of a model, stay
  /// out of both maps (their global type is their own): smaller maps for a
  /// large model's every lookup.
  void record(Value local, ShardingAttr sharding, Type global) {
    if (sharding != replicated)
      shardings[local] = sharding;
    if (auto tensor = dyn_cast<RankedTensorType>(global);
        tensor && tensor != local.getType())
      globalTypes[local] = tensor;
  }
  /// `value` as `user` needs it (`want`): the value itself, or the result of
  /// the collective that moves it (one per value and target sharding).
  FailureOr<Value> getLocal(Value value, ShardingAttr want, Operation *user);
  /// Collectives are located at the value they move (first) and at the user
  /// that needs them (built only for a collective: uniquing a fused location
  /// per operand was ~4% of tp-partition).
  static Location reshardLoc(Value value, Operation *user) {
    return FusedLoc::get(user->getContext(), {value.getLoc(), user->getLoc()});
  }
  LogicalResult partitionOp(Operation *op, const ShardingOption &option);
  LogicalResult replicateOp(Operation *op);
  /// Records, for every op whose chosen option lists captured tensors, the
  /// sharding each captured tensor needs, in the order
  /// getUsedValuesDefinedAbove finds them: the option names the tensors as
  /// they were before partitioning, and producers are replaced as the
  /// partitioner goes, while the order of the uses stays.
  void recordCaptureShardings(ArrayRef<Operation *> ops);

  DenseMap<Operation *, SmallVector<ShardingAttr>> captureShardings;
  func::FuncOp func;
  ShardingSolver &solver;
  int64_t tpSize;
  /// Results keep their distribution (partial ones are reduced).
  bool shardedResults;
  OpBuilder builder;
  PartitionContext context;
  ShardingAttr replicated;
  /// How each local value is held, where it is not replicated.
  DenseMap<Value, ShardingAttr> shardings;
  /// The unsharded type of every local value that differs from it (a padded
  /// split cannot be undone from the local shape alone).
  DenseMap<Value, RankedTensorType> globalTypes;
  DenseMap<std::pair<Value, Attribute>, Value> reshards;
};

} // namespace

FailureOr<Value> FunctionPartitioner::getLocal(Value value, ShardingAttr want,
                                               Operation *user) {
  ShardingAttr have = shardingOf(value);
  if (have == want || !isa<RankedTensorType>(value.getType()))
    return value;
  auto key = std::make_pair(value, Attribute(want));
  auto it = reshards.find(key);
  if (it != reshards.end())
    return it->second;
  auto global = globalTypes.lookup(value);
  if (!global)
    global = cast<RankedTensorType>(value.getType());
  Location loc = reshardLoc(value, user);
  FailureOr<Value> local =
      buildReshard(builder, loc, value, have, want, tpSize, global);
  if (failed(local))
    return emitError(loc, "internal error: no collective turns ")
           << have << " into " << want;
  reshards[key] = *local;
  record(*local, want, global);
  return *local;
}

LogicalResult FunctionPartitioner::partitionOp(Operation *op,
                                               const ShardingOption &option) {
  SmallVector<Value> operands;
  for (auto [i, operand] : llvm::enumerate(op->getOperands())) {
    FailureOr<Value> local =
        getLocal(operand, option.operands[i], op);
    if (failed(local))
      return failure();
    operands.push_back(*local);
  }
  // Tensors read inside the op's regions: the option says how it needs them.
  llvm::SetVector<Value> captured;
  getUsedValuesDefinedAbove(op->getRegions(), captured);
  auto recorded = captureShardings.find(op);
  for (auto [i, capturedValue] : llvm::enumerate(captured)) {
    Value value = capturedValue;
    if (!isa<RankedTensorType>(value.getType()))
      continue;
    ShardingAttr want = option.getCaptureSharding(value);
    if (recorded != captureShardings.end() && i < recorded->second.size())
      want = recorded->second[i];
    FailureOr<Value> local = getLocal(value, want, op);
    if (failed(local))
      return failure();
    if (*local != value)
      value.replaceUsesWithIf(*local, [&](OpOperand &use) {
        return op->isProperAncestor(use.getOwner());
      });
  }
  // A replicated op whose operands did not change is its own local form.
  if (option.isReplicated() && llvm::equal(operands, op->getOperands()))
    return success();
  SmallVector<Type> global(op->getResultTypes());
  FailureOr<SmallVector<Value>> results =
      cast<ShardingOpInterface>(op).partition(builder, option, operands,
                                              context);
  if (failed(results))
    return failure();
  // Models may update the op in place and return its own results.
  bool inPlace = !results->empty() && (*results)[0].getDefiningOp() == op;
  for (auto [oldResult, newResult, sharding, type] :
       llvm::zip(op->getResults(), *results, option.results, global)) {
    record(newResult, sharding, type);
    if (!inPlace)
      oldResult.replaceAllUsesWith(newResult);
  }
  if (!inPlace)
    op->erase();
  return success();
}

LogicalResult FunctionPartitioner::replicateOp(Operation *op) {
  SmallVector<Value> gathered;
  for (OpOperand &operand : op->getOpOperands()) {
    Value value = operand.get();
    FailureOr<Value> local =
        getLocal(value, replicated, op);
    if (failed(local))
      return failure();
    if (*local != value) {
      gathered.push_back(value);
      operand.set(*local);
    }
  }
  llvm::SetVector<Value> captured;
  getUsedValuesDefinedAbove(op->getRegions(), captured);
  for (Value value : captured) {
    FailureOr<Value> local =
        getLocal(value, replicated, op);
    if (failed(local))
      return failure();
    if (*local == value)
      continue;
    gathered.push_back(value);
    value.replaceUsesWithIf(*local, [&](OpOperand &use) {
      return op->isProperAncestor(use.getOwner());
    });
  }
  if (!gathered.empty())
    op->emitRemark() << "'" << op->getName()
                     << "' has no tensor-parallel rule: its sharded operands "
                        "are gathered and it runs replicated";
  return success();
}

void FunctionPartitioner::recordCaptureShardings(ArrayRef<Operation *> ops) {
  for (Operation *op : ops) {
    const ShardingOption *option = solver.getChosenOption(op);
    if (!option || option->captures.empty())
      continue;
    llvm::SetVector<Value> captured;
    getUsedValuesDefinedAbove(op->getRegions(), captured);
    SmallVector<ShardingAttr> &wants = captureShardings[op];
    for (Value value : captured)
      wants.push_back(option->getCaptureSharding(value));
  }
}

LogicalResult FunctionPartitioner::run() {
  Block &body = func.getBody().front();

  SmallVector<Type> globalArgTypes;
  for (BlockArgument arg : body.getArguments()) {
    ShardingAttr sharding = solver.getSharding(arg);
    globalArgTypes.push_back(arg.getType());
    if (auto type = dyn_cast<RankedTensorType>(arg.getType()))
      arg.setType(getLocalType(type, sharding, tpSize));
    record(arg, sharding, globalArgTypes.back());
  }

  SmallVector<Operation *> ops;
  for (Operation &op : body.without_terminator())
    ops.push_back(&op);
  recordCaptureShardings(ops);
  PlanAnnotations annotations(func.getContext());
  for (Operation *op : ops)
    annotations.dropFrom(op);

  for (Operation *op : ops) {
    builder.setInsertionPoint(op);
    if (const ShardingOption *option = solver.getChosenOption(op)) {
      if (failed(partitionOp(op, *option)))
        return failure();
    } else if (solver.isUnknown(op)) {
      if (failed(replicateOp(op)))
        return failure();
    }
  }

  return finishSignature(globalArgTypes);
}

LogicalResult
FunctionPartitioner::finishSignature(ArrayRef<Type> globalArgTypes) {
  Block &body = func.getBody().front();
  MLIRContext *ctx = func.getContext();
  Operation *terminator = body.getTerminator();
  builder.setInsertionPoint(terminator);
  SmallVector<Type> globalResultTypes;
  SmallVector<ShardingAttr> resultShardings;
  for (OpOperand &operand : terminator->getOpOperands()) {
    Value value = operand.get();
    // A partial result is reduced: whole, or reduce-scattered over its
    // tokens at a sequence-parallel boundary (the solver's choice).
    ShardingAttr want = replicated;
    if (shardedResults)
      want = shardingOf(value).isPartial()
                 ? solver.getPartialResultSharding(operand.getOperandNumber())
                 : shardingOf(value);
    FailureOr<Value> local =
        getLocal(value, want, terminator);
    if (failed(local))
      return failure();
    operand.set(*local);
    RankedTensorType global = globalTypes.lookup(*local);
    globalResultTypes.push_back(global ? Type(global) : local->getType());
    resultShardings.push_back(want);
  }

  func.setType(FunctionType::get(ctx, body.getArgumentTypes(),
                                 terminator->getOperandTypes()));
  SmallVector<ShardingAttr> argShardings;
  for (BlockArgument arg : body.getArguments())
    argShardings.push_back(shardingOf(arg));
  setSignatureShardings(func, argShardings, globalArgTypes, resultShardings,
                        globalResultTypes);

  // The pass manager verifies the result after the pass.
  return success();
}

LogicalResult mlir::tp::partitionFunction(func::FuncOp func,
                                          ShardingSolver &solver,
                                          bool shardedResults) {
  return FunctionPartitioner(func, solver, shardedResults).run();
}

void mlir::tp::markReplicated(func::FuncOp func) {
  MLIRContext *ctx = func.getContext();
  PlanAnnotations annotations(ctx);
  func.walk([&](Operation *op) { annotations.dropFrom(op); });
  auto replicated = ShardingAttr::getReplicated(ctx);
  SmallVector<ShardingAttr> argShardings(func.getNumArguments(), replicated);
  SmallVector<ShardingAttr> resultShardings(func.getNumResults(), replicated);
  setSignatureShardings(func, argShardings, func.getArgumentTypes(),
                        resultShardings, func.getResultTypes());
}
