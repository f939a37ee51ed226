//===- UnpackArguments.cpp - the tp-unpack-arguments pass -----------------===//
//
// Part of tp-mlir.
//
// A function argument that the program only cuts into pieces (static
// tensor.extract_slice ops, each optionally followed by reshapes) is replaced
// by one argument per piece, typed as the piece after its reshapes. The
// function records how each original argument is made of pieces
// (`tp.original_arguments`): each piece is a strided view of the original,
// an element offset plus a shape and element strides, which is what the
// runner needs to cut each rank's shard of a piece out of the one packed
// input. The planner then sees ordinary weights.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Transforms/UnpackArguments.h"
#include "tp/Dialect/TP/IR/TPDialect.h"
#include "tp/Dialect/TP/Transforms/Passes.h"
#include "tp/Utils/SymbolReferences.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "tp-unpack-arguments"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPUNPACKARGUMENTS
#include "tp/Dialect/TP/Transforms/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

/// A piece as a strided view of the original argument (in elements).
struct StridedView {
  int64_t offset = 0;
  SmallVector<int64_t> shape, strides;
};

/// One piece: the slice, the reshapes folded into it, and its view.
struct Piece {
  tensor::ExtractSliceOp slice;
  SmallVector<Operation *> reshapes; // in order, each the only user of the last
  StridedView view;
  Value value() const {
    if (reshapes.empty())
      return slice->getResult(0);
    return reshapes.back()->getResult(0);
  }
};

/// The view of `slice` of a row-major tensor of `shape`, or failure when the
/// slice is not static.
FailureOr<StridedView> viewOfSlice(tensor::ExtractSliceOp slice,
                                   ArrayRef<int64_t> shape) {
  if (!slice.getOffsets().empty() || !slice.getSizes().empty() ||
      !slice.getStrides().empty())
    return failure();
  int64_t rank = shape.size();
  SmallVector<int64_t> rowMajor(rank, 1);
  for (int64_t d = rank - 1; d > 0; --d)
    rowMajor[d - 1] = rowMajor[d] * shape[d];
  StridedView view;
  llvm::SmallBitVector dropped = slice.getDroppedDims();
  for (int64_t d = 0; d < rank; ++d) {
    view.offset += slice.getStaticOffsets()[d] * rowMajor[d];
    if (dropped.test(d))
      continue;
    view.shape.push_back(slice.getStaticSizes()[d]);
    view.strides.push_back(slice.getStaticStrides()[d] * rowMajor[d]);
  }
  return view;
}

/// The view after `op` (an expand_shape or collapse_shape with a static
/// result) reshapes `view`; failure when the result is not a strided view of
/// the original (dimensions merged that are not laid out one after the
/// other).
FailureOr<StridedView> reshapeView(Operation *op, const StridedView &view) {
  auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!resultType || !resultType.hasStaticShape())
    return failure();
  StridedView result;
  result.offset = view.offset;
  if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op)) {
    result.shape.assign(resultType.getShape().begin(),
                        resultType.getShape().end());
    result.strides.assign(result.shape.size(), 0);
    for (auto [source, group] :
         llvm::enumerate(expand.getReassociationIndices())) {
      int64_t stride = view.strides[source];
      for (int64_t d : llvm::reverse(group)) {
        result.strides[d] = stride;
        stride *= result.shape[d];
      }
    }
    return result;
  }
  auto collapse = dyn_cast<tensor::CollapseShapeOp>(op);
  if (!collapse)
    return failure();
  for (ReassociationIndices group : collapse.getReassociationIndices()) {
    // From the group's innermost dimension out, each dimension must step
    // over exactly the extent of those inside it (unit dimensions have no
    // stride to respect).
    int64_t innerStride = -1, extent = 1;
    for (int64_t d : llvm::reverse(group)) {
      if (view.shape[d] == 1)
        continue;
      if (innerStride >= 0 && view.strides[d] != innerStride * extent)
        return failure();
      if (innerStride < 0)
        innerStride = view.strides[d];
      extent *= view.shape[d];
    }
    result.shape.push_back(extent);
    result.strides.push_back(innerStride < 0 ? 1 : innerStride);
  }
  return result;
}

/// The pieces `arg` is cut into, or failure (with the reason in `why`) when
/// it has a use that is not a static extract_slice.
FailureOr<SmallVector<Piece>>
findPieces(BlockArgument arg, const DenseMap<Operation *, unsigned> &order,
           std::string &why) {
  auto type = dyn_cast<RankedTensorType>(arg.getType());
  if (!type || !type.hasStaticShape()) {
    why = "it is not a statically shaped tensor";
    return failure();
  }
  if (arg.use_empty()) {
    why = "it is not used";
    return failure();
  }
  SmallVector<Piece> pieces;
  for (OpOperand &use : arg.getUses()) {
    auto slice = dyn_cast<tensor::ExtractSliceOp>(use.getOwner());
    if (!slice || slice.getSource() != arg) {
      why = ("'" + use.getOwner()->getName().getStringRef() + "' uses it whole")
                .str();
      return failure();
    }
    FailureOr<StridedView> view = viewOfSlice(slice, type.getShape());
    if (failed(view)) {
      why = "a slice of it has dynamic offsets, sizes or strides";
      return failure();
    }
    Piece piece{slice, {}, *view};
    // Fold the reshapes that are a slice's only use into the piece.
    for (Value value = slice.getResult(); value.hasOneUse();) {
      Operation *user = *value.getUsers().begin();
      if (!isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(user))
        break;
      FailureOr<StridedView> reshaped = reshapeView(user, piece.view);
      if (failed(reshaped))
        break;
      piece.reshapes.push_back(user);
      piece.view = *reshaped;
      value = user->getResult(0);
    }
    pieces.push_back(std::move(piece));
  }
  // In program order (a use list is not).
  llvm::stable_sort(pieces, [&](const Piece &a, const Piece &b) {
    return order.lookup(a.slice) < order.lookup(b.slice);
  });
  return pieces;
}

DenseI64ArrayAttr i64Array(Builder &b, ArrayRef<int64_t> values) {
  return b.getDenseI64ArrayAttr(values);
}

/// Per argument of `func`: its pieces, or none when it stays (with a remark
/// when it is sliced but also used otherwise, so stays whole on every rank).
SmallVector<SmallVector<Piece>> findAllPieces(func::FuncOp func) {
  SmallVector<SmallVector<Piece>> piecesOf(func.getNumArguments());
  DenseMap<Operation *, unsigned> order;
  func.walk([&](Operation *op) { order[op] = order.size(); });
  for (BlockArgument arg : func.getArguments()) {
    std::string why;
    FailureOr<SmallVector<Piece>> pieces = findPieces(arg, order, why);
    if (succeeded(pieces)) {
      piecesOf[arg.getArgNumber()] = std::move(*pieces);
      continue;
    }
    LLVM_DEBUG(llvm::dbgs() << "argument #" << arg.getArgNumber()
                            << " stays: " << why << "\n");
    // An argument that is sliced but also used otherwise is worth a word:
    // it stays whole on every rank.
    bool sliced = llvm::any_of(arg.getUsers(), [&](Operation *user) {
      auto slice = dyn_cast<tensor::ExtractSliceOp>(user);
      return slice && slice.getSource() == arg;
    });
    if (sliced)
      emitRemark(arg.getLoc()) << "argument #" << arg.getArgNumber()
                               << " is sliced but stays whole: " << why;
  }
  return piecesOf;
}

/// The unpacked signature: each kept argument, then in place of each packed
/// one its pieces, in use order; with the record of where each original
/// argument went (kOriginalArgumentsAttrName's entries).
struct UnpackedSignature {
  SmallVector<Type> types;
  SmallVector<Attribute> argAttrs;
  SmallVector<Location> locs;
  SmallVector<Attribute> originals;
};

UnpackedSignature
buildUnpackedSignature(func::FuncOp func,
                       ArrayRef<SmallVector<Piece>> piecesOf) {
  Builder b(func.getContext());
  Block &body = func.getBody().front();
  SmallVector<DictionaryAttr> oldArgAttrs;
  func.getAllArgAttrs(oldArgAttrs);
  UnpackedSignature sig;
  for (unsigned i = 0; i < piecesOf.size(); ++i) {
    BlockArgument arg = body.getArgument(i);
    DictionaryAttr attrs = i < oldArgAttrs.size() && oldArgAttrs[i]
                               ? oldArgAttrs[i]
                               : b.getDictionaryAttr({});
    if (piecesOf[i].empty()) {
      sig.originals.push_back(b.getDictionaryAttr(
          {b.getNamedAttr("arg", b.getI64IntegerAttr(sig.types.size()))}));
      sig.types.push_back(arg.getType());
      sig.argAttrs.push_back(attrs);
      sig.locs.push_back(arg.getLoc());
      continue;
    }
    SmallVector<Attribute> pieceAttrs;
    for (const Piece &piece : piecesOf[i]) {
      pieceAttrs.push_back(b.getDictionaryAttr(
          {b.getNamedAttr("arg", b.getI64IntegerAttr(sig.types.size())),
           b.getNamedAttr("offset", b.getI64IntegerAttr(piece.view.offset)),
           b.getNamedAttr("shape", i64Array(b, piece.view.shape)),
           b.getNamedAttr("strides", i64Array(b, piece.view.strides))}));
      sig.types.push_back(piece.value().getType());
      sig.argAttrs.push_back(attrs);
      sig.locs.push_back(piece.slice->getLoc());
    }
    sig.originals.push_back(b.getDictionaryAttr(
        {b.getNamedAttr("type", TypeAttr::get(arg.getType())),
         b.getNamedAttr("pieces", b.getArrayAttr(pieceAttrs))}));
  }
  return sig;
}

/// Rewrites `body` to the new signature: the new arguments are appended in
/// their final order and take the places of the kept arguments and of each
/// piece's value; the slices and reshapes go, then the old arguments.
void replaceArguments(Block &body, ArrayRef<SmallVector<Piece>> piecesOf,
                      const UnpackedSignature &sig) {
  unsigned numOriginal = piecesOf.size();
  unsigned k = 0;
  for (unsigned i = 0; i < numOriginal; ++i) {
    if (piecesOf[i].empty()) {
      BlockArgument fresh = body.addArgument(sig.types[k], sig.locs[k]);
      ++k;
      body.getArgument(i).replaceAllUsesWith(fresh);
      continue;
    }
    for (const Piece &piece : piecesOf[i]) {
      BlockArgument fresh = body.addArgument(sig.types[k], sig.locs[k]);
      ++k;
      piece.value().replaceAllUsesWith(fresh);
      for (Operation *reshape : llvm::reverse(piece.reshapes))
        reshape->erase();
      piece.slice->erase();
    }
  }
  body.eraseArguments(0, numOriginal);
}

/// Replaces each packed argument of `func` by its pieces (see the pass).
/// Forgets `referenced`'s scan if that adds or removes a symbol reference.
LogicalResult unpackFunction(func::FuncOp func, ReferencedSymbols &referenced) {
  SmallVector<SmallVector<Piece>> piecesOf = findAllPieces(func);
  if (llvm::all_of(piecesOf, [](const SmallVector<Piece> &pieces) {
        return pieces.empty();
      }))
    return success();
  // The references the rewrite can touch: those of the function's own
  // attributes (its type, argument attributes) and of the ops it erases.
  // Almost always none, and the same after; where not, a function may have
  // lost its last reference or gained one.
  SymbolRootCollector before, after;
  before.collect(*func);
  for (ArrayRef<Piece> pieces : piecesOf) {
    for (const Piece &piece : pieces) {
      before.collect(*piece.slice);
      for (Operation *reshape : piece.reshapes)
        before.collect(*reshape);
    }
  }
  UnpackedSignature sig = buildUnpackedSignature(func, piecesOf);
  replaceArguments(func.getBody().front(), piecesOf, sig);
  MLIRContext *ctx = func.getContext();
  func.setFunctionType(
      FunctionType::get(ctx, sig.types, func.getFunctionType().getResults()));
  func.setAllArgAttrs(sig.argAttrs);
  func->setAttr(kOriginalArgumentsAttrName,
                Builder(ctx).getArrayAttr(sig.originals));
  after.collect(*func);
  if (before.getNames() != after.getNames())
    referenced.invalidate();
  return success();
}

struct TPUnpackArgumentsPass
    : public tp::impl::TPUnpackArgumentsBase<TPUnpackArgumentsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // A partitioned module's arguments are already what the runner feeds.
    if (module->hasAttr(TPDialect::getSizeAttrName()))
      return markAllAnalysesPreserved();
    // Scanned once, at the first function that asks (asking SymbolTable
    // per function walked the module per function).
    ReferencedSymbols referenced(module);
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal() || !func.getBody().hasOneBlock())
        continue;
      if (func->hasAttr(kOriginalArgumentsAttrName))
        continue; // unpacked already
      // A referenced function keeps its signature: a caller passes the
      // packed argument (call sites are not rewritten).
      if (referenced.isReferenced(func))
        continue;
      if (failed(unpackFunction(func, referenced)))
        return signalPassFailure();
    }
  }
};

} // namespace
