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

#include "tp/Dialect/TP/IR/TPOps.h"
#include "tp/Dialect/TP/Interfaces/ShardingModels.h"
#include "tp/Utils/StructuredOps.h"

#include "ShardingModelSupport.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
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
  if (!combine || combine->getNumOperands() != 2 || combine->getBlock() != body)
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
// Gathers (embedding lookups)
//===----------------------------------------------------------------------===//

/// An embedding lookup as frontends write it: a parallel linalg.generic whose
/// body reads a table defined outside with `tensor.extract`, the first index
/// computed from an input element (a token id), and yields what it read.
struct Gather {
  tensor::ExtractOp extract;
  Value table;
};

static std::optional<Gather> matchGather(linalg::LinalgOp op) {
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic || generic.getNumReductionLoops() != 0 ||
      generic.getNumDpsInits() != 1)
    return std::nullopt;
  Block *body = generic.getBody();
  tensor::ExtractOp extract;
  for (Operation &nested : *body) {
    auto e = dyn_cast<tensor::ExtractOp>(nested);
    if (!e)
      continue;
    if (extract)
      return std::nullopt; // More than one lookup.
    extract = e;
  }
  if (!extract || extract.getIndices().empty())
    return std::nullopt;
  Value table = extract.getTensor();
  if (generic->isAncestor(table.getParentRegion()->getParentOp()))
    return std::nullopt; // The table must come from outside.
  // The row index depends on an input element.
  Value row = extract.getIndices()[0];
  bool fromInput = false;
  SmallVector<Value> worklist{row};
  while (!worklist.empty() && !fromInput) {
    Value v = worklist.pop_back_val();
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      fromInput = arg.getOwner() == body &&
                  arg.getArgNumber() < generic.getNumDpsInputs();
      continue;
    }
    if (Operation *def = v.getDefiningOp())
      if (def->getBlock() == body)
        llvm::append_range(worklist, def->getOperands());
  }
  if (!fromInput)
    return std::nullopt;
  // The output is only written, and it is the looked-up value (maybe cast).
  if (!body->getArgument(generic.getNumDpsInputs()).use_empty())
    return std::nullopt;
  Value yielded = body->getTerminator()->getOperand(0);
  while (Operation *def = yielded.getDefiningOp()) {
    if (!isa<arith::ExtFOp, arith::TruncFOp>(def))
      break;
    yielded = def->getOperand(0);
  }
  if (yielded != extract.getResult())
    return std::nullopt;
  return Gather{extract, table};
}

/// The vocabulary-parallel form of a gather: each rank holds rows
/// [r*chunk, (r+1)*chunk) of the table, looks up the ids that fall there
/// (zero elsewhere) and the result is a partial sum.
static ShardingOption vocabParallelOption(Operation *op, const Gather &gather) {
  MLIRContext *ctx = op->getContext();
  ShardingOption option;
  option.kind = ParallelKind::Vocab; // No split loop: a masked lookup.
  option.operands.assign(op->getNumOperands(),
                         ShardingAttr::getReplicated(ctx));
  option.results.assign(op->getNumResults(),
                        ShardingAttr::getPartial(ctx, ReductionKind::sum));
  option.captures.push_back({gather.table, ShardingAttr::getSplit(ctx, 0)});
  return option;
}

static void maskVocabParallelGather(Operation *local, PartitionContext &context,
                                    OpBuilder &builder) {
  auto generic = cast<linalg::GenericOp>(local);
  std::optional<Gather> gather = matchGather(generic);
  assert(gather && "the clone of a gather is a gather");
  tensor::ExtractOp extract = gather->extract;
  Location loc = extract.getLoc();
  auto tableType = cast<RankedTensorType>(extract.getTensor().getType());
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPoint(local);
  Value rank = context.getRank(builder, loc);
  Value chunk =
      arith::ConstantIndexOp::create(builder, loc, tableType.getDimSize(0));
  Value offset = arith::MulIOp::create(builder, loc, rank, chunk);
  builder.setInsertionPoint(extract);
  Value row = extract.getIndices()[0];
  Value localRow = arith::SubIOp::create(builder, loc, row, offset);
  // Unsigned compare: rows below the offset wrap around and fail too.
  Value inRange = arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::ult,
                                        localRow, chunk);
  Value zeroIndex = arith::ConstantIndexOp::create(builder, loc, 0);
  Value safeRow =
      arith::SelectOp::create(builder, loc, inRange, localRow, zeroIndex);
  extract.getIndicesMutable()[0].set(safeRow);
  builder.setInsertionPointAfter(extract);
  Value zero = arith::ConstantOp::create(
      builder, loc, builder.getZeroAttr(extract.getType()));
  auto masked =
      arith::SelectOp::create(builder, loc, inRange, extract.getResult(), zero);
  extract.getResult().replaceAllUsesExcept(masked, masked);
}

//===----------------------------------------------------------------------===//
// Options
//===----------------------------------------------------------------------===//

/// Uniqued shardings for one op's options: an op's options name the same
/// few shardings once per operand, and uniquing each anew was a tenth of
/// collecting every op's options.
class ShardingNames {
public:
  explicit ShardingNames(MLIRContext *ctx)
      : ctx(ctx), replicated(ShardingAttr::getReplicated(ctx)) {}
  ShardingAttr getReplicated() const { return replicated; }
  ShardingAttr getSplit(unsigned dim) {
    if (dim >= splits.size())
      splits.resize(dim + 1);
    if (!splits[dim])
      splits[dim] = ShardingAttr::getSplit(ctx, dim);
    return splits[dim];
  }

private:
  MLIRContext *ctx;
  ShardingAttr replicated;
  SmallVector<ShardingAttr, 4> splits;
};

/// Sharding of an operand whose indexing map is `map` when loop `loop` is
/// split: split along the result position of `loop`, replicated when the map
/// does not use it, and std::nullopt when the map uses it in a compound
/// expression (such an operand cannot be cut into contiguous slices).
static std::optional<ShardingAttr>
shardingForLoop(ShardingNames &names, AffineMap map, unsigned loop) {
  std::optional<ShardingAttr> result = names.getReplicated();
  for (auto [pos, expr] : llvm::enumerate(map.getResults())) {
    if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
      if (dim.getPosition() != loop)
        continue;
      if (!result->isReplicated())
        return std::nullopt; // The loop indexes two dimensions (a diagonal).
      result = names.getSplit(pos);
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

/// The position at which every `tensor.extract` in `op`'s body reads
/// `captured` (a tensor defined outside the op) with the index of loop
/// `loop` itself, unchanged: there a split of the loop can split the
/// captured tensor too (rotary embeddings' interleaved pairs read the
/// partner element of a pair this way). std::nullopt if some extract uses
/// the loop's index otherwise, or none uses it.
static std::optional<int64_t>
capturedSplitPosition(linalg::LinalgOp op, Value captured, unsigned loop) {
  std::optional<int64_t> position;
  bool usable = true;
  op->walk([&](tensor::ExtractOp extract) {
    if (extract.getTensor() != captured)
      return;
    for (auto [pos, index] : llvm::enumerate(extract.getIndices())) {
      auto direct = index.getDefiningOp<linalg::IndexOp>();
      if (direct && direct.getDim() == loop) {
        if (position && *position != int64_t(pos))
          usable = false;
        position = pos;
        continue;
      }
      // Any other use of the loop's index (an offset, a mirror) needs the
      // whole dimension.
      SmallVector<Value> worklist{index};
      llvm::SmallPtrSet<Value, 8> seen;
      while (!worklist.empty() && usable) {
        Value v = worklist.pop_back_val();
        if (!seen.insert(v).second)
          continue;
        Operation *def = v.getDefiningOp();
        if (!def || !op->isProperAncestor(def))
          continue;
        if (auto other = dyn_cast<linalg::IndexOp>(def);
            other && other.getDim() == loop)
          usable = false;
        llvm::append_range(worklist, def->getOperands());
      }
    }
  });
  if (!usable)
    return std::nullopt;
  return position;
}

/// Tensors defined outside `op` and read in its body with tensor.extract.
static SmallVector<Value> getExtractedCaptures(linalg::LinalgOp op) {
  llvm::SetVector<Value> captured;
  op->walk([&](tensor::ExtractOp extract) {
    Value tensor = extract.getTensor();
    if (!op->isAncestor(tensor.getParentRegion()->getParentOp()))
      captured.insert(tensor);
  });
  return captured.takeVector();
}

//===----------------------------------------------------------------------===//
// Partial sums through linear ops
//===----------------------------------------------------------------------===//

namespace {
/// How a value in a linalg body depends on the inputs taken as partial sums.
enum class Linearity { Constant, Linear, Other };
} // namespace

/// Classifies `value` in the body of `op` with the inputs `partial` (block
/// arguments) standing for partial sums: Linear when it is a homogeneous
/// linear function of them (sums, differences, negations, products and
/// quotients by values that do not depend on them), Constant when it does
/// not depend on them, Other otherwise.
static Linearity classify(Value value, Block *body,
                          const llvm::SmallBitVector &partial,
                          DenseMap<Value, Linearity> &memo) {
  if (auto it = memo.find(value); it != memo.end())
    return it->second;
  Linearity result = Linearity::Other;
  if (auto arg = dyn_cast<BlockArgument>(value)) {
    result = arg.getOwner() == body && arg.getArgNumber() < partial.size() &&
                     partial.test(arg.getArgNumber())
                 ? Linearity::Linear
                 : Linearity::Constant;
  } else if (Operation *def = value.getDefiningOp();
             !def || def->getBlock() != body) {
    result = Linearity::Constant; // Defined outside the body.
  } else {
    SmallVector<Linearity> in;
    for (Value operand : def->getOperands())
      in.push_back(classify(operand, body, partial, memo));
    auto all = [&](Linearity l) {
      return llvm::all_of(in, [&](Linearity x) { return x == l; });
    };
    if (all(Linearity::Constant))
      result = Linearity::Constant;
    else if (isa<arith::AddFOp, arith::SubFOp>(def) && all(Linearity::Linear))
      result = Linearity::Linear;
    else if (isa<arith::NegFOp, arith::ExtFOp>(def))
      result = in[0];
    else if (isa<arith::MulFOp>(def) &&
             ((in[0] == Linearity::Linear && in[1] == Linearity::Constant) ||
              (in[0] == Linearity::Constant && in[1] == Linearity::Linear)))
      result = Linearity::Linear;
    else if (isa<arith::DivFOp>(def) && in[0] == Linearity::Linear &&
             in[1] == Linearity::Constant)
      result = Linearity::Linear;
    else if (isa<arith::SelectOp>(def) && in[0] == Linearity::Constant &&
             in[1] == Linearity::Linear && in[2] == Linearity::Linear)
      result = Linearity::Linear;
  }
  memo[value] = result;
  return result;
}

/// A linalg op without reductions whose results are linear in some of its
/// inputs can take those as partial sums (and the others whole) and yield
/// partial sums: the three input gradients of Q, K and V added, a scaled or
/// transposed partial value. Each sum is then reduced once, as late as
/// linearity allows. Offered only with every tensor input partial: a
/// partial input scaled by a whole tensor (a norm's x * rsqrt(mean(x^2)))
/// is linear too, but that whole tensor is usually computed from the same
/// sum, which is then reduced anyway, and keeping the product partial would
/// reduce a second time.
static void addPartialSumOptions(linalg::LinalgOp op,
                                 SmallVectorImpl<ShardingOption> &options) {
  if (op.getNumReductionLoops() != 0 || op->getNumRegions() != 1 ||
      op->getRegion(0).empty())
    return;
  Block *body = &op->getRegion(0).front();
  auto yield = dyn_cast<linalg::YieldOp>(body->getTerminator());
  if (!yield)
    return;
  unsigned numInputs = op.getNumDpsInputs();
  MLIRContext *ctx = op->getContext();
  auto linearIn = [&](const llvm::SmallBitVector &partial) {
    DenseMap<Value, Linearity> memo;
    return llvm::all_of(yield.getOperands(), [&](Value v) {
      return classify(v, body, partial, memo) == Linearity::Linear;
    });
  };
  auto addOption = [&](const llvm::SmallBitVector &partial) {
    ShardingOption option;
    option.kind = ParallelKind::Other;
    option.paddable = false;
    auto sum = ShardingAttr::getPartial(ctx, ReductionKind::sum);
    for (OpOperand &operand : op->getOpOperands())
      option.operands.push_back(operand.getOperandNumber() < numInputs &&
                                        partial.test(operand.getOperandNumber())
                                    ? sum
                                    : ShardingAttr::getReplicated(ctx));
    option.results.assign(op->getNumResults(), sum);
    options.push_back(std::move(option));
  };
  llvm::SmallBitVector all(body->getNumArguments());
  for (unsigned i = 0; i < numInputs; ++i)
    if (isa<RankedTensorType>(op->getOperand(i).getType()))
      all.set(i);
  if (all.any() && linearIn(all))
    addOption(all);
}

/// What the split-loop options of one structured op are built from, asked
/// once: named ops build their maps (and their init operand ranges) on every
/// query.
struct LoopFacts {
  linalg::LinalgOp op;
  SmallVector<utils::IteratorType> iterators;
  SmallVector<AffineMap> maps; ///< the inputs', then the inits'
  unsigned numInputs = 0;
  SmallVector<int64_t> loopSizes;
  SmallVector<uint64_t> indexedLoops; ///< loops read by linalg.index
  /// Tables read with tensor.extract (a lookup's table is split by
  /// vocabulary instead).
  SmallVector<Value> extracted;
  /// Contractions name their column (N) and row (K) splits.
  std::optional<unsigned> columnLoop, rowLoop;
};

static LoopFacts getLoopFacts(linalg::LinalgOp linalgOp, bool isGather) {
  LoopFacts facts;
  facts.op = linalgOp;
  FailureOr<linalg::ContractionDimensions> dims =
      inferReducingContraction(linalgOp);
  if (succeeded(dims) && (!dims->m.empty() || !dims->n.empty())) {
    if (!dims->n.empty())
      facts.columnLoop = *llvm::min_element(dims->n);
    facts.rowLoop = *llvm::min_element(dims->k);
  }
  facts.iterators = linalgOp.getIteratorTypesArray();
  facts.maps = linalgOp.getIndexingMapsArray();
  facts.numInputs = linalgOp.getNumDpsInputs();
  facts.loopSizes = getStaticLoopSizes(linalgOp, facts.maps);
  linalgOp->walk([&](linalg::IndexOp index) {
    facts.indexedLoops.push_back(index.getDim());
  });
  if (!isGather)
    facts.extracted = getExtractedCaptures(linalgOp);
  return facts;
}

/// The option that splits `loop`, if every operand can follow it.
static std::optional<ShardingOption> getSplitLoopOption(const LoopFacts &facts,
                                                        unsigned loop,
                                                        ShardingNames &names) {
  Operation *op = facts.op;
  MLIRContext *ctx = op->getContext();
  ShardingOption option;
  option.loopDim = loop;
  option.loopSize = facts.loopSizes[loop];
  bool reduction = facts.iterators[loop] == utils::IteratorType::reduction;
  for (OpOperand &operand : op->getOpOperands()) {
    if (!isa<RankedTensorType>(operand.get().getType())) {
      option.operands.push_back(names.getReplicated());
      continue;
    }
    std::optional<ShardingAttr> sharding =
        shardingForLoop(names, facts.maps[operand.getOperandNumber()], loop);
    if (!sharding)
      return std::nullopt;
    // Every init must be cut along a split parallel loop; along a split
    // reduction it stays whole.
    if (operand.getOperandNumber() >= facts.numInputs && !reduction &&
        sharding->isReplicated())
      return std::nullopt;
    option.operands.push_back(*sharding);
  }
  for (OpResult result : op->getResults()) {
    if (!reduction) {
      option.results.push_back(
          option.operands[facts.numInputs + result.getResultNumber()]);
      continue;
    }
    std::optional<ReductionKind> combiner =
        getReductionCombiner(facts.op, result.getResultNumber());
    if (!combiner)
      return std::nullopt;
    option.results.push_back(ShardingAttr::getPartial(ctx, *combiner));
  }
  // A parallel loop that indexes a captured tensor directly splits it too.
  if (!reduction)
    for (Value captured : facts.extracted)
      if (std::optional<int64_t> pos =
              capturedSplitPosition(facts.op, captured, loop)) {
        option.captures.push_back(
            {captured, ShardingAttr::getSplit(ctx, *pos)});
        option.paddable = false;
      }
  // Positions along the loop matter only to linalg.index of it.
  option.segmentable = !llvm::is_contained(facts.indexedLoops, loop);
  if (facts.columnLoop && loop == *facts.columnLoop)
    option.kind = ParallelKind::Column;
  else if (facts.rowLoop && loop == *facts.rowLoop)
    option.kind = ParallelKind::Row;
  return option;
}

static void getLinalgShardingOptions(Operation *op,
                                     SmallVectorImpl<ShardingOption> &options) {
  auto linalgOp = cast<linalg::LinalgOp>(op);
  MLIRContext *ctx = op->getContext();
  if (!linalgOp.hasPureTensorSemantics())
    return;

  ShardingNames names(ctx);
  ShardingOption replicated;
  replicated.kind = ParallelKind::Replicated;
  replicated.operands.assign(op->getNumOperands(), names.getReplicated());
  replicated.results.assign(op->getNumResults(), names.getReplicated());
  options.push_back(replicated);

  std::optional<Gather> gather = matchGather(linalgOp);
  LoopFacts facts = getLoopFacts(linalgOp, gather.has_value());
  for (unsigned loop = 0, e = facts.loopSizes.size(); loop < e; ++loop)
    if (std::optional<ShardingOption> option =
            getSplitLoopOption(facts, loop, names))
      options.push_back(std::move(*option));
  if (gather)
    options.push_back(vocabParallelOption(op, *gather));
  addPartialSumOptions(linalgOp, options);
}

/// Makes the iterations of `loop` beyond its global `size` (the zero
/// padding of an uneven split) leave every accumulator unchanged.
static void maskPadding(linalg::GenericOp generic, unsigned loop, int64_t size,
                        PartitionContext &context, OpBuilder &builder) {
  OpBuilder::InsertionGuard guard(builder);
  Location loc = generic.getLoc();
  int64_t chunkSize = generic.getStaticLoopRanges()[loop];
  builder.setInsertionPoint(generic);
  Value rank = context.getRank(builder, loc);
  Value offset = arith::MulIOp::create(
      builder, loc, rank,
      arith::ConstantIndexOp::create(builder, loc, chunkSize));
  Value limit = arith::ConstantIndexOp::create(builder, loc, size);
  Block *body = generic.getBody();
  Operation *yield = body->getTerminator();
  builder.setInsertionPoint(yield);
  Value index = linalg::IndexOp::create(builder, loc, loop);
  Value global = arith::AddIOp::create(builder, loc, index, offset);
  Value inRange = arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::ult,
                                        global, limit);
  for (OpOperand &yielded : yield->getOpOperands()) {
    Value out = body->getArgument(generic.getNumDpsInputs() +
                                  yielded.getOperandNumber());
    yielded.set(
        arith::SelectOp::create(builder, loc, inRange, yielded.get(), out));
  }
}

/// A split sum keeps each init's value on rank 0 only, so that it is added
/// once (a fill with the identity needs nothing).
static void keepSumInitsOnFirstRank(linalg::LinalgOp linalgOp,
                                    const ShardingOption &option,
                                    MutableArrayRef<Value> operands,
                                    OpBuilder &builder,
                                    PartitionContext &context) {
  Location loc = linalgOp.getLoc();
  for (OpResult result : linalgOp->getResults()) {
    if (option.results[result.getResultNumber()].getReduction() !=
        ReductionKind::sum)
      continue;
    OpOperand *init = linalgOp.getDpsInitOperand(result.getResultNumber());
    Value &local = operands[init->getOperandNumber()];
    if (isZeroFill(local))
      continue;
    auto type = cast<RankedTensorType>(local.getType());
    Value zero = arith::ConstantOp::create(
        builder, loc, builder.getZeroAttr(type.getElementType()));
    Value empty = tensor::EmptyOp::create(builder, loc, type,
                                          dynamicSizes(builder, loc, local));
    Value zeros =
        linalg::FillOp::create(builder, loc, zero, empty).getResult(0);
    Value rank = context.getRank(builder, loc);
    Value c0 = arith::ConstantIndexOp::create(builder, loc, 0);
    Value isFirst =
        arith::CmpIOp::create(builder, loc, arith::CmpIPredicate::eq, rank, c0);
    local = arith::SelectOp::create(builder, loc, isFirst, local, zeros);
  }
}

/// True if `option` splits a reduction loop that does not divide evenly
/// (uneven=pad), or in whole units (`granule`, which exists only where it
/// pads): the padding must then be masked out.
static bool isPaddedReduction(linalg::LinalgOp linalgOp,
                              const ShardingOption &option, int64_t tpSize) {
  bool inUnits = llvm::any_of(option.operands, [](ShardingAttr s) {
    return s && s.isSplit() && s.getGranule() != 1;
  });
  return option.loopDim >= 0 && option.loopSize > 0 &&
         (option.loopSize % tpSize != 0 || inUnits) &&
         linalgOp.getIteratorTypesArray()[option.loopDim] ==
             utils::IteratorType::reduction;
}

/// `op` as its generic form on `operands` (only a generic's body can be
/// masked).
static Operation *rebuildAsGeneric(linalg::LinalgOp linalgOp,
                                   ValueRange operands, OpBuilder &builder) {
  unsigned numInputs = linalgOp.getNumDpsInputs();
  SmallVector<Type> resultTypes;
  for (Value init : operands.drop_front(numInputs))
    resultTypes.push_back(init.getType());
  auto generic = linalg::GenericOp::create(
      builder, linalgOp.getLoc(), resultTypes, operands.take_front(numInputs),
      operands.drop_front(numInputs), linalgOp.getIndexingMapsArray(),
      linalgOp.getIteratorTypesArray());
  IRMapping mapping;
  linalgOp->getRegion(0).cloneInto(&generic.getRegion(), mapping);
  return generic;
}

/// `linalg.index` of the split loop counts from this rank's first element.
static void shiftSplitLoopIndices(Operation *local,
                                  const ShardingOption &option,
                                  OpBuilder &builder,
                                  PartitionContext &context) {
  SmallVector<linalg::IndexOp> indices;
  local->walk([&](linalg::IndexOp index) {
    if (index.getDim() == static_cast<uint64_t>(option.loopDim))
      indices.push_back(index);
  });
  if (indices.empty())
    return;
  // The local op's loop range is one rank's chunk. (The original op's
  // operands are already local here: read nothing shape-related from it.)
  int64_t chunkSize =
      cast<linalg::LinalgOp>(local).getStaticLoopRanges()[option.loopDim];
  Location loc = local->getLoc();
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPoint(local);
  Value rank = context.getRank(builder, loc);
  Value chunk = arith::ConstantIndexOp::create(builder, loc, chunkSize);
  Value offset = arith::MulIOp::create(builder, loc, rank, chunk);
  for (linalg::IndexOp index : indices) {
    builder.setInsertionPointAfter(index);
    auto shifted = arith::AddIOp::create(builder, index.getLoc(),
                                         index.getResult(), offset);
    // A captured tensor split along this loop (see capturedSplitPosition) is
    // read at the local index. The partitioner has already put the local
    // tensor in place: it is the one whose extent at that position is this
    // rank's chunk (a whole tensor read at every global index is at least
    // the loop's global size there).
    index.getResult().replaceUsesWithIf(shifted, [&](OpOperand &use) {
      if (use.getOwner() == shifted)
        return false;
      auto extract = dyn_cast<tensor::ExtractOp>(use.getOwner());
      if (!extract || use.getOperandNumber() == 0)
        return true;
      auto type = cast<RankedTensorType>(extract.getTensor().getType());
      int64_t pos = use.getOperandNumber() - 1;
      bool isLocal =
          option.loopSize != chunkSize && type.getDimSize(pos) == chunkSize;
      return !isLocal;
    });
  }
}

static FailureOr<SmallVector<Value>>
partitionLinalgOp(Operation *op, OpBuilder &builder,
                  const ShardingOption &option, ValueRange localOperands,
                  PartitionContext &context) {
  auto linalgOp = cast<linalg::LinalgOp>(op);
  int64_t tpSize = context.getTPSize();
  SmallVector<Value> operands(localOperands);
  if (option.loopDim >= 0 && linalgOp.getIteratorTypesArray()[option.loopDim] ==
                                 utils::IteratorType::reduction)
    keepSumInitsOnFirstRank(linalgOp, option, operands, builder, context);

  bool paddedReduction = isPaddedReduction(linalgOp, option, tpSize);
  Operation *local = op;
  if (paddedReduction && !isa<linalg::GenericOp>(op)) {
    local = rebuildAsGeneric(linalgOp, operands, builder);
  } else {
    // Update the op in place: new operands and result types; its region only
    // works on elements, so nothing in it depends on the shapes.
    op->setOperands(operands);
  }
  if (option.kind == ParallelKind::Vocab) {
    maskVocabParallelGather(local, context, builder);
    return SmallVector<Value>(local->getResults());
  }
  for (auto [result, sharding] : llvm::zip(local->getResults(), option.results))
    result.setType(getLocalType(cast<RankedTensorType>(result.getType()),
                                sharding, tpSize));
  if (option.loopDim >= 0)
    shiftSplitLoopIndices(local, option, builder, context);
  if (paddedReduction)
    maskPadding(cast<linalg::GenericOp>(local), option.loopDim, option.loopSize,
                context, builder);
  return SmallVector<Value>(local->getResults());
}

namespace {

/// linalg.softmax splits along any dimension but the normalized one.
struct SoftmaxShardingModel
    : public ShardingOpInterface::ExternalModel<SoftmaxShardingModel,
                                                linalg::SoftmaxOp> {
  void getShardingOptions(Operation *op, int64_t,
                          SmallVectorImpl<ShardingOption> &options) const {
    auto softmax = cast<linalg::SoftmaxOp>(op);
    MLIRContext *ctx = op->getContext();
    if (!isa<RankedTensorType>(softmax.getInput().getType()))
      return;
    int64_t rank = softmax.getInputOperandRank();
    for (int64_t d = -1; d < rank; ++d) {
      if (d == static_cast<int64_t>(softmax.getDimension()))
        continue;
      ShardingAttr s = d < 0 ? ShardingAttr::getReplicated(ctx)
                             : ShardingAttr::getSplit(ctx, d);
      ShardingOption option;
      option.kind = d < 0 ? ParallelKind::Replicated : ParallelKind::Other;
      option.segmentable = d >= 0;
      option.operands.assign(op->getNumOperands(), s);
      option.results.assign(op->getNumResults(), s);
      options.push_back(std::move(option));
    }
  }

  FailureOr<SmallVector<Value>> partition(Operation *op, OpBuilder &builder,
                                          const ShardingOption &option,
                                          ValueRange localOperands,
                                          PartitionContext &context) const {
    return cloneWithLocalTypes(op, builder, option, localOperands, context);
  }
};

/// The rules above are shared by all structured ops.
template <typename... OpTys> void attachLinalgModels(MLIRContext *ctx) {
  attachFamilyModels<getLinalgShardingOptions, partitionLinalgOp, OpTys...>(
      ctx);
}

} // namespace

void mlir::tp::registerLinalgShardingModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, linalg::LinalgDialect *) {
    attachLinalgModels<
#define GET_OP_LIST
#include "mlir/Dialect/Linalg/IR/LinalgStructuredOps.cpp.inc"
        >(ctx);
    linalg::SoftmaxOp::attachInterface<SoftmaxShardingModel>(*ctx);
  });
}
