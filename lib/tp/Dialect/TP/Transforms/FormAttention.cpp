//===- FormAttention.cpp - the tp-gpu-form-attention pass -----------------===//
//
// Part of tp-mlir.
//
// Finds scaled dot-product attention in a per-rank program on tensors,
//
//   S = Q K^T (linalg.batch_matmul)  -> scale, mask, causal select
//     -> max, exp(S - max), sum, exp / sum (softmax over the keys)
//     -> O = P V (linalg.batch_matmul)
//
// and replaces it with
//
//   %ok, %o = tp.attention ins(Q, K, V) ... -> i1, tensor
//   %r = scf.if %ok { yield %o } else { the original ops; yield their O }
//
// so that the generated path runs whenever the runtime declines. Every
// condition the fused op relies on is checked here: a chain with an
// unrecognized op, a value used outside the chain (scores or probabilities
// used twice), a reduction over another dimension, a non-constant scale or a
// mask added before the scale stays as it is.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Transforms/Passes.h"
#include "tp/Dialect/TP/IR/TPOps.h"

#include "mlir/IR/Matchers.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "tp-gpu-form-attention"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPGPUFORMATTENTION
#include "tp/Dialect/TP/Transforms/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

/// A batched product C[b.., i, j] = sum_k A[b.., i, k] B[b.., k, j] (or
/// B[b.., j, k] with `rhsTransposed`) into a zero-filled accumulator:
/// linalg.batch_matmul with its default maps, or the linalg.generic that
/// partitioning leaves (reshapes folded into its maps).
struct Contraction {
  Operation *op = nullptr;
  Value lhs, rhs, result;
  bool rhsTransposed = false;
};

/// What the chain between the two products computes, besides the softmax.
struct Attention {
  Contraction scores, context;
  Value query; ///< [b.., Sq, D]
  Value keyT;  ///< [b.., D, Skv] (unless the product reads K itself)
  Value key;   ///< [b.., Skv, D] when found
  Value mask;  ///< the additive mask as the generic reads it
  bool sharedMask = false; ///< mask indexed by (query, key) only
  double scale = 1.0;
  /// A scale was found on the way in from the softmax: it is applied after
  /// everything found further in, so a mask found there would be scaled.
  bool scaleSeen = false;
  bool causal = false;
  /// Ops computed only for the chain (moved under the fallback).
  SetVector<Operation *> ops;
};

/// Skips arith.extf / arith.truncf (bf16 bodies widened to f32).
Value skipCasts(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (!isa<arith::ExtFOp, arith::TruncFOp>(def))
      break;
    v = def->getOperand(0);
  }
  return v;
}

std::optional<double> getConstant(Value v) {
  FloatAttr attr;
  if (matchPattern(skipCasts(v), m_Constant(&attr)))
    return attr.getValueAsDouble();
  return std::nullopt;
}

/// True for a reshape that keeps the last two dimensions as they are (it
/// only splits or merges batch dimensions).
bool isBatchReshape(Operation *op) {
  SmallVector<ReassociationIndices> groups;
  if (auto collapse = dyn_cast_or_null<tensor::CollapseShapeOp>(op))
    groups = collapse.getReassociationIndices();
  else if (auto expand = dyn_cast_or_null<tensor::ExpandShapeOp>(op))
    groups = expand.getReassociationIndices();
  else
    return false;
  return groups.size() >= 2 && groups.back().size() == 1 &&
         groups[groups.size() - 2].size() == 1;
}

/// Walks up through batch reshapes whose results are used once (by the
/// chain), recording them.
Value stripBatchReshapes(Value v, Attention &att) {
  while (isBatchReshape(v.getDefiningOp()) && v.hasOneUse()) {
    att.ops.insert(v.getDefiningOp());
    v = v.getDefiningOp()->getOperand(0);
  }
  return v;
}

bool isAllParallel(linalg::GenericOp op) {
  return op.getNumReductionLoops() == 0;
}

/// The map (d0, .., dr-1) -> (d0, .., dr-2): a row statistic.
bool isRowMap(AffineMap map) {
  unsigned r = map.getNumDims();
  if (r < 2 || map.getNumResults() != r - 1)
    return false;
  for (unsigned i = 0; i + 1 < r; ++i)
    if (map.getResult(i) != getAffineDimExpr(i, map.getContext()))
      return false;
  return true;
}

/// The map (d0, .., dr-1) -> (dr-2, dr-1): shared by every batch.
bool isSharedMaskMap(AffineMap map) {
  unsigned r = map.getNumDims();
  return r >= 3 && map.getNumResults() == 2 &&
         map.getResult(0) == getAffineDimExpr(r - 2, map.getContext()) &&
         map.getResult(1) == getAffineDimExpr(r - 1, map.getContext());
}

/// The input operand a block argument of `op`'s body stands for.
OpOperand *getInput(linalg::GenericOp op, Value v) {
  auto arg = dyn_cast<BlockArgument>(skipCasts(v));
  if (!arg || arg.getOwner() != op.getBody())
    return nullptr;
  OpOperand *operand = op.getMatchingOpOperand(arg);
  return op.isDpsInput(operand) ? operand : nullptr;
}

Value getYielded(linalg::GenericOp op) {
  return skipCasts(op.getBody()->getTerminator()->getOperand(0));
}

/// An elementwise generic with one result and an identity output map.
bool isElementwise(linalg::GenericOp op) {
  return op && op->getNumResults() == 1 && isAllParallel(op) &&
         op.getNumDpsInits() == 1 &&
         op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isIdentity();
}

/// The init of a DPS op: its tensor.empty and linalg.fill, when used only by
/// the op, belong to the chain too.
void addWithInits(Operation *op, Attention &att) {
  att.ops.insert(op);
  auto dps = dyn_cast<DestinationStyleOpInterface>(op);
  if (!dps)
    return;
  for (OpOperand &init : dps.getDpsInitsMutable()) {
    Value v = init.get();
    Operation *def = v.getDefiningOp();
    if (!def || !v.hasOneUse() || !isa<tensor::EmptyOp, linalg::FillOp>(def))
      continue;
    addWithInits(def, att);
  }
}

/// A zero-filled accumulator.
bool isZeroFill(Value v) {
  auto fill = v.getDefiningOp<linalg::FillOp>();
  if (!fill)
    return false;
  std::optional<double> c = getConstant(fill.getInputs()[0]);
  return c && *c == 0.0;
}

/// A reduction over the last dimension of the input's rows; returns the
/// input. `max` selects maximumf / maxnumf with a very negative init, else
/// addf with a zero init.
Value matchRowReduction(Value v, bool max, Attention &att) {
  auto op = v.getDefiningOp<linalg::GenericOp>();
  if (!op || op->getNumResults() != 1 || op.getNumDpsInputs() != 1 ||
      op.getNumReductionLoops() != 1 || !v.hasOneUse())
    return {};
  unsigned r = op.getNumLoops();
  if (op.getIteratorTypesArray()[r - 1] != utils::IteratorType::reduction)
    return {};
  OpOperand *in = op.getDpsInputOperand(0);
  if (!op.getMatchingIndexingMap(in).isIdentity() ||
      !isRowMap(op.getMatchingIndexingMap(op.getDpsInitOperand(0))))
    return {};
  Operation *combine = getYielded(op).getDefiningOp();
  if (!combine || combine->getNumOperands() != 2)
    return {};
  if (max ? !isa<arith::MaximumFOp, arith::MaxNumFOp>(combine)
          : !isa<arith::AddFOp>(combine))
    return {};
  Block *body = op.getBody();
  Value a = skipCasts(combine->getOperand(0)),
        b = skipCasts(combine->getOperand(1));
  Value inArg = body->getArgument(0), outArg = body->getArgument(1);
  if (!((a == inArg && b == outArg) || (a == outArg && b == inArg)))
    return {};
  auto fill = op.getDpsInitOperand(0)->get().getDefiningOp<linalg::FillOp>();
  std::optional<double> init =
      fill ? getConstant(fill.getInputs()[0]) : std::nullopt;
  if (!init || (max ? *init > -1e30 : *init != 0.0))
    return {};
  addWithInits(op, att);
  return in->get();
}

/// exp(x - m) with m the row max of x, in one generic or as a subtraction
/// generic then an exp generic; returns x and the max.
std::pair<Value, Value> matchShiftedExp(Value v, Attention &att) {
  auto op = v.getDefiningOp<linalg::GenericOp>();
  if (!isElementwise(op))
    return {};
  auto exp = getYielded(op).getDefiningOp<math::ExpOp>();
  if (!exp)
    return {};
  auto matchSub = [](linalg::GenericOp g,
                     Value body) -> std::pair<Value, Value> {
    auto sub = skipCasts(body).getDefiningOp<arith::SubFOp>();
    if (!sub)
      return {};
    OpOperand *x = getInput(g, sub.getLhs()), *m = getInput(g, sub.getRhs());
    if (!x || !m || !g.getMatchingIndexingMap(x).isIdentity() ||
        !isRowMap(g.getMatchingIndexingMap(m)))
      return {};
    return {x->get(), m->get()};
  };
  auto [x, m] = matchSub(op, exp.getOperand());
  if (x) {
    addWithInits(op, att);
    return {x, m};
  }
  // exp of a separate subtraction.
  OpOperand *in = getInput(op, exp.getOperand());
  if (!in || !op.getMatchingIndexingMap(in).isIdentity() ||
      !in->get().hasOneUse())
    return {};
  auto subOp = in->get().getDefiningOp<linalg::GenericOp>();
  if (!isElementwise(subOp))
    return {};
  std::tie(x, m) = matchSub(subOp, getYielded(subOp));
  if (!x)
    return {};
  addWithInits(op, att);
  addWithInits(subOp, att);
  return {x, m};
}

/// Whether `v` is linalg.index `dim` of `op`.
bool isIndex(Value v, unsigned dim) {
  auto index = v.getDefiningOp<linalg::IndexOp>();
  return index && index.getDim() == dim;
}

/// cmpi that is true exactly where the key comes after the query
/// (column > row), or exactly where it does not (`keep`).
std::optional<bool> matchCausalCondition(Value cond, unsigned r) {
  auto cmp = cond.getDefiningOp<arith::CmpIOp>();
  if (!cmp)
    return std::nullopt;
  unsigned row = r - 2, col = r - 1;
  using P = arith::CmpIPredicate;
  P p = cmp.getPredicate();
  bool colRow = isIndex(cmp.getLhs(), col) && isIndex(cmp.getRhs(), row);
  bool rowCol = isIndex(cmp.getLhs(), row) && isIndex(cmp.getRhs(), col);
  if ((colRow && (p == P::ugt || p == P::sgt)) ||
      (rowCol && (p == P::ult || p == P::slt)))
    return false; // true where masked
  if ((colRow && (p == P::ule || p == P::sle)) ||
      (rowCol && (p == P::uge || p == P::sge)))
    return true; // true where kept
  return std::nullopt;
}

/// Parses one generic's body, from its result inwards: scale by constants,
/// an additive mask after the scale, a causal select; returns the scores
/// operand (the one input read with the identity map that carries them).
struct LogitParser {
  linalg::GenericOp op;
  Attention &att;
  OpOperand *scores = nullptr;

  bool parse(Value v) {
    v = skipCasts(v);
    if (OpOperand *in = getInput(op, v)) {
      if (scores || !op.getMatchingIndexingMap(in).isIdentity())
        return false;
      scores = in;
      return true;
    }
    Operation *def = v.getDefiningOp();
    if (!def || def->getBlock() != op.getBody())
      return false;
    if (auto mul = dyn_cast<arith::MulFOp>(def)) {
      for (auto [c, other] : {std::pair(mul.getRhs(), mul.getLhs()),
                              std::pair(mul.getLhs(), mul.getRhs())})
        if (std::optional<double> k = getConstant(c)) {
          att.scale *= *k;
          att.scaleSeen = true;
          return parse(other);
        }
      return false;
    }
    if (auto div = dyn_cast<arith::DivFOp>(def)) {
      std::optional<double> k = getConstant(div.getRhs());
      if (!k || *k == 0.0)
        return false;
      att.scale /= *k;
      att.scaleSeen = true;
      return parse(div.getLhs());
    }
    if (auto add = dyn_cast<arith::AddFOp>(def)) {
      // A mask added after every scale (cuDNN scales, then adds).
      if (att.scaleSeen || att.mask)
        return false;
      for (auto [m, other] : {std::pair(add.getRhs(), add.getLhs()),
                              std::pair(add.getLhs(), add.getRhs())}) {
        OpOperand *in = getInput(op, m);
        if (!in)
          continue;
        AffineMap map = op.getMatchingIndexingMap(in);
        bool shared = isSharedMaskMap(map);
        if (!map.isIdentity() && !shared)
          continue;
        // The scores may be the other operand only.
        if (getInput(op, other) == in)
          return false;
        att.mask = in->get();
        att.sharedMask = shared;
        return parse(other);
      }
      return false;
    }
    if (auto select = dyn_cast<arith::SelectOp>(def)) {
      std::optional<bool> keep =
          matchCausalCondition(select.getCondition(), op.getNumLoops());
      if (!keep)
        return false;
      Value masked = *keep ? select.getFalseValue() : select.getTrueValue();
      Value kept = *keep ? select.getTrueValue() : select.getFalseValue();
      // Any value this negative underflows to 0 after the max subtraction
      // (the diagonal is never masked, so every row has a finite max).
      std::optional<double> c = getConstant(masked);
      if (!c || *c > -1e4)
        return false;
      att.causal = true;
      return parse(kept);
    }
    return false;
  }
};

/// The scores through the elementwise generics that scale, mask and select
/// them; `x` (the softmax input) may have two uses (max and exp), every
/// value before it one.
std::optional<Contraction> matchContraction(Value v);

std::optional<Contraction> matchLogits(Value x, Attention &att) {
  Value cur = x;
  bool first = true;
  while (true) {
    if (!first && !cur.hasOneUse())
      return std::nullopt;
    first = false;
    cur = stripBatchReshapes(cur, att);
    if (std::optional<Contraction> c = matchContraction(cur)) {
      if (!cur.hasOneUse())
        return std::nullopt;
      return c;
    }
    auto op = cur.getDefiningOp<linalg::GenericOp>();
    if (!isElementwise(op) || op.getNumLoops() < 3)
      return std::nullopt;
    LogitParser parser{op, att};
    if (!parser.parse(getYielded(op)) || !parser.scores)
      return std::nullopt;
    addWithInits(op, att);
    cur = parser.scores->get();
  }
}

/// (d0, .., dn-1) -> the dims in `dims`.
bool isMap(AffineMap map, ArrayRef<unsigned> dims) {
  if (map.getNumResults() != dims.size())
    return false;
  for (auto [expr, dim] : llvm::zip_equal(map.getResults(), dims))
    if (expr != getAffineDimExpr(dim, map.getContext()))
      return false;
  return true;
}

std::optional<Contraction> matchContraction(Value v) {
  Operation *def = v.getDefiningOp();
  if (auto bmm = dyn_cast_or_null<linalg::BatchMatmulOp>(def)) {
    if (bmm.getIndexingMapsArray() !=
            linalg::BatchMatmulOp::getDefaultIndexingMaps(bmm.getContext()) ||
        !isZeroFill(bmm.getOutputs()[0]))
      return std::nullopt;
    return Contraction{bmm, bmm.getInputs()[0], bmm.getInputs()[1],
                       bmm.getResult(0), false};
  }
  auto op = dyn_cast_or_null<linalg::GenericOp>(def);
  if (!op || op->getNumResults() != 1 || op.getNumDpsInputs() != 2 ||
      op.getNumReductionLoops() != 1)
    return std::nullopt;
  unsigned loops = op.getNumLoops(), r = loops - 1; // result rank
  if (r < 3 || op.getIteratorTypesArray()[r] != utils::IteratorType::reduction)
    return std::nullopt;
  SmallVector<unsigned> batch;
  for (unsigned i = 0; i + 2 < r; ++i)
    batch.push_back(i);
  auto dims = [&](unsigned a, unsigned b) {
    SmallVector<unsigned> d = batch;
    d.push_back(a);
    d.push_back(b);
    return d;
  };
  unsigned i = r - 2, j = r - 1, k = r;
  OpOperand *lhs = op.getDpsInputOperand(0), *rhs = op.getDpsInputOperand(1);
  if (!isMap(op.getMatchingIndexingMap(op.getDpsInitOperand(0)), dims(i, j)) ||
      !isMap(op.getMatchingIndexingMap(lhs), dims(i, k)))
    return std::nullopt;
  bool transposed;
  if (isMap(op.getMatchingIndexingMap(rhs), dims(k, j)))
    transposed = false;
  else if (isMap(op.getMatchingIndexingMap(rhs), dims(j, k)))
    transposed = true;
  else
    return std::nullopt;
  // yield out + a * b.
  auto add = getYielded(op).getDefiningOp<arith::AddFOp>();
  if (!add)
    return std::nullopt;
  Block *body = op.getBody();
  Value out = body->getArgument(2);
  Value product = skipCasts(add.getLhs()) == out   ? add.getRhs()
                  : skipCasts(add.getRhs()) == out ? add.getLhs()
                                                   : Value();
  auto mul = product ? skipCasts(product).getDefiningOp<arith::MulFOp>()
                     : arith::MulFOp();
  if (!mul)
    return std::nullopt;
  Value a = skipCasts(mul.getLhs()), b = skipCasts(mul.getRhs());
  Value x = body->getArgument(0), y = body->getArgument(1);
  if (!((a == x && b == y) || (a == y && b == x)) ||
      !isZeroFill(op.getDpsInitOperand(0)->get()))
    return std::nullopt;
  return Contraction{op, lhs->get(), rhs->get(), op->getResult(0), transposed};
}

/// [.., Skv, D] when K^T is a (copying) transpose of its last two dims.
Value matchKeyTranspose(Value keyT, Attention &att) {
  SetVector<Operation *> saved = att.ops;
  Value v = stripBatchReshapes(keyT, att);
  if (!v.hasOneUse()) {
    att.ops = saved;
    return {};
  }
  Operation *def = v.getDefiningOp();
  auto isSwapLast = [](ArrayRef<int64_t> perm) {
    int64_t r = perm.size();
    if (r < 3)
      return false;
    for (int64_t i = 0; i < r - 2; ++i)
      if (perm[i] != i)
        return false;
    return perm[r - 2] == r - 1 && perm[r - 1] == r - 2;
  };
  Value source;
  if (auto t = dyn_cast_or_null<linalg::TransposeOp>(def)) {
    if (isSwapLast(t.getPermutation()))
      source = t.getInput();
  } else if (auto g = dyn_cast_or_null<linalg::GenericOp>(def)) {
    if (isElementwise(g) && g.getNumDpsInputs() == 1) {
      OpOperand *in = g.getDpsInputOperand(0);
      AffineMap map = g.getMatchingIndexingMap(in);
      SmallVector<int64_t> perm;
      if (map.isPermutation() && getInput(g, getYielded(g)) == in) {
        for (AffineExpr e : map.getResults())
          perm.push_back(cast<AffineDimExpr>(e).getPosition());
        // The output is identity: output dim i reads input dim map(i); the
        // swap is its own inverse.
        if (isSwapLast(perm))
          source = in->get();
      }
    }
  }
  if (!source) {
    att.ops = saved;
    return {};
  }
  addWithInits(def, att);
  return source;
}

/// Recognizes the chain ending at `context`; fills `att`.
LogicalResult matchAttention(const Contraction &context, Attention &att) {
  // P V: V is read as stored.
  if (context.rhsTransposed)
    return failure();
  att.context = context;
  addWithInits(context.op, att);
  // P = e / sum(e).
  Value p = stripBatchReshapes(context.lhs, att);
  auto div = p.getDefiningOp<linalg::GenericOp>();
  if (!isElementwise(div) || !p.hasOneUse())
    return failure();
  auto quotient = getYielded(div).getDefiningOp<arith::DivFOp>();
  if (!quotient)
    return failure();
  OpOperand *eIn = getInput(div, quotient.getLhs());
  OpOperand *sIn = getInput(div, quotient.getRhs());
  if (!eIn || !sIn || !div.getMatchingIndexingMap(eIn).isIdentity() ||
      !isRowMap(div.getMatchingIndexingMap(sIn)))
    return failure();
  addWithInits(div, att);
  Value e = eIn->get();
  // e: used by the sum and the division only.
  if (!llvm::hasNItems(e.getUses(), 2))
    return failure();
  if (matchRowReduction(sIn->get(), /*max=*/false, att) != e)
    return failure();
  auto [x, m] = matchShiftedExp(e, att);
  if (!x)
    return failure();
  if (matchRowReduction(m, /*max=*/true, att) != x)
    return failure();
  // x: used by the max and the subtraction only.
  if (!llvm::hasNItems(x.getUses(), 2))
    return failure();
  std::optional<Contraction> scores = matchLogits(x, att);
  if (!scores)
    return failure();
  att.scores = *scores;
  addWithInits(scores->op, att);
  att.query = scores->lhs;
  if (scores->rhsTransposed)
    att.key = scores->rhs; // Q K^T read from K itself
  else
    att.keyT = scores->rhs;
  if (att.keyT)
    att.key = matchKeyTranspose(att.keyT, att);

  // One element type, static shapes, one block.
  Type elementType = getElementTypeOrSelf(att.query.getType());
  if (!elementType.isF32() && !elementType.isF16() && !elementType.isBF16())
    return failure();
  for (Value v : {att.query, scores->rhs, context.rhs, context.result}) {
    auto type = cast<RankedTensorType>(v.getType());
    if (!type.hasStaticShape() || type.getElementType() != elementType)
      return failure();
  }
  if (att.mask) {
    auto type = cast<RankedTensorType>(att.mask.getType());
    if (!type.hasStaticShape() || type.getElementType() != elementType)
      return failure();
  }
  for (Operation *op : att.ops)
    if (op->getBlock() != context.op->getBlock())
      return failure();
  // One rank through the chain's operands: [b.., rows, cols], the same
  // batch dimensions everywhere (reshapes only regroup them).
  auto rank = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getRank();
  };
  if (rank(att.query) < 3 || rank(scores->rhs) < 3 || rank(context.rhs) < 3 ||
      rank(context.result) < 3 || (att.key && rank(att.key) < 3))
    return failure();
  return success();
}

/// `v` ([.., A, B], leading dims multiplying to n) as [n, A, B].
Value collapseToRank3(OpBuilder &b, Location loc, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  int64_t r = type.getRank();
  if (r == 3)
    return v;
  SmallVector<ReassociationIndices> groups(1);
  for (int64_t i = 0; i < r - 2; ++i)
    groups[0].push_back(i);
  groups.push_back({r - 2});
  groups.push_back({r - 1});
  return tensor::CollapseShapeOp::create(b, loc, v, groups);
}

void rewrite(Attention &att) {
  Operation *context = att.context.op;
  OpBuilder b(context);
  Location loc = context->getLoc();
  auto resultType = cast<RankedTensorType>(att.context.result.getType());
  Value query = collapseToRank3(b, loc, att.query);
  Value key = collapseToRank3(b, loc, att.key ? att.key : att.keyT);
  Value value = collapseToRank3(b, loc, att.context.rhs);
  Value mask;
  if (att.mask)
    mask = att.sharedMask ? att.mask : collapseToRank3(b, loc, att.mask);
  auto valueType = cast<RankedTensorType>(value.getType());
  auto queryType = cast<RankedTensorType>(query.getType());
  SmallVector<int64_t> fusedShape{queryType.getDimSize(0),
                                  queryType.getDimSize(1),
                                  valueType.getDimSize(2)};
  Value empty =
      tensor::EmptyOp::create(b, loc, fusedShape, resultType.getElementType());
  auto fused = AttentionOp::create(
      b, loc, b.getI1Type(), empty.getType(), query, key, value, mask, empty,
      b.getF32FloatAttr(static_cast<float>(att.scale)),
      att.causal ? b.getUnitAttr() : UnitAttr(),
      att.key ? UnitAttr() : b.getUnitAttr());
  // Both branches leave the result in the fused op's buffer: the fallback's
  // last product accumulates into it (so bufferization gives the scf.if
  // one buffer, owned outside it, and no copy).
  auto fusedType = cast<RankedTensorType>(fused.getResult().getType());
  auto ifOp = scf::IfOp::create(b, loc, TypeRange{fusedType},
                                fused.getHandled(), /*withElseRegion=*/true);
  OpBuilder thenBuilder = ifOp.getThenBodyBuilder();
  scf::YieldOp::create(thenBuilder, loc, fused.getResult());
  OpBuilder elseBuilder = ifOp.getElseBodyBuilder();
  int64_t r = resultType.getRank();
  SmallVector<ReassociationIndices> groups(1);
  for (int64_t i = 0; i < r - 2; ++i)
    groups[0].push_back(i);
  groups.push_back({r - 2});
  groups.push_back({r - 1});
  Value contextResult = att.context.result;
  Value collapsed = contextResult;
  Operation *collapseOp = nullptr;
  if (r != 3) {
    collapsed = tensor::CollapseShapeOp::create(elseBuilder, loc, contextResult,
                                                groups);
    collapseOp = collapsed.getDefiningOp();
  }
  auto elseYield = scf::YieldOp::create(elseBuilder, loc, collapsed);
  SmallVector<Operation *> ops(att.ops.begin(), att.ops.end());
  llvm::sort(ops,
             [](Operation *a, Operation *c) { return a->isBeforeInBlock(c); });
  for (Operation *op : ops)
    op->moveBefore(collapseOp ? collapseOp : elseYield.getOperation());
  // The last product's zero-filled accumulator becomes the fused buffer.
  auto dps = cast<DestinationStyleOpInterface>(context);
  OpOperand *init = dps.getDpsInitOperand(0);
  Value zero = init->get().getDefiningOp<linalg::FillOp>().getInputs()[0];
  OpBuilder destBuilder(context);
  Value dest = fused.getResult();
  if (r != 3)
    dest = tensor::ExpandShapeOp::create(destBuilder, loc, resultType, dest,
                                         groups);
  Operation *oldFill = init->get().getDefiningOp();
  init->set(linalg::FillOp::create(destBuilder, loc, zero, dest).getResult(0));
  if (oldFill->use_empty()) {
    Operation *oldEmpty = oldFill->getOperand(1).getDefiningOp();
    oldFill->erase();
    if (oldEmpty && isa<tensor::EmptyOp>(oldEmpty) && oldEmpty->use_empty())
      oldEmpty->erase();
  }
  // Users see the original shape.
  b.setInsertionPointAfter(ifOp);
  Value result = ifOp.getResult(0);
  if (r != 3)
    result = tensor::ExpandShapeOp::create(b, loc, resultType, result, groups);
  contextResult.replaceUsesWithIf(result, [&](OpOperand &use) {
    return use.getOwner() != collapseOp && use.getOwner() != elseYield;
  });
}

struct TPGPUFormAttentionPass
    : public tp::impl::TPGPUFormAttentionBase<TPGPUFormAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> candidates;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (isa<linalg::BatchMatmulOp, linalg::GenericOp>(op))
        candidates.push_back(op);
    });
    for (linalg::LinalgOp op : candidates) {
      // Already moved under the fallback of another attention.
      auto parentIf = op->getParentOfType<scf::IfOp>();
      if (parentIf && parentIf.getCondition().getDefiningOp<AttentionOp>())
        continue;
      std::optional<Contraction> context =
          op->getNumResults() == 1 ? matchContraction(op->getResult(0))
                                   : std::nullopt;
      Attention att;
      if (!context || failed(matchAttention(*context, att))) {
        LLVM_DEBUG(llvm::dbgs() << "not attention: " << op << "\n");
        continue;
      }
      rewrite(att);
    }
  }
};

} // namespace
