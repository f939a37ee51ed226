//===- MapReductions.cpp - the tp-gpu-map-reductions pass -----------------===//
//
// Part of tp-mlir.
//
// Row reductions (softmax's max and sum, the norms' statistics) as one warp
// per row. Through convert-linalg-to-parallel-loops they would be one thread
// per row with the accumulator in global memory, read and written on every
// element: a 512-row LayerNorm then fills two blocks of a 132-SM GPU and
// reads its rows uncoalesced. Here each lane keeps a register accumulator
// over a strided slice of the row (vector loads where the row is
// contiguous), and a shuffle butterfly combines the 32 lanes.
//
//===----------------------------------------------------------------------===//

#include "tp/Target/GPU/Passes.h"

#include "HostLevel.h"
#include "WarpPerRow.h"

#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define DEBUG_TYPE "tp-gpu-map-reductions"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPGPUMAPREDUCTIONS
#include "tp/Target/GPU/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

/// A reduction along the last loop that one warp per row computes.
struct RowReduction {
  /// The op of the body that folds a new value into `out`.
  Operation *combine = nullptr;
  /// Its operand that is not `out`.
  Value value;
  /// Elements per load of the inputs read along the row (1: scalar loads).
  int64_t vectorWidth = 1;
};

/// Elements per vector load for `op`: the most that fit in 16 bytes for the
/// widest input read along the row, when every such input is contiguous
/// along it and the static row length is a multiple of it; 1 otherwise.
int64_t chooseVectorWidth(linalg::GenericOp op, unsigned reduced) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t length = ranges[reduced];
  if (ShapedType::isDynamic(length))
    return 1;
  int64_t widest = 0;
  for (OpOperand *input : op.getDpsInputOperands()) {
    std::optional<int64_t> bytes = bytesAlongRow(op, *input, reduced);
    if (!bytes)
      return 1;
    widest = std::max(widest, *bytes);
  }
  return vectorWidth(widest, length);
}

/// Matches a host-level generic that reduces its last loop into one output
/// indexed by the parallel loops in order, with a body yielding
/// `combine(f(inputs), out)`.
FailureOr<RowReduction> matchRowReduction(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1)
    return failure();
  unsigned loops = op.getNumLoops();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  if (loops < 2 || iterators.back() != utils::IteratorType::reduction)
    return failure();
  for (unsigned i = 0; i + 1 < loops; ++i)
    if (iterators[i] != utils::IteratorType::parallel)
      return failure();

  OpOperand *init = op.getDpsInitOperand(0);
  AffineMap initMap = op.getMatchingIndexingMap(init);
  if (initMap.getNumResults() != loops - 1)
    return failure();
  for (unsigned i = 0; i + 1 < loops; ++i)
    if (initMap.getResult(i) != getAffineDimExpr(i, op.getContext()))
      return failure();
  // An input that is the output buffer itself would see the partial
  // results the sequential loop writes; keep those ops sequential.
  for (OpOperand *input : op.getDpsInputOperands())
    if (!isa<MemRefType>(input->get().getType()) ||
        !op.getMatchingIndexingMap(input).isProjectedPermutation() ||
        input->get() == init->get())
      return failure();

  Block &body = op.getRegion().front();
  Operation *combine = combineOf(op);
  if (!combine)
    return failure();
  for (Operation &inner : body.without_terminator())
    if (!isMemoryEffectFree(&inner))
      return failure();

  RowReduction match;
  match.combine = combine;
  match.value = reducedValue(op, combine);
  match.vectorWidth = chooseVectorWidth(op, loops - 1);
  return match;
}

/// `combine` (cloned) applied to `acc` and `value`, `acc` in `out`'s place.
Value applyCombine(OpBuilder &b, const RowReduction &match, BlockArgument out,
                   Value acc, Value value) {
  IRMapping mapping;
  mapping.map(out, acc);
  mapping.map(match.value, value);
  return b.clone(*match.combine, mapping)->getResult(0);
}

/// Rewrites one matched row reduction as a warp-per-row launch, step by
/// step: the grid (none for zero rows), the launch and the row's indices,
/// the per-row loads, each lane's strided loop, and the butterfly whose
/// total lane 0 folds into the output.
class WarpPerRowRewriter {
public:
  WarpPerRowRewriter(linalg::GenericOp op, const RowReduction &match)
      : op(op), match(match), b(op), loc(op.getLoc()),
        reduced(op.getNumLoops() - 1),
        out(op.getMatchingBlockArgument(op.getDpsInitOperand(0))) {}

  /// Replaces `op` by the warp-per-row launch.
  void rewrite(int64_t warpsPerBlock);

private:
  Value sizeValue(OpBuilder &builder, OpFoldResult size) const;
  Value rowCount(OpBuilder &builder) const;
  bool openLaunch(int64_t warpsPerBlock);
  SmallVector<Value> indicesOf(OpOperand *operand, ArrayRef<Value> at);
  void loadPerRowInputs();
  scf::ForOp emitLaneLoop();
  DenseMap<OpOperand *, Value> loadGroup(Value k);
  Value foldElement(Value acc, Value k, int64_t j,
                    const DenseMap<OpOperand *, Value> &loaded);
  void storeRowTotal(Value total);

  linalg::GenericOp op;
  const RowReduction &match;
  OpBuilder b;
  Location loc;
  unsigned reduced;
  BlockArgument out;
  /// Loop sizes: constants where static, memref.dim otherwise.
  SmallVector<OpFoldResult> sizes;
  Value lane;
  /// The row's parallel indices, then a null slot for the reduced loop.
  SmallVector<Value> ivs;
  /// Inputs that do not move along the row, loaded once per row.
  DenseMap<OpOperand *, Value> perRow;
};

/// `size` as a value: a constant where static (so that the kernel divides by
/// constants, which LLVM strength-reduces), the dynamic value otherwise.
Value WarpPerRowRewriter::sizeValue(OpBuilder &builder,
                                    OpFoldResult size) const {
  if (std::optional<int64_t> c = getConstantIntValue(size))
    return arith::ConstantIndexOp::create(builder, loc, *c);
  return cast<Value>(size);
}

/// The number of rows, the product of the parallel loops' sizes (folded to
/// a constant where they are static).
Value WarpPerRowRewriter::rowCount(OpBuilder &builder) const {
  Value rows = arith::ConstantIndexOp::create(builder, loc, 1);
  for (unsigned i = 0; i < reduced; ++i)
    rows = builder.createOrFold<arith::MulIOp>(loc, rows,
                                               sizeValue(builder, sizes[i]));
  return rows;
}

/// Creates the launch (under `if (rows > 0)` where that is not known) and
/// the row's indices; returns false, having erased `op`, when there are
/// statically no rows (a grid of zero blocks is an error).
bool WarpPerRowRewriter::openLaunch(int64_t warpsPerBlock) {
  for (Range range :
       cast<linalg::LinalgOp>(op.getOperation()).createLoopRanges(b, loc))
    sizes.push_back(range.size);
  // createOrFold: static sizes give a constant grid.
  Value rows = rowCount(b);
  Value perBlock = arith::ConstantIndexOp::create(b, loc, warpsPerBlock);
  Value grid = b.createOrFold<arith::CeilDivUIOp>(loc, rows, perBlock);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value any =
      b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::ugt, rows, zero);
  std::optional<int64_t> staticAny = getConstantIntValue(any);
  if (staticAny && *staticAny == 0) {
    op.erase();
    return false;
  }
  if (!staticAny) {
    auto ifAny = scf::IfOp::create(b, loc, any, /*withElseRegion=*/false);
    b.setInsertionPoint(ifAny.thenBlock()->getTerminator());
  }
  // The row count again, inside the kernel (constants stay constants).
  WarpPerRowLaunch launch =
      createWarpPerRowLaunch(b, loc, grid, perBlock, warpsPerBlock,
                             [&](OpBuilder &k) { return rowCount(k); });
  lane = launch.lane;
  // The parallel indices of this row, row-major.
  SmallVector<Value> rowSizes;
  for (unsigned i = 0; i < reduced; ++i)
    rowSizes.push_back(sizeValue(b, sizes[i]));
  ivs = delinearizeRow(b, loc, launch.row, rowSizes);
  ivs.push_back(Value());
  return true;
}

/// The indices `operand` reads at, for loop indices `at`.
SmallVector<Value> WarpPerRowRewriter::indicesOf(OpOperand *operand,
                                                 ArrayRef<Value> at) {
  SmallVector<Value> indices;
  for (AffineExpr e : op.getMatchingIndexingMap(operand).getResults())
    indices.push_back(at[cast<AffineDimExpr>(e).getPosition()]);
  return indices;
}

/// Inputs that do not move along the row: one load per row.
void WarpPerRowRewriter::loadPerRowInputs() {
  for (OpOperand *input : op.getDpsInputOperands()) {
    if (op.getMatchingIndexingMap(input).isFunctionOfDim(reduced))
      continue;
    if (op.getMatchingBlockArgument(input).use_empty())
      continue;
    perRow[input] =
        memref::LoadOp::create(b, loc, input->get(), indicesOf(input, ivs));
  }
}

/// For the group of `width` elements at `k`: one load per input that moves
/// along the row (a vector load where the width is more than one).
DenseMap<OpOperand *, Value> WarpPerRowRewriter::loadGroup(Value k) {
  const int64_t width = match.vectorWidth;
  SmallVector<Value> at(ivs.begin(), ivs.end());
  at[reduced] = k;
  DenseMap<OpOperand *, Value> loaded;
  for (OpOperand *input : op.getDpsInputOperands()) {
    if (!op.getMatchingIndexingMap(input).isFunctionOfDim(reduced) ||
        op.getMatchingBlockArgument(input).use_empty())
      continue;
    SmallVector<Value> indices = indicesOf(input, at);
    if (width == 1) {
      loaded[input] = memref::LoadOp::create(b, loc, input->get(), indices);
      continue;
    }
    Type element = getElementTypeOrSelf(input->get().getType());
    auto vectorType = VectorType::get({width}, element);
    int64_t bytes = width * element.getIntOrFloatBitWidth() / 8;
    loaded[input] =
        vector::LoadOp::create(b, loc, vectorType, input->get(), indices,
                               /*nontemporal=*/false, llvm::Align(bytes));
  }
  return loaded;
}

/// The body applied to element `j` of the group at `k` (inputs from
/// `loaded` or the per-row loads), folded into `acc`.
Value WarpPerRowRewriter::foldElement(
    Value acc, Value k, int64_t j, const DenseMap<OpOperand *, Value> &loaded) {
  IRMapping mapping;
  // The element's position along the row, for linalg.index.
  auto position = [&]() -> Value {
    if (j == 0)
      return k;
    return arith::AddIOp::create(b, loc, k,
                                 arith::ConstantIndexOp::create(b, loc, j));
  };
  for (OpOperand *input : op.getDpsInputOperands()) {
    BlockArgument arg = op.getMatchingBlockArgument(input);
    if (arg.use_empty())
      continue;
    if (Value v = perRow.lookup(input)) {
      mapping.map(arg, v);
      continue;
    }
    Value v = loaded.lookup(input);
    if (match.vectorWidth > 1)
      v = vector::ExtractOp::create(b, loc, v, j);
    mapping.map(arg, v);
  }
  for (Operation &inner : op.getRegion().front().without_terminator()) {
    if (&inner == match.combine)
      continue;
    if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
      unsigned dim = index.getDim();
      mapping.map(index.getResult(), dim == reduced ? position() : ivs[dim]);
      continue;
    }
    b.clone(inner, mapping);
  }
  return applyCombine(b, match, out, acc, mapping.lookup(match.value));
}

/// Each lane's loop: elements lane*width + j, stepping by 32*width, with the
/// lane's partial value as its iteration argument.
scf::ForOp WarpPerRowRewriter::emitLaneLoop() {
  const int64_t width = match.vectorWidth;
  auto accType = cast<FloatType>(out.getType());
  Value identity =
      arith::ConstantOp::create(b, loc, identityOf(match.combine, accType));
  Value start = arith::MulIOp::create(
      b, loc, lane, arith::ConstantIndexOp::create(b, loc, width));
  Value step = arith::ConstantIndexOp::create(b, loc, kWarpSize * width);
  Value length = sizeValue(b, sizes[reduced]);
  auto loop =
      scf::ForOp::create(b, loc, start, length, step, ValueRange{identity});
  OpBuilder::InsertionGuard g(b);
  b.setInsertionPointToStart(loop.getBody());
  Value k = loop.getInductionVar();
  Value acc = loop.getRegionIterArgs().front();
  DenseMap<OpOperand *, Value> loaded = loadGroup(k);
  for (int64_t j = 0; j < width; ++j)
    acc = foldElement(acc, k, j, loaded);
  scf::YieldOp::create(b, loc, acc);
  return loop;
}

/// Lane 0 folds the row's `total` into the output element.
void WarpPerRowRewriter::storeRowTotal(Value total) {
  Value first =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane,
                            arith::ConstantIndexOp::create(b, loc, 0));
  auto store = scf::IfOp::create(b, loc, first, /*withElseRegion=*/false);
  b.setInsertionPoint(store.thenBlock()->getTerminator());
  SmallVector<Value> outIndices(ivs.begin(), ivs.begin() + reduced);
  Value init = op.getDpsInitOperand(0)->get();
  Value old = memref::LoadOp::create(b, loc, init, outIndices);
  // The body's order: the new value in `value`'s place, the old in `out`'s.
  Value result = applyCombine(b, match, out, old, total);
  memref::StoreOp::create(b, loc, result, init, outIndices);
}

void WarpPerRowRewriter::rewrite(int64_t warpsPerBlock) {
  if (!openLaunch(warpsPerBlock))
    return;
  loadPerRowInputs();
  scf::ForOp loop = emitLaneLoop();
  // The warp's 32 partial values: a butterfly of shuffles, after which every
  // lane holds the row's value.
  Value total =
      butterfly(b, loc, loop.getResults(),
                [&](MutableArrayRef<Value> totals, ArrayRef<Value> others) {
                  totals[0] = applyCombine(b, match, out, totals[0], others[0]);
                })
          .front();
  storeRowTotal(total);
  op.erase();
}

struct TPGPUMapReductionsPass
    : public tp::impl::TPGPUMapReductionsBase<TPGPUMapReductionsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (failed(checkBlockSize(getOperation(), blockSize, kWarpSize)))
      return signalPassFailure();
    for (auto op : getHostLevelOps<linalg::GenericOp>(getOperation())) {
      FailureOr<RowReduction> match = matchRowReduction(op);
      if (failed(match))
        continue;
      LLVM_DEBUG(llvm::dbgs() << "warp per row (" << match->vectorWidth
                              << " elements per load): " << op << "\n");
      WarpPerRowRewriter(op, *match).rewrite(blockSize / kWarpSize);
    }
  }
};

} // namespace
