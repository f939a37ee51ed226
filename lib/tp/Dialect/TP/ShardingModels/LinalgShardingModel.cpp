//===- LinalgShardingModel.cpp - sharding rules for linalg ops ------------===//
//
// Part of tp-mlir.
//
// Every linalg structured op (named or generic) is described by its loops and
// indexing maps, so one rule covers them all: splitting loop `l` over the group
// splits each operand along the position where `l` appears in its map, leaves
// operands that do not use `l` whole, and makes results partial when `l` is a
// reduction. Contractions tag the split of their (outermost) N loop "column"
// and of their (outermost) K loop "row".
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/ShardingModels/ShardingModels.h"
#include "tp/Dialect/TP/IR/TPOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::tp;

//===----------------------------------------------------------------------===//
// Reduction combiners
//===----------------------------------------------------------------------===//

/// True if `value` (inside the body of `op`) depends on any output block
/// argument.
static bool dependsOnOutputs(linalg::LinalgOp op, Value value) {
  Block *body = op.getBlock();
  unsigned numInputs = op.getNumDpsInputs();
  SmallVector<Value> worklist{value};
  llvm::SmallPtrSet<Value, 8> seen;
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    if (!seen.insert(v).second)
      continue;
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      if (arg.getOwner() == body && arg.getArgNumber() >= numInputs)
        return true;
      continue;
    }
    Operation *def = v.getDefiningOp();
    if (!def || def->getBlock() != body)
      continue;
    llvm::append_range(worklist, def->getOperands());
  }
  return false;
}

std::optional<ReductionKind>
mlir::tp::getReductionCombiner(linalg::LinalgOp op, unsigned resultIndex) {
  Block *body = op.getBlock();
  if (!body)
    return std::nullopt;
  auto yield = dyn_cast<linalg::YieldOp>(body->getTerminator());
  if (!yield || resultIndex >= yield.getNumOperands())
    return std::nullopt;
  Operation *combine = yield.getOperand(resultIndex).getDefiningOp();
  if (!combine || combine->getNumOperands() != 2 ||
      combine->getBlock() != body)
    return std::nullopt;
  std::optional<ReductionKind> kind;
  if (isa<arith::AddFOp, arith::AddIOp>(combine))
    kind = ReductionKind::sum;
  else if (isa<arith::MaximumFOp, arith::MaxNumFOp, arith::MaxSIOp>(combine))
    kind = ReductionKind::max;
  else if (isa<arith::MinimumFOp, arith::MinNumFOp, arith::MinSIOp>(combine))
    kind = ReductionKind::min;
  if (!kind)
    return std::nullopt;
  Value out = body->getArgument(op.getNumDpsInputs() + resultIndex);
  Value lhs = combine->getOperand(0), rhs = combine->getOperand(1);
  Value other;
  if (lhs == out)
    other = rhs;
  else if (rhs == out)
    other = lhs;
  else
    return std::nullopt;
  if (dependsOnOutputs(op, other))
    return std::nullopt;
  return kind;
}

//===----------------------------------------------------------------------===//
// Options
//===----------------------------------------------------------------------===//

/// Sharding of an operand whose indexing map is `map` when loop `loop` is
/// split: split along the result position of `loop`, replicated when the map
/// does not use it, and std::nullopt when the map uses it in a compound
/// expression (such an operand cannot be cut into contiguous slices).
static std::optional<ShardingAttr> shardingForLoop(MLIRContext *ctx,
                                                   AffineMap map,
                                                   unsigned loop) {
  std::optional<ShardingAttr> result = ShardingAttr::getReplicated(ctx);
  for (auto [pos, expr] : llvm::enumerate(map.getResults())) {
    if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
      if (dim.getPosition() != loop)
        continue;
      if (!result->isReplicated())
        return std::nullopt; // The loop indexes two dimensions (a diagonal).
      result = ShardingAttr::getSplit(ctx, pos);
      continue;
    }
    if (expr.isFunctionOfDim(loop))
      return std::nullopt;
  }
  return result;
}

static bool isZeroFill(Value value) {
  auto fill = value.getDefiningOp<linalg::FillOp>();
  if (!fill)
    return false;
  Attribute constant;
  if (!matchPattern(fill.getInputs()[0], m_Constant(&constant)))
    return false;
  if (auto f = dyn_cast<FloatAttr>(constant))
    return f.getValue().isZero() && !f.getValue().isNegative();
  if (auto i = dyn_cast<IntegerAttr>(constant))
    return i.getValue().isZero();
  return false;
}

static SmallVector<Value> dynamicSizes(OpBuilder &builder, Location loc,
                                       Value tensor) {
  SmallVector<Value> sizes;
  auto type = cast<RankedTensorType>(tensor.getType());
  for (int64_t i = 0, e = type.getRank(); i < e; ++i)
    if (type.isDynamicDim(i))
      sizes.push_back(tensor::DimOp::create(builder, loc, tensor, i));
  return sizes;
}

static void getLinalgShardingOptions(Operation *op,
                                     SmallVectorImpl<ShardingOption> &options) {
  auto linalgOp = cast<linalg::LinalgOp>(op);
  MLIRContext *ctx = op->getContext();
  if (!linalgOp.hasPureTensorSemantics())
    return;

  ShardingOption replicated;
  replicated.kind = ParallelKind::Replicated;
  replicated.operands.assign(op->getNumOperands(),
                             ShardingAttr::getReplicated(ctx));
  replicated.results.assign(op->getNumResults(),
                            ShardingAttr::getReplicated(ctx));
  options.push_back(replicated);

  // Contractions name their column (N) and row (K) splits.
  std::optional<unsigned> columnLoop, rowLoop;
  if (linalgOp.getNumDpsInputs() == 2) {
    FailureOr<linalg::ContractionDimensions> dims =
        linalg::inferContractionDims(linalgOp);
    if (succeeded(dims) && !dims->k.empty() &&
        (!dims->m.empty() || !dims->n.empty())) {
      if (!dims->n.empty())
        columnLoop = *llvm::min_element(dims->n);
      rowLoop = *llvm::min_element(dims->k);
    }
  }

  SmallVector<utils::IteratorType> iterators =
      linalgOp.getIteratorTypesArray();
  for (unsigned loop = 0, e = linalgOp.getNumLoops(); loop < e; ++loop) {
    ShardingOption option;
    option.loopDim = loop;
    bool reduction = iterators[loop] == utils::IteratorType::reduction;
    bool valid = true;
    for (OpOperand &operand : op->getOpOperands()) {
      if (!isa<RankedTensorType>(operand.get().getType())) {
        option.operands.push_back(ShardingAttr::getReplicated(ctx));
        continue;
      }
      AffineMap map = linalgOp.getMatchingIndexingMap(&operand);
      std::optional<ShardingAttr> sharding =
          shardingForLoop(ctx, map, loop);
      if (!sharding) {
        valid = false;
        break;
      }
      // Every init must be cut along a split parallel loop; along a split
      // reduction it stays whole.
      if (linalgOp.isDpsInit(&operand) && !reduction &&
          sharding->isReplicated()) {
        valid = false;
        break;
      }
      option.operands.push_back(*sharding);
    }
    if (!valid)
      continue;
    for (OpResult result : op->getResults()) {
      if (!reduction) {
        option.results.push_back(
            option.operands[linalgOp.getDpsInitOperand(
                                         result.getResultNumber())
                                ->getOperandNumber()]);
        continue;
      }
      std::optional<ReductionKind> combiner =
          getReductionCombiner(linalgOp, result.getResultNumber());
      if (!combiner) {
        valid = false;
        break;
      }
      option.results.push_back(ShardingAttr::getPartial(ctx, *combiner));
    }
    if (!valid)
      continue;
    if (columnLoop && loop == *columnLoop)
      option.kind = ParallelKind::Column;
    else if (rowLoop && loop == *rowLoop)
      option.kind = ParallelKind::Row;
    options.push_back(std::move(option));
  }
}

static FailureOr<SmallVector<Value>>
partitionLinalgOp(Operation *op, OpBuilder &builder,
                  const ShardingOption &option, ValueRange localOperands,
                  PartitionContext &context) {
  auto linalgOp = cast<linalg::LinalgOp>(op);
  Location loc = op->getLoc();
  int64_t tpSize = context.getTPSize();
  SmallVector<Value> operands(localOperands);

  if (option.loopDim >= 0) {
    unsigned loop = option.loopDim;
    bool reduction = linalgOp.getIteratorTypesArray()[loop] ==
                     utils::IteratorType::reduction;
    // A split sum keeps the initial value on rank 0 only, so that it is
    // added once; a fill with the identity needs nothing.
    if (reduction) {
      for (OpResult result : op->getResults()) {
        if (option.results[result.getResultNumber()].getReduction() !=
            ReductionKind::sum)
          continue;
        OpOperand *init =
            linalgOp.getDpsInitOperand(result.getResultNumber());
        Value &local = operands[init->getOperandNumber()];
        if (isZeroFill(local))
          continue;
        auto type = cast<RankedTensorType>(local.getType());
        Value zero = arith::ConstantOp::create(
            builder, loc, builder.getZeroAttr(type.getElementType()));
        Value empty = tensor::EmptyOp::create(
            builder, loc, type, dynamicSizes(builder, loc, local));
        Value zeros =
            linalg::FillOp::create(builder, loc, zero, empty).getResult(0);
        Value rank = context.getRank(builder, loc);
        Value c0 = arith::ConstantIndexOp::create(builder, loc, 0);
        Value isFirst = arith::CmpIOp::create(
            builder, loc, arith::CmpIPredicate::eq, rank, c0);
        local = arith::SelectOp::create(builder, loc, isFirst, local, zeros);
      }
    }
  }

  IRMapping mapping;
  mapping.map(op->getOperands(), operands);
  Operation *local = builder.clone(*op, mapping);
  for (auto [result, sharding] :
       llvm::zip(local->getResults(), option.results))
    result.setType(getLocalType(cast<RankedTensorType>(result.getType()),
                                sharding, tpSize));

  // `linalg.index` of a split loop counts from this rank's first element.
  if (option.loopDim >= 0) {
    SmallVector<linalg::IndexOp> indices;
    local->walk([&](linalg::IndexOp index) {
      if (index.getDim() == static_cast<uint64_t>(option.loopDim))
        indices.push_back(index);
    });
    if (!indices.empty()) {
      // The local op's loop range is one rank's chunk. (The original op's
      // operands are already local here: read nothing shape-related from it.)
      int64_t chunkSize = cast<linalg::LinalgOp>(local)
                              .getStaticLoopRanges()[option.loopDim];
      OpBuilder::InsertionGuard guard(builder);
      builder.setInsertionPoint(local);
      Value rank = context.getRank(builder, loc);
      Value chunk = arith::ConstantIndexOp::create(builder, loc, chunkSize);
      Value offset = arith::MulIOp::create(builder, loc, rank, chunk);
      for (linalg::IndexOp index : indices) {
        builder.setInsertionPointAfter(index);
        auto shifted = arith::AddIOp::create(builder, index.getLoc(),
                                             index.getResult(), offset);
        index.getResult().replaceAllUsesExcept(shifted, shifted);
      }
    }
  }
  return SmallVector<Value>(local->getResults());
}

namespace {

/// Thin per-op wrapper: the rules above are shared by all structured ops.
template <typename OpTy>
struct LinalgShardingModel
    : public ShardingOpInterface::ExternalModel<LinalgShardingModel<OpTy>,
                                                OpTy> {
  void getShardingOptions(Operation *op, int64_t,
                          SmallVectorImpl<ShardingOption> &options) const {
    getLinalgShardingOptions(op, options);
  }

  FailureOr<SmallVector<Value>>
  partition(Operation *op, OpBuilder &builder, const ShardingOption &option,
            ValueRange localOperands, PartitionContext &context) const {
    return partitionLinalgOp(op, builder, option, localOperands, context);
  }
};

template <typename... OpTys>
void attachLinalgModels(MLIRContext *ctx) {
  (OpTys::template attachInterface<LinalgShardingModel<OpTys>>(*ctx), ...);
}

} // namespace

void mlir::tp::registerLinalgShardingModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, linalg::LinalgDialect *) {
    attachLinalgModels<
#define GET_OP_LIST
#include "mlir/Dialect/Linalg/IR/LinalgStructuredOps.cpp.inc"
                       >(ctx);
  });
}
