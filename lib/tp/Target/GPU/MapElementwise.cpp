//===- MapElementwise.cpp - the tp-gpu-map-elementwise pass ---------------===//
//
// Part of tp-mlir.
//
// Elementwise kernels whose threads move 16 bytes at a time. Through
// convert-linalg-to-parallel-loops every thread would load and store one
// element: two bytes in flight per thread and operand for bf16, a quarter of
// what an H100 needs in flight to reach its memory bandwidth. Here each
// thread handles a group of consecutive elements along the innermost
// dimension with one vector load per operand and one vector store.
//
//===----------------------------------------------------------------------===//

#include "tp/Target/GPU/Passes.h"

#include "HostLevel.h"
#include "WarpPerRow.h"

#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define DEBUG_TYPE "tp-gpu-map-elementwise"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPGPUMAPELEMENTWISE
#include "tp/Target/GPU/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

/// Elements per thread for an all-parallel generic on buffers, or 1 when it
/// does not qualify: one output, contiguous (identity layout, identity
/// map); every input that moves along the innermost loop contiguous along it
/// (identity layout, that loop as its last index); a static innermost extent
/// that is a multiple of the width; a body that does not read the output.
int64_t chooseWidth(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumLoops() < 1 || op.getNumReductionLoops() != 0)
    return 1;
  unsigned inner = op.getNumLoops() - 1;
  OpOperand *init = op.getDpsInitOperand(0);
  auto outType = dyn_cast<MemRefType>(init->get().getType());
  if (!outType || !outType.getLayout().isIdentity() ||
      !op.getMatchingIndexingMap(init).isIdentity() ||
      !op.getMatchingBlockArgument(init).use_empty())
    return 1;
  int64_t widest = elementBytes(outType);
  if (widest == 0)
    return 1;
  for (OpOperand *input : op.getDpsInputOperands()) {
    auto type = dyn_cast<MemRefType>(input->get().getType());
    AffineMap map = op.getMatchingIndexingMap(input);
    if (!type || !map.isProjectedPermutation())
      return 1;
    // The output read as an input: only element by element in place.
    if (input->get() == init->get() && !map.isIdentity())
      return 1;
    if (!map.isFunctionOfDim(inner))
      continue;
    if (!type.getLayout().isIdentity() ||
        map.getResults().back() != getAffineDimExpr(inner, op.getContext()))
      return 1;
    int64_t bytes = elementBytes(type);
    if (bytes == 0)
      return 1;
    widest = std::max(widest, bytes);
  }
  for (Operation &inner : op.getRegion().front().without_terminator())
    if (!isMemoryEffectFree(&inner))
      return 1;
  int64_t extent = op.getStaticLoopRanges()[inner];
  if (ShapedType::isDynamic(extent))
    return 1;
  return vectorWidth(widest, extent);
}

/// Rewrites an all-parallel generic as a launch of one thread per group of
/// `width` elements, step by step: the grid (none for no groups), the
/// launch with its bounds guard, the group's first element, the loads, the
/// body per element and one vector store.
class VectorizedRewriter {
public:
  VectorizedRewriter(linalg::GenericOp op, int64_t width)
      : op(op), width(width), b(op), loc(op.getLoc()),
        inner(op.getNumLoops() - 1) {}

  /// Replaces `op` by a launch of one thread per group of `width` elements.
  void rewrite(int64_t blockSize);

private:
  Value sizeValue(OpFoldResult size);
  Value countGroups();
  std::optional<Value> openLaunch(int64_t blockSize);
  void locateGroup(Value gid);
  SmallVector<Value> indicesOf(OpOperand *operand);
  DenseMap<OpOperand *, Value> loadInputs();
  Value computeElement(int64_t j, const DenseMap<OpOperand *, Value> &loaded);
  void storeGroup(ArrayRef<Value> results);

  linalg::GenericOp op;
  int64_t width;
  OpBuilder b;
  Location loc;
  unsigned inner;
  /// Loop sizes: constants where static, memref.dim otherwise.
  SmallVector<OpFoldResult> sizes;
  int64_t groupsPerRow = 0;
  /// The loop indices of the group's first element.
  SmallVector<Value> ivs;
};

/// `size` as a value: a constant where static.
Value VectorizedRewriter::sizeValue(OpFoldResult size) {
  if (std::optional<int64_t> c = getConstantIntValue(size))
    return arith::ConstantIndexOp::create(b, loc, *c);
  return cast<Value>(size);
}

/// Groups in all: the outer extents times the groups per row.
Value VectorizedRewriter::countGroups() {
  Value groups = arith::ConstantIndexOp::create(b, loc, groupsPerRow);
  for (unsigned i = 0; i < inner; ++i)
    groups = b.createOrFold<arith::MulIOp>(loc, groups, sizeValue(sizes[i]));
  return groups;
}

/// Creates the launch (under `if (groups > 0)` where that is not known) and
/// leaves `b` under its `if (gid < groups)` guard; returns the thread's
/// group, or std::nullopt, having erased `op`, when there are statically no
/// groups.
std::optional<Value> VectorizedRewriter::openLaunch(int64_t blockSize) {
  for (Range range :
       cast<linalg::LinalgOp>(op.getOperation()).createLoopRanges(b, loc))
    sizes.push_back(range.size);
  groupsPerRow = *getConstantIntValue(sizes[inner]) / width;
  Value groups = countGroups();
  Value threads = arith::ConstantIndexOp::create(b, loc, blockSize);
  Value grid = b.createOrFold<arith::CeilDivUIOp>(loc, groups, threads);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value any = b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::ugt,
                                            groups, zero);
  std::optional<int64_t> staticAny = getConstantIntValue(any);
  if (staticAny && *staticAny == 0) {
    op.erase();
    return std::nullopt;
  }
  if (!staticAny) {
    auto ifAny = scf::IfOp::create(b, loc, any, /*withElseRegion=*/false);
    b.setInsertionPoint(ifAny.thenBlock()->getTerminator());
  }
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  // A block of `groups` threads when that is fewer than blockSize.
  Value blockThreads = threads;
  if (std::optional<int64_t> g = getConstantIntValue(groups))
    blockThreads = arith::ConstantIndexOp::create(
        b, loc, std::min<int64_t>(*g, blockSize));
  auto launch =
      gpu::LaunchOp::create(b, loc, grid, one, one, blockThreads, one, one);

  b.setInsertionPointToStart(&launch.getBody().front());
  Value perBlock = launch.getBlockSizeX();
  Value gid = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, launch.getBlockIds().x, perBlock),
      launch.getThreadIds().x);
  Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, gid,
                                       countGroups());
  auto guard = scf::IfOp::create(b, loc, inside, /*withElseRegion=*/false);
  gpu::TerminatorOp::create(b, loc);
  b.setInsertionPoint(guard.thenBlock()->getTerminator());
  return gid;
}

/// The first element of group `gid`, row-major, into `ivs`; divisions by
/// constants where the extents are static.
void VectorizedRewriter::locateGroup(Value gid) {
  ivs.resize(op.getNumLoops());
  Value perRow = arith::ConstantIndexOp::create(b, loc, groupsPerRow);
  ivs[inner] =
      arith::MulIOp::create(b, loc, arith::RemUIOp::create(b, loc, gid, perRow),
                            arith::ConstantIndexOp::create(b, loc, width));
  Value rest = arith::DivUIOp::create(b, loc, gid, perRow);
  for (int i = static_cast<int>(inner) - 1; i >= 0; --i) {
    Value size = sizeValue(sizes[i]);
    ivs[i] = i == 0 ? rest : arith::RemUIOp::create(b, loc, rest, size);
    if (i > 0)
      rest = arith::DivUIOp::create(b, loc, rest, size);
  }
}

/// The indices `operand` reads or writes at the group's first element.
SmallVector<Value> VectorizedRewriter::indicesOf(OpOperand *operand) {
  SmallVector<Value> indices;
  for (AffineExpr e : op.getMatchingIndexingMap(operand).getResults())
    indices.push_back(ivs[cast<AffineDimExpr>(e).getPosition()]);
  return indices;
}

/// One vector load per input that moves along the row, one scalar load per
/// input that does not.
DenseMap<OpOperand *, Value> VectorizedRewriter::loadInputs() {
  DenseMap<OpOperand *, Value> loaded;
  for (OpOperand *input : op.getDpsInputOperands()) {
    if (op.getMatchingBlockArgument(input).use_empty())
      continue;
    if (!op.getMatchingIndexingMap(input).isFunctionOfDim(inner)) {
      loaded[input] =
          memref::LoadOp::create(b, loc, input->get(), indicesOf(input));
      continue;
    }
    Type element = getElementTypeOrSelf(input->get().getType());
    loaded[input] = vector::LoadOp::create(
        b, loc, VectorType::get({width}, element), input->get(),
        indicesOf(input), /*nontemporal=*/false,
        llvm::Align(width * elementBytes(element)));
  }
  return loaded;
}

/// The body's yielded value for element `j` of the group.
Value VectorizedRewriter::computeElement(
    int64_t j, const DenseMap<OpOperand *, Value> &loaded) {
  Block &body = op.getRegion().front();
  IRMapping mapping;
  for (OpOperand *input : op.getDpsInputOperands()) {
    BlockArgument arg = op.getMatchingBlockArgument(input);
    if (arg.use_empty())
      continue;
    Value v = loaded.lookup(input);
    if (isa<VectorType>(v.getType()))
      v = vector::ExtractOp::create(b, loc, v, j);
    mapping.map(arg, v);
  }
  for (Operation &inner_ : body.without_terminator()) {
    if (auto index = dyn_cast<linalg::IndexOp>(inner_)) {
      unsigned dim = index.getDim();
      Value position = ivs[dim];
      if (dim == inner && j > 0)
        position = arith::AddIOp::create(
            b, loc, position, arith::ConstantIndexOp::create(b, loc, j));
      mapping.map(index.getResult(), position);
      continue;
    }
    b.clone(inner_, mapping);
  }
  return mapping.lookupOrDefault(
      cast<linalg::YieldOp>(body.getTerminator()).getOperand(0));
}

/// The group's `results` as one vector store into the output.
void VectorizedRewriter::storeGroup(ArrayRef<Value> results) {
  OpOperand *init = op.getDpsInitOperand(0);
  auto outType = cast<MemRefType>(init->get().getType());
  Value vector = vector::FromElementsOp::create(
      b, loc, VectorType::get({width}, outType.getElementType()), results);
  vector::StoreOp::create(b, loc, vector, init->get(), indicesOf(init),
                          /*nontemporal=*/false,
                          llvm::Align(width * elementBytes(outType)));
}

void VectorizedRewriter::rewrite(int64_t blockSize) {
  std::optional<Value> gid = openLaunch(blockSize);
  if (!gid)
    return;
  locateGroup(*gid);
  DenseMap<OpOperand *, Value> loaded = loadInputs();
  SmallVector<Value> results;
  for (int64_t j = 0; j < width; ++j)
    results.push_back(computeElement(j, loaded));
  storeGroup(results);
  op.erase();
}

struct TPGPUMapElementwisePass
    : public tp::impl::TPGPUMapElementwiseBase<TPGPUMapElementwisePass> {
  using Base::Base;

  void runOnOperation() override {
    if (failed(checkBlockSize(getOperation(), blockSize)))
      return signalPassFailure();
    for (auto op : getHostLevelOps<linalg::GenericOp>(getOperation())) {
      int64_t width = chooseWidth(op);
      if (width < 2)
        continue;
      LLVM_DEBUG(llvm::dbgs()
                 << width << " elements per thread: " << op << "\n");
      VectorizedRewriter(op, width).rewrite(blockSize);
    }
  }
};

} // namespace
