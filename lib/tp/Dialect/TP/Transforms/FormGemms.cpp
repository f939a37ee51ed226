//===- FormGemms.cpp - the tp-form-gemms pass -----------------------------===//
//
// Part of tp-mlir.
//
// A contraction's loops fall into four groups (linalg::inferContractionDims):
// batch (in A, B and C), m (A and C), n (B and C) and k (A and B). The op is
// a row-major (batched) GEMM when each operand lists its groups in the order
// below, with each group's loops adjacent and in one order everywhere:
//
//   C: [batch] m n      A: [batch] m k  or  [batch] k m  (trans_a)
//                       B: [batch] k n  or  [batch] n k  (trans_b)
//
// Collapsing each group to one dimension (tensor.collapse_shape, free on
// contiguous buffers) gives the rank-2/3 operands of tp.gemm.
//
//===----------------------------------------------------------------------===//

#include "EpilogueMatcher.h"

#include "tp/Dialect/TP/Transforms/Passes.h"
#include "tp/Dialect/TP/IR/TPOps.h"

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/Support/FormatVariadic.h"

#define DEBUG_TYPE "tp-form-gemms"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPFORMGEMMS
#include "tp/Dialect/TP/Transforms/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

enum class Group { batch, m, n, k };

/// How one operand maps onto its rank-2/3 GEMM form.
struct OperandForm {
  /// Collapses the operand's dimensions into [batch,] rows, cols.
  SmallVector<ReassociationIndices> reassociation;
  /// A stored as [k, m], B stored as [n, k].
  bool transposed = false;
};

struct GemmForm {
  OperandForm a, b, c;
  /// Number of n loops (the trailing dimensions of C).
  unsigned numN = 0;
  Type elementType;
};

/// A run of adjacent result dimensions of one group.
struct Run {
  Group group;
  SmallVector<unsigned> dims;
};

SmallVector<Run> getRuns(AffineMap map, ArrayRef<Group> groupOf) {
  SmallVector<Run> runs;
  for (AffineExpr e : map.getResults()) {
    unsigned d = cast<AffineDimExpr>(e).getPosition();
    if (runs.empty() || runs.back().group != groupOf[d])
      runs.push_back({groupOf[d], {}});
    runs.back().dims.push_back(d);
  }
  return runs;
}

/// Matches `runs` against `groups` in order, with `orders[g]` the loop order
/// of group g (set from the first operand that fixes it). Returns the
/// reassociation, or failure.
FailureOr<SmallVector<ReassociationIndices>>
matchRuns(ArrayRef<Run> runs, ArrayRef<Group> groups,
          DenseMap<unsigned, SmallVector<unsigned>> &orders) {
  if (runs.size() != groups.size())
    return failure();
  SmallVector<ReassociationIndices> reassociation;
  int64_t next = 0;
  for (auto [run, group] : llvm::zip(runs, groups)) {
    if (run.group != group)
      return failure();
    auto [it, inserted] =
        orders.try_emplace(static_cast<unsigned>(group), run.dims);
    if (!inserted && it->second != run.dims)
      return failure();
    ReassociationIndices indices;
    for (size_t i = 0; i < run.dims.size(); ++i)
      indices.push_back(next++);
    reassociation.push_back(indices);
  }
  return reassociation;
}

/// Records `reason` as why `op` cannot be a tp.gemm, and fails.
LogicalResult failBecause(std::string &why, const Twine &reason) {
  why = reason.str();
  return failure();
}

/// The element type of `op` when tp_rt_gemm can take its operands: two
/// inputs and one output, static non-empty ranked tensors of one supported
/// element type, and a body that is exactly a multiply-add.
FailureOr<Type> getGemmElementType(linalg::LinalgOp op, std::string &why) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1)
    return failBecause(why, "not two inputs and one output");
  Value a = op.getDpsInputOperand(0)->get();
  Value b = op.getDpsInputOperand(1)->get();
  Value c = op.getDpsInitOperand(0)->get();
  auto aType = dyn_cast<RankedTensorType>(a.getType());
  auto bType = dyn_cast<RankedTensorType>(b.getType());
  auto cType = dyn_cast<RankedTensorType>(c.getType());
  if (!aType || !bType || !cType)
    return failBecause(why, "operands are not ranked tensors");
  Type elementType = cType.getElementType();
  if (aType.getElementType() != elementType ||
      bType.getElementType() != elementType)
    return failBecause(why, "operands have different element types (tp_rt_gemm "
                            "takes one element type)");
  if (!elementType.isF32() && !elementType.isF16() && !elementType.isBF16())
    return failBecause(why, Twine("element type '") +
                                llvm::formatv("{0}", elementType).str() +
                                "' (tp_rt_gemm supports f32, f16 and bf16)");
  if (!aType.hasStaticShape() || !bType.hasStaticShape() ||
      !cType.hasStaticShape())
    return failBecause(why, "dynamic shapes");
  // An empty operand (a zero-sized dimension) is left to the loops, which do
  // nothing for it; its buffers may have no strided layout to pass on.
  if (aType.getNumElements() == 0 || bType.getNumElements() == 0 ||
      cType.getNumElements() == 0)
    return failBecause(why, "an operand has no elements");
  // The body must be exactly a multiply-add (no casts, which the check for a
  // contraction allows).
  Block &body = op->getRegion(0).front();
  for (Operation &inner : body.without_terminator())
    if (!isa<arith::MulFOp, arith::AddFOp>(inner))
      return failBecause(why, Twine("its body computes '") +
                                  inner.getName().getStringRef() +
                                  "' besides a multiply-add");
  return elementType;
}

/// The group (batch, m, n or k) of each loop of `op`, when it is a
/// contraction with m, n and k loops in which every loop has a group.
FailureOr<SmallVector<Group>> groupLoops(linalg::LinalgOp op,
                                         std::string &why) {
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims))
    return failBecause(why, "its loops are not batch, m, n and k loops");
  if (dims->m.empty() || dims->n.empty() || dims->k.empty())
    return failBecause(why,
                       "it has no m, n or k loop (a matrix-vector product)");
  unsigned numLoops = op.getNumLoops();
  if (dims->batch.size() + dims->m.size() + dims->n.size() + dims->k.size() !=
      numLoops)
    return failBecause(why, "a loop is not a batch, m, n or k loop");
  SmallVector<Group> groupOf(numLoops, Group::batch);
  for (unsigned d : dims->m)
    groupOf[d] = Group::m;
  for (unsigned d : dims->n)
    groupOf[d] = Group::n;
  for (unsigned d : dims->k)
    groupOf[d] = Group::k;
  return groupOf;
}

/// Fills `form`'s operand layouts: the output indexed ([batch], m, n), the
/// LHS ([batch], m, k) or transposed, the RHS ([batch], k, n) or
/// transposed, each group's loops in one order across the three.
LogicalResult matchOperandLayouts(linalg::LinalgOp op, ArrayRef<Group> groupOf,
                                  GemmForm &form, std::string &why) {
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  for (AffineMap map : maps)
    if (!map.isProjectedPermutation() || map.getNumSymbols() != 0)
      return failBecause(why, "an indexing map is not a projected permutation");

  bool batched = llvm::is_contained(groupOf, Group::batch);
  auto withBatch = [&](std::initializer_list<Group> rest) {
    SmallVector<Group> groups;
    if (batched)
      groups.push_back(Group::batch);
    groups.append(rest.begin(), rest.end());
    return groups;
  };
  DenseMap<unsigned, SmallVector<unsigned>> orders;

  auto cReassociation = matchRuns(getRuns(maps[2], groupOf),
                                  withBatch({Group::m, Group::n}), orders);
  if (failed(cReassociation))
    return failBecause(why, "the output is not indexed ([batch], m, n)");
  form.c.reassociation = *cReassociation;

  SmallVector<Run> aRuns = getRuns(maps[0], groupOf);
  auto aReassociation =
      matchRuns(aRuns, withBatch({Group::m, Group::k}), orders);
  if (failed(aReassociation)) {
    aReassociation = matchRuns(aRuns, withBatch({Group::k, Group::m}), orders);
    form.a.transposed = true;
  }
  if (failed(aReassociation))
    return failBecause(why,
                       "the LHS is not indexed ([batch], m, k) or ([batch], "
                       "k, m) with its loops in the order of the output");
  form.a.reassociation = *aReassociation;

  SmallVector<Run> bRuns = getRuns(maps[1], groupOf);
  auto bReassociation =
      matchRuns(bRuns, withBatch({Group::k, Group::n}), orders);
  if (failed(bReassociation)) {
    bReassociation = matchRuns(bRuns, withBatch({Group::n, Group::k}), orders);
    form.b.transposed = true;
  }
  if (failed(bReassociation))
    return failBecause(why, "the RHS is not indexed ([batch], k, n) or "
                            "([batch], n, k) with its loops in the order of "
                            "the output and the LHS");
  form.b.reassociation = *bReassociation;
  return success();
}

/// Why `op` cannot be a tp.gemm, or its form.
FailureOr<GemmForm> getGemmForm(linalg::LinalgOp op, std::string &why) {
  FailureOr<Type> elementType = getGemmElementType(op, why);
  if (failed(elementType))
    return failure();
  FailureOr<SmallVector<Group>> groupOf = groupLoops(op, why);
  if (failed(groupOf))
    return failure();
  GemmForm form;
  form.elementType = *elementType;
  form.numN = llvm::count(*groupOf, Group::n);
  if (failed(matchOperandLayouts(op, *groupOf, form, why)))
    return failure();
  return form;
}

bool isTrivial(ArrayRef<ReassociationIndices> reassociation) {
  return llvm::all_of(reassociation,
                      [](const ReassociationIndices &r) { return r.size() == 1; });
}

Value collapse(OpBuilder &b, Location loc, Value v,
               ArrayRef<ReassociationIndices> reassociation) {
  if (isTrivial(reassociation))
    return v;
  return tensor::CollapseShapeOp::create(b, loc, v, reassociation);
}

SmallVector<int64_t> collapsedShape(ArrayRef<int64_t> shape,
                                    ArrayRef<ReassociationIndices> groups) {
  SmallVector<int64_t> result;
  for (const ReassociationIndices &group : groups) {
    int64_t size = 1;
    for (int64_t i : group)
      size *= shape[i];
    result.push_back(size);
  }
  return result;
}

/// The elementwise generic folded into a GEMM's epilogue.
struct EpilogueFold {
  linalg::GenericOp generic;
  GemmEpilogue epilogue = GemmEpilogue::none;
  Value bias; // the bias tensor (rank = number of n loops), or null
};

/// The single user of `op`'s result, when it applies bias and/or activation
/// in a way tp_rt_gemm's epilogue computes.
std::optional<EpilogueFold> matchEpilogue(linalg::LinalgOp op,
                                          const GemmForm &form, bool betaZero) {
  Value result = op->getResult(0);
  if (!result.hasOneUse())
    return std::nullopt;
  auto generic = dyn_cast<linalg::GenericOp>(*result.getUsers().begin());
  auto resultType = cast<RankedTensorType>(result.getType());
  int64_t rank = resultType.getRank();
  if (!generic || !generic.hasPureTensorSemantics() ||
      generic.getNumDpsInits() != 1 ||
      generic.getNumParallelLoops() != generic.getNumLoops() ||
      generic.getNumLoops() != rank ||
      generic->getResult(0).getType() != resultType ||
      !generic.getMatchingIndexingMap(generic.getDpsInitOperand(0))
           .isIdentity())
    return std::nullopt;

  // The bias is indexed by exactly the n loops, the trailing loops of C.
  auto isBiasMap = [&](AffineMap map) {
    if (map.getNumResults() != form.numN)
      return false;
    for (unsigned i = 0; i < form.numN; ++i)
      if (map.getResult(i) !=
          getAffineDimExpr(rank - form.numN + i, map.getContext()))
        return false;
    return true;
  };

  Value x, biasArg, bias;
  for (OpOperand *input : generic.getDpsInputOperands()) {
    AffineMap map = generic.getMatchingIndexingMap(input);
    BlockArgument arg = generic.getMatchingBlockArgument(input);
    auto type = dyn_cast<RankedTensorType>(input->get().getType());
    if (!type || type.getElementType() != form.elementType)
      return std::nullopt;
    if (input->get() == result && map.isIdentity()) {
      x = arg;
    } else if (!bias && isBiasMap(map) && type.hasStaticShape()) {
      biasArg = arg;
      bias = input->get();
    } else if (!arg.use_empty()) {
      return std::nullopt;
    }
  }
  OpOperand *init = generic.getDpsInitOperand(0);
  BlockArgument initArg = generic.getMatchingBlockArgument(init);
  if (init->get() == result)
    x = initArg;
  else if (!initArg.use_empty())
    return std::nullopt;
  if (!x)
    return std::nullopt;

  std::optional<GemmEpilogue> epilogue =
      matchEpilogueBody(generic.getRegion().front(), x, biasArg);
  if (!epilogue)
    return std::nullopt;
  // tp_rt_gemm computes beta * C + act(AB + bias); an accumulated product
  // cannot take an activation.
  bool activation = *epilogue != GemmEpilogue::none &&
                    *epilogue != GemmEpilogue::bias;
  if (activation && !betaZero)
    return std::nullopt;
  return EpilogueFold{generic, *epilogue, bias};
}

/// Replaces contraction `op` by a tp.gemm (and its epilogue user, if it
/// folds).
void rewriteAsGemm(RewriterBase &rewriter, linalg::LinalgOp op,
                   const GemmForm &form) {
  Value a = op.getDpsInputOperand(0)->get();
  Value b = op.getDpsInputOperand(1)->get();
  Value init = op.getDpsInitOperand(0)->get();
  auto cType = cast<RankedTensorType>(init.getType());

  bool betaZero = false;
  if (auto fill = init.getDefiningOp<linalg::FillOp>())
    betaZero = matchPattern(fill.value(), m_AnyZeroFloat());
  std::optional<EpilogueFold> fold = matchEpilogue(op, form, betaZero);

  // Insert at the epilogue when folding it: its bias may be defined after op.
  OpBuilder::InsertionGuard guard(rewriter);
  rewriter.setInsertionPoint(fold ? fold->generic.getOperation()
                                  : op.getOperation());
  Location loc = op.getLoc();
  Value aGemm = collapse(rewriter, loc, a, form.a.reassociation);
  Value bGemm = collapse(rewriter, loc, b, form.b.reassociation);
  auto gemmType = RankedTensorType::get(
      collapsedShape(cType.getShape(), form.c.reassociation),
      form.elementType);
  Value cGemm = betaZero ? tensor::EmptyOp::create(rewriter, loc,
                                                   gemmType.getShape(),
                                                   form.elementType)
                               .getResult()
                         : collapse(rewriter, loc, init, form.c.reassociation);
  Value bias;
  GemmEpilogue epilogue = GemmEpilogue::none;
  if (fold) {
    epilogue = fold->epilogue;
    if (fold->bias) {
      auto biasType = cast<RankedTensorType>(fold->bias.getType());
      SmallVector<ReassociationIndices> all(1);
      for (int64_t i = 0; i < biasType.getRank(); ++i)
        all[0].push_back(i);
      bias = biasType.getRank() == 1
                 ? fold->bias
                 : tensor::CollapseShapeOp::create(rewriter, loc, fold->bias,
                                                   all)
                       .getResult();
    }
  }
  auto gemm = GemmOp::create(rewriter, loc, gemmType, aGemm, bGemm, bias, cGemm,
                             form.a.transposed, form.b.transposed, epilogue,
                             llvm::APFloat(betaZero ? 0.0f : 1.0f));
  Value result = gemm.getResult();
  if (!isTrivial(form.c.reassociation))
    result = tensor::ExpandShapeOp::create(rewriter, loc, cType, result,
                                           form.c.reassociation);
  if (fold) {
    rewriter.replaceOp(fold->generic, result);
    rewriter.eraseOp(op);
  } else {
    rewriter.replaceOp(op, result);
  }
}

/// The tensor `v` is the transpose (of the last two dimensions) of, or
/// nullptr. Looks through a collapse_shape that only merges leading
/// dimensions.
Value getTransposeSource(RewriterBase &rewriter, Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type || type.getRank() < 2)
    return nullptr;
  auto isLastTwoSwap = [](ArrayRef<int64_t> permutation) {
    int64_t r = permutation.size();
    if (r < 2 || permutation[r - 2] != r - 1 || permutation[r - 1] != r - 2)
      return false;
    for (int64_t i = 0; i < r - 2; ++i)
      if (permutation[i] != i)
        return false;
    return true;
  };
  if (auto transpose = v.getDefiningOp<linalg::TransposeOp>())
    return isLastTwoSwap(transpose.getPermutation()) ? transpose.getInput()
                                                     : nullptr;
  if (auto generic = v.getDefiningOp<linalg::GenericOp>()) {
    if (generic.getNumDpsInputs() != 1 || generic.getNumDpsInits() != 1 ||
        generic.getNumParallelLoops() != generic.getNumLoops())
      return nullptr;
    Block &body = generic.getRegion().front();
    auto yield = cast<linalg::YieldOp>(body.getTerminator());
    OpOperand *input = generic.getDpsInputOperand(0);
    if (body.getOperations().size() != 1 ||
        yield.getOperand(0) != generic.getMatchingBlockArgument(input) ||
        !generic.getMatchingIndexingMap(generic.getDpsInitOperand(0))
             .isIdentity())
      return nullptr;
    AffineMap map = generic.getMatchingIndexingMap(input);
    if (!map.isPermutation())
      return nullptr;
    // out[i] = in[map(i)]: in's dimension j is loop map(j).
    SmallVector<int64_t> permutation;
    for (AffineExpr e : map.getResults())
      permutation.push_back(cast<AffineDimExpr>(e).getPosition());
    return isLastTwoSwap(permutation) ? input->get() : nullptr;
  }
  if (auto collapseOp = v.getDefiningOp<tensor::CollapseShapeOp>()) {
    SmallVector<ReassociationIndices> groups =
        collapseOp.getReassociationIndices();
    int64_t r = groups.size();
    if (r < 2 || groups[r - 1].size() != 1 || groups[r - 2].size() != 1)
      return nullptr;
    Value source = getTransposeSource(rewriter, collapseOp.getSrc());
    if (!source)
      return nullptr;
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(collapseOp);
    return tensor::CollapseShapeOp::create(rewriter, collapseOp.getLoc(),
                                           source, groups);
  }
  return nullptr;
}

struct TPFormGemmsPass : public tp::impl::TPFormGemmsBase<TPFormGemmsPass> {
  using Base::Base;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<std::pair<linalg::LinalgOp, GemmForm>> candidates;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (!op.hasPureTensorSemantics() ||
          !linalg::isaContractionOpInterface(op))
        return;
      std::string why;
      FailureOr<GemmForm> form = getGemmForm(op, why);
      if (failed(form)) {
        op->emitRemark(target == "cpu"
                           ? "contraction stays generated CPU loops: "
                           : "contraction stays a generated GPU kernel: ")
            << why;
        return;
      }
      candidates.push_back({op, *form});
    });
    for (auto &[op, form] : candidates)
      rewriteAsGemm(rewriter, op, form);

    // Transposed operands are read in place.
    getOperation().walk([&](GemmOp gemm) {
      if (!gemm.getResult())
        return;
      if (Value source = getTransposeSource(rewriter, gemm.getA())) {
        rewriter.modifyOpInPlace(gemm, [&] {
          gemm.getAMutable().assign(source);
          gemm.setTransA(!gemm.getTransA());
        });
      }
      if (Value source = getTransposeSource(rewriter, gemm.getB())) {
        rewriter.modifyOpInPlace(gemm, [&] {
          gemm.getBMutable().assign(source);
          gemm.setTransB(!gemm.getTransB());
        });
      }
    });
  }
};

} // namespace
