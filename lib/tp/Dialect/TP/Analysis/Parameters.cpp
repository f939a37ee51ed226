//===- Parameters.cpp - tell parameters from activations ------------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Analysis/Parameters.h"
#include "tp/Dialect/TP/IR/TPDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace mlir;
using namespace mlir::tp;

std::optional<unsigned> mlir::tp::getActivationOperand(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumReductionLoops() == 0)
    return std::nullopt;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims))
    return std::nullopt;
  auto usesM = [&](OpOperand *operand) {
    AffineMap map = op.getMatchingIndexingMap(operand);
    return llvm::any_of(dims->m,
                        [&](unsigned m) { return map.isFunctionOfDim(m); });
  };
  OpOperand *lhs = op.getDpsInputOperand(0);
  OpOperand *rhs = op.getDpsInputOperand(1);
  if (usesM(lhs) && !usesM(rhs))
    return lhs->getOperandNumber();
  if (usesM(rhs) && !usesM(lhs))
    return rhs->getOperandNumber();
  return std::nullopt;
}

/// An op whose result holds the elements of its one tensor input, moved or
/// viewed (reshapes, casts, slices, transposes, copies).
static bool readsThrough(Operation *op) {
  if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp, tensor::CastOp,
          tensor::ExtractSliceOp>(op))
    return true;
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp || linalgOp.getNumDpsInputs() != 1 ||
      linalgOp.getNumReductionLoops() != 0 || op->getNumResults() != 1)
    return false;
  if (isa<linalg::TransposeOp, linalg::CopyOp>(op))
    return true;
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic)
    return false;
  Block &block = generic.getRegion().front();
  auto yield = dyn_cast<linalg::YieldOp>(block.getTerminator());
  return yield && block.getOperations().size() == 1 &&
         yield.getNumOperands() == 1 &&
         yield.getOperand(0) == block.getArgument(0);
}

/// An elementwise op that keeps every element of its input `use` (read at
/// each point of the loop domain once, all loops parallel, one result over
/// the same domain): the norms' final scaling (x - mean) * rstd * gamma, a
/// residual add, a dropout mask. A broadcast operand (gamma, a bias, a
/// rotary table) does not cover the domain and is not carried.
static bool carriesElementwise(OpOperand &use) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(use.getOwner());
  if (!linalgOp || !linalgOp.isDpsInput(&use) ||
      linalgOp.getNumReductionLoops() != 0 ||
      linalgOp->getNumResults() != 1)
    return false;
  AffineMap in = linalgOp.getMatchingIndexingMap(&use);
  AffineMap out =
      linalgOp.getMatchingIndexingMap(linalgOp.getDpsInitOperand(0));
  return in.isPermutation() && out.isPermutation();
}

/// True if `arg` is read on the activation side of a contraction, through
/// views, transposes, copies and elementwise ops that keep each of its
/// elements (a layer's input x reaches the first matmul through a norm).
static bool
isReadAsActivation(BlockArgument arg,
                   llvm::function_ref<std::optional<unsigned>(linalg::LinalgOp)>
                       activationOf) {
  SmallVector<Value> worklist{arg};
  llvm::SmallPtrSet<Operation *, 16> visited;
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (!visited.insert(user).second)
        continue;
      if (readsThrough(user)) {
        auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
        if (linalgOp ? linalgOp.isDpsInput(&use) : use.getOperandNumber() == 0)
          worklist.push_back(user->getResult(0));
        continue;
      }
      if (carriesElementwise(use)) {
        worklist.push_back(user->getResult(0));
        continue;
      }
      if (auto linalgOp = dyn_cast<linalg::LinalgOp>(user))
        if (std::optional<unsigned> activation = activationOf(linalgOp))
          if (*activation == use.getOperandNumber())
            return true;
    }
  }
  return false;
}

/// True if `arg` holds integers that the program only turns into indices or
/// compares, as it is or through views: token ids or positions.
static bool isIndexData(BlockArgument arg) {
  auto type = dyn_cast<RankedTensorType>(arg.getType());
  if (!type || !type.getElementType().isInteger())
    return false;
  SmallVector<Value> worklist{arg};
  bool read = false;
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    for (OpOperand &use : value.getUses()) {
      Operation *user = use.getOwner();
      if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp, tensor::CastOp>(
              user)) {
        worklist.push_back(user->getResult(0));
        continue;
      }
      auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
      if (!linalgOp || !linalgOp.isDpsInput(&use) ||
          !linalgOp.getBlock()) // an element of the body
        return false;
      BlockArgument element = linalgOp.getMatchingBlockArgument(&use);
      for (Operation *elementUser : element.getUsers())
        if (!isa<arith::IndexCastOp, arith::IndexCastUIOp, arith::CmpIOp>(
                elementUser))
          return false;
      read = true;
    }
  }
  return read;
}

/// True if some argument of `func` carries `tp.param`: then exactly those
/// are parameters.
static bool hasStatedParameters(FunctionOpInterface func) {
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    if (func.getArgAttr(i, TPDialect::getParamAttrName()))
      return true;
  return false;
}

/// The rule for one argument, given whether the function states them.
static bool
isParameter(FunctionOpInterface func, BlockArgument arg, bool stated,
            llvm::function_ref<std::optional<unsigned>(linalg::LinalgOp)>
                activationOf) {
  if (stated)
    return static_cast<bool>(
        func.getArgAttr(arg.getArgNumber(), TPDialect::getParamAttrName()));
  // State the program writes into (a KV cache updated at a position) is
  // not a parameter either.
  bool writtenInto = llvm::any_of(arg.getUses(), [](OpOperand &use) {
    auto insert = dyn_cast<tensor::InsertSliceOp>(use.getOwner());
    return insert && use.get() == insert.getDest();
  });
  return !writtenInto && !isIndexData(arg) &&
         !isReadAsActivation(arg, activationOf);
}

bool mlir::tp::isParameterArgument(BlockArgument arg) {
  auto func = dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp());
  if (!func || arg.getOwner() != &func.getFunctionBody().front())
    return false;
  return isParameter(func, arg, hasStatedParameters(func),
                     getActivationOperand);
}

ParameterArguments::ParameterArguments(
    FunctionOpInterface func,
    llvm::function_ref<std::optional<unsigned>(linalg::LinalgOp)>
        activationOf) {
  if (func.isExternal())
    return;
  body = &func.getFunctionBody().front();
  params.resize(body->getNumArguments());
  bool stated = hasStatedParameters(func);
  for (BlockArgument arg : body->getArguments())
    if (isParameter(func, arg, stated, activationOf))
      params.set(arg.getArgNumber());
}
