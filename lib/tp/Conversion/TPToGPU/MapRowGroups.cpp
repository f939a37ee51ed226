//===- MapRowGroups.cpp - the tp-gpu-map-row-groups pass ------------------===//
//
// Part of tp-mlir.
//
// Softmax and the norms as one kernel each. After bufferization a softmax is
// a chain of host-level ops over the same rows: a max reduction, the
// exp(x - max) kernel, a sum reduction, the division, plus fills, copies and
// truncations of the per-row statistics; a LayerNorm is a sum, a scaled
// mean, a sum of squared deviations and the normalisation. Launched one by
// one, every op re-reads the rows from memory and the statistics make a
// round trip through global memory between kernels.
//
// Here a run of consecutive such ops over one row space becomes one launch
// with one warp per row. Per-row values live in registers (every lane holds
// them after a shuffle butterfly), ops along the row are fused into lane
// loops in which each lane always handles the same elements (so a value it
// wrote is read back by the same thread, from L1/L2, without a barrier), and
// a new loop over the row starts only where an op needs a statistic that
// the current loop is still reducing. A sum of squared deviations from such
// a statistic, sum((a - m)^2), is reduced in the same loop as the statistic
// as sum(a) and sum(a^2) in f32 and finished as
// sum(a^2) - 2 m sum(a) + n m^2: a LayerNorm reads its row twice (the
// statistics, then the normalised write), a softmax three times (max; exp
// and sum; division), in one kernel.
//
//===----------------------------------------------------------------------===//

#include "tp/Conversion/Passes.h"

#include "HostLevel.h"

#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"

#define DEBUG_TYPE "tp-gpu-map-row-groups"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPGPUMAPROWGROUPS
#include "tp/Conversion/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

constexpr int64_t kWarpSize = 32;
/// The widest access one lane issues (ld.global.v4.b32 / st.global.v4.b32).
constexpr int64_t kVectorBytes = 16;

//===----------------------------------------------------------------------===//
// Members of a group
//===----------------------------------------------------------------------===//

enum class Kind {
  /// linalg.fill of a per-row buffer.
  Fill,
  /// gpu.memcpy between per-row buffers.
  Copy,
  /// An all-parallel generic over the rows only (per-row arithmetic).
  RowScalar,
  /// An all-parallel generic over the rows and along them.
  RowFull,
  /// A generic reducing along the row into a per-row buffer.
  Reduce,
};

/// How an operand of a member is indexed, relative to the row space.
enum class Access {
  /// [row indices]: one element per row.
  Scalar,
  /// [row indices, k]: the element at k of the row.
  Full,
  /// Anything else (read-only): loaded with its own indices.
  Other,
};

struct Member {
  Operation *op;
  Kind kind;
};

/// The row space: static row dimensions and a static row length (0 while
/// only per-row members are known).
struct Space {
  SmallVector<int64_t> rows;
  int64_t length = 0;
};

bool isStaticIdentity(Value buffer, ArrayRef<int64_t> shape) {
  auto type = dyn_cast<MemRefType>(buffer.getType());
  return type && type.hasStaticShape() && type.getLayout().isIdentity() &&
         type.getShape() == shape;
}

/// `combine`'s identity in `type`, or a null attribute when it is not a
/// combiner this pass knows.
TypedAttr identityOf(Operation *combine, FloatType type) {
  const llvm::fltSemantics &sem = type.getFloatSemantics();
  auto value =
      llvm::TypeSwitch<Operation *, std::optional<llvm::APFloat>>(combine)
          .Case([&](arith::AddFOp) { return llvm::APFloat::getZero(sem); })
          .Case([&](arith::MulFOp) { return llvm::APFloat::getOne(sem); })
          .Case<arith::MaximumFOp, arith::MaxNumFOp>([&](Operation *) {
            return llvm::APFloat::getInf(sem, /*Negative=*/true);
          })
          .Case<arith::MinimumFOp, arith::MinNumFOp>([&](Operation *) {
            return llvm::APFloat::getInf(sem, /*Negative=*/false);
          })
          .Default([](Operation *) { return std::nullopt; });
  if (!value)
    return {};
  return FloatAttr::get(type, *value);
}

/// The combining op of a reduction's body (`combine(value, out)`), or null.
Operation *combineOf(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  BlockArgument out = op.getMatchingBlockArgument(op.getDpsInitOperand(0));
  auto accType = dyn_cast<FloatType>(out.getType());
  // gpu.shuffle moves 32- and 64-bit values.
  if (!accType || (accType.getWidth() != 32 && accType.getWidth() != 64))
    return nullptr;
  Operation *combine =
      cast<linalg::YieldOp>(body.getTerminator()).getOperand(0).getDefiningOp();
  if (!combine || combine->getBlock() != &body ||
      combine->getNumOperands() != 2 || !out.hasOneUse() ||
      out.getUses().begin()->getOwner() != combine ||
      !identityOf(combine, accType))
    return nullptr;
  Value value = combine->getOperand(0) == out ? combine->getOperand(1)
                                              : combine->getOperand(0);
  if (value == out || value.getType() != accType)
    return nullptr;
  return combine;
}

/// The combined value of a reduction (the combine's operand that is not the
/// output's block argument).
Value reducedValue(linalg::GenericOp op, Operation *combine) {
  BlockArgument out = op.getMatchingBlockArgument(op.getDpsInitOperand(0));
  return combine->getOperand(0) == out ? combine->getOperand(1)
                                       : combine->getOperand(0);
}

/// Classifies `op` as a member over `space` (filling in the space's unknown
/// parts), or returns std::nullopt.
std::optional<Kind> classify(Operation *op, Space &space) {
  if (auto fill = dyn_cast<linalg::FillOp>(op)) {
    if (!fill.hasPureBufferSemantics())
      return std::nullopt;
    Value out = fill.getDpsInitOperand(0)->get();
    auto type = dyn_cast<MemRefType>(out.getType());
    // The filled value becomes the register as it is: no conversion.
    if (!type || type.getRank() == 0 ||
        fill.getDpsInputOperand(0)->get().getType() != type.getElementType())
      return std::nullopt;
    if (space.rows.empty() && type.hasStaticShape())
      space.rows.assign(type.getShape().begin(), type.getShape().end());
    if (!isStaticIdentity(out, space.rows))
      return std::nullopt;
    return Kind::Fill;
  }
  if (auto copy = dyn_cast<gpu::MemcpyOp>(op)) {
    if (!copy.getAsyncDependencies().empty() || copy.getAsyncToken())
      return std::nullopt;
    auto type = dyn_cast<MemRefType>(copy.getDst().getType());
    if (!type || type.getRank() == 0)
      return std::nullopt;
    if (space.rows.empty() && type.hasStaticShape())
      space.rows.assign(type.getShape().begin(), type.getShape().end());
    if (!isStaticIdentity(copy.getDst(), space.rows) ||
        !isStaticIdentity(copy.getSrc(), space.rows))
      return std::nullopt;
    return Kind::Copy;
  }
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || !generic.hasPureBufferSemantics() ||
      generic.getNumDpsInits() != 1)
    return std::nullopt;
  for (Operation &inner : generic.getRegion().front().without_terminator())
    if (!isMemoryEffectFree(&inner))
      return std::nullopt;
  for (OpOperand &operand : generic->getOpOperands())
    if (!isa<MemRefType>(operand.get().getType()) ||
        !generic.getMatchingIndexingMap(&operand).isProjectedPermutation())
      return std::nullopt;
  SmallVector<int64_t> ranges = generic.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic))
    return std::nullopt;
  unsigned loops = generic.getNumLoops();
  OpOperand *init = generic.getDpsInitOperand(0);
  AffineMap initMap = generic.getMatchingIndexingMap(init);
  bool allParallel = generic.getNumReductionLoops() == 0;
  auto rowsAre = [&](unsigned n) {
    ArrayRef<int64_t> rows(ranges.begin(), ranges.begin() + n);
    if (space.rows.empty()) {
      space.rows.assign(rows.begin(), rows.end());
      return true;
    }
    return ArrayRef<int64_t>(space.rows) == rows;
  };
  auto lengthIs = [&](int64_t length) {
    if (space.length == 0)
      space.length = length;
    return space.length == length;
  };
  // A per-row generic: as many loops as the row space has dimensions.
  if (allParallel && initMap.isIdentity() &&
      (space.rows.empty() ? false : loops == space.rows.size())) {
    if (!rowsAre(loops))
      return std::nullopt;
    return Kind::RowScalar;
  }
  if (loops < 2)
    return std::nullopt;
  Space tentative = space;
  if (!space.rows.empty() && loops != space.rows.size() + 1)
    return std::nullopt;
  if (!rowsAre(loops - 1) || !lengthIs(ranges.back())) {
    space = tentative;
    return std::nullopt;
  }
  if (allParallel && initMap.isIdentity())
    return Kind::RowFull;
  SmallVector<utils::IteratorType> iterators = generic.getIteratorTypesArray();
  if (iterators.back() != utils::IteratorType::reduction ||
      generic.getNumReductionLoops() != 1 ||
      initMap.getNumResults() != loops - 1 || !combineOf(generic)) {
    space = tentative;
    return std::nullopt;
  }
  for (unsigned i = 0; i + 1 < loops; ++i)
    if (initMap.getResult(i) != getAffineDimExpr(i, op->getContext())) {
      space = tentative;
      return std::nullopt;
    }
  // The output read as an input would see partial results.
  for (OpOperand *input : generic.getDpsInputOperands())
    if (input->get() == init->get()) {
      space = tentative;
      return std::nullopt;
    }
  return Kind::Reduce;
}

/// How `operand` of the generic `op` is indexed relative to `space`.
Access accessOf(linalg::GenericOp op, OpOperand *operand, const Space &space) {
  AffineMap map = op.getMatchingIndexingMap(operand);
  unsigned rank = space.rows.size();
  auto isDims = [&](unsigned n) {
    if (map.getNumResults() != n)
      return false;
    for (unsigned i = 0; i < n; ++i)
      if (map.getResult(i) != getAffineDimExpr(i, op.getContext()))
        return false;
    return true;
  };
  if (isDims(rank) && isStaticIdentity(operand->get(), space.rows))
    return Access::Scalar;
  SmallVector<int64_t> full(space.rows);
  full.push_back(space.length);
  if (op.getNumLoops() == rank + 1 && isDims(rank + 1) &&
      isStaticIdentity(operand->get(), full))
    return Access::Full;
  return Access::Other;
}

/// Every buffer operand of a member with its access and whether it is
/// written.
struct Operand {
  Value buffer;
  Access access;
  bool written;
};

SmallVector<Operand> operandsOf(const Member &m, const Space &space) {
  SmallVector<Operand> result;
  if (auto fill = dyn_cast<linalg::FillOp>(m.op)) {
    result.push_back({fill.getDpsInitOperand(0)->get(), Access::Scalar, true});
    return result;
  }
  if (auto copy = dyn_cast<gpu::MemcpyOp>(m.op)) {
    result.push_back({copy.getSrc(), Access::Scalar, false});
    result.push_back({copy.getDst(), Access::Scalar, true});
    return result;
  }
  auto op = cast<linalg::GenericOp>(m.op);
  for (OpOperand *input : op.getDpsInputOperands())
    result.push_back({input->get(), accessOf(op, input, space), false});
  OpOperand *init = op.getDpsInitOperand(0);
  result.push_back({init->get(), accessOf(op, init, space), true});
  return result;
}

/// The buffer a view was taken of (through view-like ops), or the value.
Value rootOf(Value buffer) {
  while (Operation *def = buffer.getDefiningOp()) {
    if (auto view = dyn_cast<ViewLikeOpInterface>(def)) {
      buffer = view.getViewSource();
      continue;
    }
    if (isa<memref::CollapseShapeOp, memref::ExpandShapeOp, memref::CastOp,
            memref::ReinterpretCastOp>(def)) {
      buffer = def->getOperand(0);
      continue;
    }
    break;
  }
  return buffer;
}

/// Whether the members can share one kernel: every buffer the group writes
/// is accessed through one value, always as the same kind (per row or along
/// the row, never with other indices), and every per-row output's members
/// index it canonically; written outputs of reductions and per-row ops are
/// per-row buffers, those along the row full rows.
bool isValidGroup(ArrayRef<Member> members, const Space &space) {
  if (space.length == 0)
    return false;
  DenseMap<Value, Value> writtenRoots;
  for (const Member &m : members)
    for (const Operand &o : operandsOf(m, space)) {
      if (!o.written)
        continue;
      Access want = m.kind == Kind::RowFull ? Access::Full : Access::Scalar;
      if (o.access != want)
        return false;
      auto [it, inserted] =
          writtenRoots.try_emplace(rootOf(o.buffer), o.buffer);
      if (!inserted && it->second != o.buffer)
        return false;
    }
  DenseMap<Value, Access> kinds;
  for (const Member &m : members)
    for (const Operand &o : operandsOf(m, space)) {
      auto it = writtenRoots.find(rootOf(o.buffer));
      if (it == writtenRoots.end())
        continue;
      if (it->second != o.buffer || o.access == Access::Other)
        return false;
      auto [k, inserted] = kinds.try_emplace(o.buffer, o.access);
      if (!inserted && k->second != o.access)
        return false;
    }
  return true;
}

/// Elements per lane access: 16 bytes over the widest element read or
/// written along the row, when every such access is contiguous (identity
/// layout, the row loop as its last index) and divides the row; 1 otherwise.
int64_t chooseWidth(ArrayRef<Member> members, const Space &space) {
  int64_t widest = 0;
  unsigned rank = space.rows.size();
  for (const Member &m : members) {
    auto op = dyn_cast<linalg::GenericOp>(m.op);
    if (!op || m.kind == Kind::RowScalar)
      continue;
    for (OpOperand &operand : op->getOpOperands()) {
      AffineMap map = op.getMatchingIndexingMap(&operand);
      if (!map.isFunctionOfDim(rank))
        continue;
      auto type = cast<MemRefType>(operand.get().getType());
      if (!type.getLayout().isIdentity() ||
          map.getResults().back() != getAffineDimExpr(rank, op.getContext()))
        return 1;
      unsigned bits = type.getElementTypeBitWidth();
      if (bits % 8 != 0)
        return 1;
      widest = std::max<int64_t>(widest, bits / 8);
    }
  }
  if (widest == 0)
    return 1;
  int64_t width = kVectorBytes / widest;
  return width > 1 && space.length % width == 0 ? width : 1;
}

//===----------------------------------------------------------------------===//
// The kernel
//===----------------------------------------------------------------------===//

/// A reduction of the open lane loop.
struct LoopReduction {
  linalg::GenericOp op;
  Operation *combine;
  /// Iteration argument(s) of the loop: one, or two (sum(a), sum(a^2)) for a
  /// sum of squared deviations from a statistic of the same loop.
  unsigned acc;
  bool squares = false;
  /// For `squares`: a, and the deviation's other side m, in the body, and
  /// the body ops each is computed from.
  Value a, m;
  DenseSet<Operation *> aChain, mChain;
};

/// A post-loop step, in program order: a per-row member, or a reduction's
/// final value.
struct PostStep {
  const Member *member = nullptr;
  int reduction = -1;
};

class RowGroupEmitter {
public:
  RowGroupEmitter(ArrayRef<Member> members, const Space &space, int64_t width,
                  int64_t warpsPerBlock)
      : members(members), space(space), width(width),
        warpsPerBlock(warpsPerBlock) {}

  /// Emits the launch before the last member and erases the members.
  void emit();

private:
  // The launch's body, row indices.
  void emitScalar(OpBuilder &b, const Member &m);
  Value scalarOf(OpBuilder &b, Value buffer);
  bool readsPending(const Member &m) const;
  bool tryQueueSquares(const Member &m);
  void queue(const Member &m);
  void closeLoop(OpBuilder &b);
  void emitElements(OpBuilder &b, const Member &m, Value k,
                    DenseMap<Value, SmallVector<Value>> &forwarded,
                    ValueRange accs, SmallVectorImpl<Value> &newAccs);

  ArrayRef<Member> members;
  const Space &space;
  int64_t width;
  int64_t warpsPerBlock;
  Location loc = UnknownLoc();

  SmallVector<Value> ivs;
  Value lane;
  /// The current value of each per-row buffer the group has written so far.
  DenseMap<Value, Value> registers;
  /// Per-row buffers to store at the end (lane 0).
  llvm::SetVector<Value> dirty;
  /// Per-row buffers whose value the open loop has not finished.
  DenseSet<Value> pending;
  /// Members of the open loop (RowFull / Reduce), in order.
  SmallVector<const Member *> loopMembers;
  SmallVector<LoopReduction> reductions;
  DenseMap<Operation *, int> reductionOf;
  SmallVector<Value> accInits;
  SmallVector<Operation *> accCombines;
  SmallVector<PostStep> post;
};

/// The value of per-row `buffer` in this row: its register, or a load of
/// what the group found in memory.
Value RowGroupEmitter::scalarOf(OpBuilder &b, Value buffer) {
  if (Value v = registers.lookup(buffer))
    return v;
  return memref::LoadOp::create(b, loc, buffer, ivs);
}

bool RowGroupEmitter::readsPending(const Member &m) const {
  for (const Operand &o : operandsOf(m, space))
    if (!o.written && pending.contains(o.buffer))
      return true;
  // A per-row op overwriting a buffer the loop still reduces into, or read
  // back along the row: keep program order with a new loop.
  return false;
}

/// A Fill, Copy or RowScalar member, in registers.
void RowGroupEmitter::emitScalar(OpBuilder &b, const Member &m) {
  if (auto fill = dyn_cast<linalg::FillOp>(m.op)) {
    Value out = fill.getDpsInitOperand(0)->get();
    registers[out] = fill.getDpsInputOperand(0)->get();
    dirty.insert(out);
    return;
  }
  if (auto copy = dyn_cast<gpu::MemcpyOp>(m.op)) {
    registers[copy.getDst()] = scalarOf(b, copy.getSrc());
    dirty.insert(copy.getDst());
    return;
  }
  auto op = cast<linalg::GenericOp>(m.op);
  IRMapping mapping;
  for (OpOperand &operand : op->getOpOperands()) {
    BlockArgument arg = op.getMatchingBlockArgument(&operand);
    if (arg.use_empty())
      continue;
    if (accessOf(op, &operand, space) == Access::Scalar) {
      mapping.map(arg, scalarOf(b, operand.get()));
      continue;
    }
    SmallVector<Value> indices;
    for (AffineExpr e : op.getMatchingIndexingMap(&operand).getResults())
      indices.push_back(ivs[cast<AffineDimExpr>(e).getPosition()]);
    mapping.map(arg, memref::LoadOp::create(b, loc, operand.get(), indices));
  }
  Block &body = op.getRegion().front();
  for (Operation &inner : body.without_terminator()) {
    if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
      mapping.map(index.getResult(), ivs[index.getDim()]);
      continue;
    }
    b.clone(inner, mapping);
  }
  Value out = op.getDpsInitOperand(0)->get();
  registers[out] = mapping.lookupOrDefault(body.getTerminator()->getOperand(0));
  dirty.insert(out);
}

/// The ops of `body` that `value` is computed from (its backward slice in
/// the body), or failure when it reads a block argument not in `allowed`.
FailureOr<DenseSet<Operation *>>
sliceOf(Value value, Block &body, function_ref<bool(BlockArgument)> allowed) {
  DenseSet<Operation *> slice;
  SmallVector<Value> worklist{value};
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      if (arg.getOwner() == &body && !allowed(arg))
        return failure();
      continue;
    }
    Operation *def = v.getDefiningOp();
    if (def->getBlock() != &body || !slice.insert(def).second)
      continue;
    llvm::append_range(worklist, def->getOperands());
  }
  return slice;
}

/// For a sum reduction reading statistics of the open loop: whether its
/// value is (a - m)^2 with `a` computed without them and `m` from per-row
/// values only; if so, queues it as sum(a) and sum(a^2).
bool RowGroupEmitter::tryQueueSquares(const Member &m) {
  auto op = cast<linalg::GenericOp>(m.op);
  Operation *combine = combineOf(op);
  if (!isa<arith::AddFOp>(combine))
    return false;
  auto square = reducedValue(op, combine).getDefiningOp<arith::MulFOp>();
  if (!square || square.getLhs() != square.getRhs())
    return false;
  auto diff = square.getLhs().getDefiningOp<arith::SubFOp>();
  if (!diff || diff->getBlock() != &op.getRegion().front())
    return false;
  Block &body = op.getRegion().front();
  auto argAccess = [&](BlockArgument arg) {
    return accessOf(op, &op->getOpOperand(arg.getArgNumber()), space);
  };
  auto notPending = [&](BlockArgument arg) {
    return !pending.contains(op->getOpOperand(arg.getArgNumber()).get()) &&
           arg.getArgNumber() < op.getNumDpsInputs();
  };
  auto perRow = [&](BlockArgument arg) {
    return argAccess(arg) == Access::Scalar &&
           arg.getArgNumber() < op.getNumDpsInputs();
  };
  for (auto [a, mean] : {std::pair(diff.getLhs(), diff.getRhs()),
                         std::pair(diff.getRhs(), diff.getLhs())}) {
    FailureOr<DenseSet<Operation *>> aChain = sliceOf(a, body, notPending);
    FailureOr<DenseSet<Operation *>> mChain = sliceOf(mean, body, perRow);
    if (failed(aChain) || failed(mChain) ||
        llvm::any_of(*mChain,
                     [](Operation *o) { return isa<linalg::IndexOp>(o); }))
      continue;
    if (cast<FloatType>(a.getType()) != reducedValue(op, combine).getType())
      return false;
    LoopReduction r;
    r.op = op;
    r.combine = combine;
    r.acc = accInits.size();
    r.squares = true;
    r.a = a;
    r.m = mean;
    r.aChain = std::move(*aChain);
    r.mChain = std::move(*mChain);
    reductionOf[op] = reductions.size();
    reductions.push_back(std::move(r));
    post.push_back({nullptr, static_cast<int>(reductions.size()) - 1});
    accInits.push_back({});
    accInits.push_back({});
    accCombines.push_back(combine);
    accCombines.push_back(combine);
    loopMembers.push_back(&m);
    pending.insert(op.getDpsInitOperand(0)->get());
    return true;
  }
  return false;
}

void RowGroupEmitter::queue(const Member &m) {
  loopMembers.push_back(&m);
  if (m.kind != Kind::Reduce)
    return;
  auto op = cast<linalg::GenericOp>(m.op);
  LoopReduction r;
  r.op = op;
  r.combine = combineOf(op);
  r.acc = accInits.size();
  reductionOf[op] = reductions.size();
  reductions.push_back(r);
  post.push_back({nullptr, static_cast<int>(reductions.size()) - 1});
  accInits.push_back({});
  accCombines.push_back(r.combine);
  pending.insert(op.getDpsInitOperand(0)->get());
}

/// Loads (or forwards) the operands of member `m` for the `width` elements
/// from `k`, computes its body per element and stores (RowFull) or
/// accumulates (Reduce).
void RowGroupEmitter::emitElements(
    OpBuilder &b, const Member &m, Value k,
    DenseMap<Value, SmallVector<Value>> &forwarded, ValueRange accs,
    SmallVectorImpl<Value> &newAccs) {
  auto op = cast<linalg::GenericOp>(m.op);
  unsigned rank = space.rows.size();
  SmallVector<Value> at(ivs);
  at.push_back(k);
  auto indicesOf = [&](OpOperand *operand, ArrayRef<Value> where) {
    SmallVector<Value> indices;
    for (AffineExpr e : op.getMatchingIndexingMap(operand).getResults())
      indices.push_back(where[cast<AffineDimExpr>(e).getPosition()]);
    return indices;
  };
  const LoopReduction *squares = nullptr;
  if (m.kind == Kind::Reduce && reductions[reductionOf.lookup(op)].squares)
    squares = &reductions[reductionOf.lookup(op)];
  // Per operand: `width` values, or one for operands not moving along the
  // row.
  DenseMap<OpOperand *, SmallVector<Value>> values;
  for (OpOperand &operand : op->getOpOperands()) {
    BlockArgument arg = op.getMatchingBlockArgument(&operand);
    // A reduction's output is folded in after the loop; a sum of squares
    // reads only what `a` is computed from (m's statistics come after the
    // loop).
    if (arg.use_empty() || (m.kind == Kind::Reduce && op.isDpsInit(&operand)) ||
        (squares && arg != squares->a &&
         llvm::none_of(arg.getUsers(), [&](Operation *user) {
           return squares->aChain.contains(user);
         })))
      continue;
    Value buffer = operand.get();
    Access access = accessOf(op, &operand, space);
    if (access == Access::Scalar) {
      values[&operand] = {scalarOf(b, buffer)};
      continue;
    }
    if (access == Access::Full) {
      auto it = forwarded.find(buffer);
      if (it != forwarded.end()) {
        values[&operand] = it->second;
        continue;
      }
    }
    AffineMap map = op.getMatchingIndexingMap(&operand);
    if (!map.isFunctionOfDim(rank)) {
      values[&operand] = {
          memref::LoadOp::create(b, loc, buffer, indicesOf(&operand, at))};
      continue;
    }
    SmallVector<Value> elements;
    Type element = getElementTypeOrSelf(buffer.getType());
    if (width == 1) {
      elements.push_back(
          memref::LoadOp::create(b, loc, buffer, indicesOf(&operand, at)));
    } else {
      auto vectorType = VectorType::get({width}, element);
      int64_t bytes = width * element.getIntOrFloatBitWidth() / 8;
      Value vec = vector::LoadOp::create(
          b, loc, vectorType, buffer, indicesOf(&operand, at),
          /*nontemporal=*/false, llvm::Align(bytes));
      for (int64_t j = 0; j < width; ++j)
        elements.push_back(vector::ExtractOp::create(b, loc, vec, j));
    }
    // Another member of this loop reading the same row gets these values.
    if (access == Access::Full)
      forwarded[buffer] = elements;
    values[&operand] = elements;
  }

  Block &body = op.getRegion().front();
  int index = -1;
  if (m.kind == Kind::Reduce)
    index = reductionOf.lookup(op);
  SmallVector<Value> results;
  for (int64_t j = 0; j < width; ++j) {
    IRMapping mapping;
    for (auto &[operand, vs] : values)
      mapping.map(op.getMatchingBlockArgument(operand),
                  vs.size() == 1 ? vs[0] : vs[j]);
    Value position =
        j == 0 ? k
               : arith::AddIOp::create(
                     b, loc, k, arith::ConstantIndexOp::create(b, loc, j))
                     .getResult();
    const LoopReduction *r = index >= 0 ? &reductions[index] : nullptr;
    for (Operation &inner : body.without_terminator()) {
      if (r && &inner == r->combine)
        continue;
      if (auto idx = dyn_cast<linalg::IndexOp>(inner)) {
        mapping.map(idx.getResult(),
                    idx.getDim() == rank ? position : ivs[idx.getDim()]);
        continue;
      }
      // A sum of squares needs only `a`.
      if (r && r->squares && !r->aChain.contains(&inner))
        continue;
      b.clone(inner, mapping);
    }
    if (!r) {
      results.push_back(
          mapping.lookupOrDefault(body.getTerminator()->getOperand(0)));
      continue;
    }
    auto combineWith = [&](Value acc, Value v) {
      IRMapping c;
      BlockArgument out = op.getMatchingBlockArgument(op.getDpsInitOperand(0));
      c.map(out, acc);
      c.map(reducedValue(op, r->combine), v);
      return b.clone(*r->combine, c)->getResult(0);
    };
    if (r->squares) {
      Value a = mapping.lookup(r->a);
      newAccs[r->acc] = combineWith(newAccs[r->acc], a);
      Value sq = arith::MulFOp::create(b, loc, a, a);
      newAccs[r->acc + 1] = combineWith(newAccs[r->acc + 1], sq);
    } else {
      Value v = mapping.lookup(reducedValue(op, r->combine));
      newAccs[r->acc] = combineWith(newAccs[r->acc], v);
    }
  }
  if (m.kind != Kind::RowFull)
    return;
  Value out = op.getDpsInitOperand(0)->get();
  SmallVector<Value> outIndices(ivs);
  outIndices.push_back(k);
  if (width == 1) {
    memref::StoreOp::create(b, loc, results[0], out, outIndices);
  } else {
    Type element = getElementTypeOrSelf(out.getType());
    auto vectorType = VectorType::get({width}, element);
    Value vec = vector::FromElementsOp::create(b, loc, vectorType, results);
    int64_t bytes = width * element.getIntOrFloatBitWidth() / 8;
    vector::StoreOp::create(b, loc, vec, out, outIndices,
                            /*nontemporal=*/false, llvm::Align(bytes));
  }
  forwarded[out] = results;
}

/// Emits the open loop over the row, the butterflies of its reductions and
/// the per-row steps that waited for them.
void RowGroupEmitter::closeLoop(OpBuilder &b) {
  if (loopMembers.empty()) {
    assert(post.empty() && "post-loop steps without a loop");
    return;
  }
  // Accumulators start at the combiner's identity.
  SmallVector<Value> inits;
  for (Operation *combine : accCombines) {
    auto type = cast<FloatType>(combine->getResult(0).getType());
    inits.push_back(
        arith::ConstantOp::create(b, loc, identityOf(combine, type)));
  }
  Value start = arith::MulIOp::create(
      b, loc, lane, arith::ConstantIndexOp::create(b, loc, width));
  Value step = arith::ConstantIndexOp::create(b, loc, kWarpSize * width);
  Value length = arith::ConstantIndexOp::create(b, loc, space.length);
  auto loop = scf::ForOp::create(b, loc, start, length, step, inits);
  {
    OpBuilder::InsertionGuard g(b);
    // Without iteration arguments the builder has added an empty yield.
    if (!loop.getBody()->empty())
      loop.getBody()->getTerminator()->erase();
    b.setInsertionPointToStart(loop.getBody());
    DenseMap<Value, SmallVector<Value>> forwarded;
    SmallVector<Value> accs(loop.getRegionIterArgs());
    for (const Member *m : loopMembers)
      emitElements(b, *m, loop.getInductionVar(), forwarded, accs, accs);
    scf::YieldOp::create(b, loc, accs);
  }
  // The 32 lanes' partial values: a butterfly, after which every lane holds
  // the row's value.
  SmallVector<Value> totals(loop.getResults());
  Value widthI32 =
      totals.empty()
          ? Value()
          : arith::ConstantIntOp::create(b, loc, b.getI32Type(), kWarpSize);
  for (int64_t offset = kWarpSize / 2; offset >= 1 && !totals.empty();
       offset /= 2) {
    Value offsetI32 =
        arith::ConstantIntOp::create(b, loc, b.getI32Type(), offset);
    for (auto [i, combine] : llvm::enumerate(accCombines)) {
      auto shuffle = gpu::ShuffleOp::create(b, loc, totals[i], offsetI32,
                                            widthI32, gpu::ShuffleMode::XOR);
      IRMapping c;
      c.map(combine->getOperand(0), totals[i]);
      c.map(combine->getOperand(1), shuffle.getShuffleResult());
      totals[i] = b.clone(*combine, c)->getResult(0);
    }
  }
  // The waiting steps, in program order.
  for (const PostStep &s : post) {
    if (s.member) {
      emitScalar(b, *s.member);
      continue;
    }
    LoopReduction &r = reductions[s.reduction];
    Value total = totals[r.acc];
    if (r.squares) {
      // sum((a - m)^2) = sum(a^2) - 2 m sum(a) + n m^2, m from the
      // statistics now in registers.
      IRMapping mapping;
      Block &body = r.op.getRegion().front();
      for (OpOperand &operand : r.op->getOpOperands()) {
        BlockArgument arg = r.op.getMatchingBlockArgument(&operand);
        if (!arg.use_empty() &&
            accessOf(r.op, &operand, space) == Access::Scalar)
          mapping.map(arg, scalarOf(b, operand.get()));
      }
      for (Operation &inner : body.without_terminator())
        if (r.mChain.contains(&inner))
          b.clone(inner, mapping);
      Value m = mapping.lookupOrDefault(r.m);
      Type type = m.getType();
      Value n = arith::ConstantOp::create(
          b, loc, FloatAttr::get(type, static_cast<double>(space.length)));
      Value two = arith::ConstantOp::create(b, loc, FloatAttr::get(type, 2.0));
      Value sumA = total, sumSq = totals[r.acc + 1];
      Value twoM = arith::MulFOp::create(b, loc, two, m);
      Value cross = arith::MulFOp::create(b, loc, twoM, sumA);
      Value nm2 =
          arith::MulFOp::create(b, loc, n, arith::MulFOp::create(b, loc, m, m));
      total = arith::AddFOp::create(
          b, loc, arith::SubFOp::create(b, loc, sumSq, cross), nm2);
    }
    Value out = r.op.getDpsInitOperand(0)->get();
    Value old = scalarOf(b, out);
    IRMapping c;
    c.map(r.op.getMatchingBlockArgument(r.op.getDpsInitOperand(0)), old);
    c.map(reducedValue(r.op, r.combine), total);
    registers[out] = b.clone(*r.combine, c)->getResult(0);
    dirty.insert(out);
  }
  loopMembers.clear();
  reductions.clear();
  reductionOf.clear();
  accInits.clear();
  accCombines.clear();
  post.clear();
  pending.clear();
}

void RowGroupEmitter::emit() {
  Operation *last = members.back().op;
  loc = last->getLoc();
  OpBuilder b(last);
  int64_t rowCount = 1;
  for (int64_t r : space.rows)
    rowCount *= r;
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value grid = arith::ConstantIndexOp::create(
      b, loc, llvm::divideCeil(rowCount, warpsPerBlock));
  Value lanes = arith::ConstantIndexOp::create(b, loc, kWarpSize);
  Value perBlock = arith::ConstantIndexOp::create(b, loc, warpsPerBlock);
  auto launch =
      gpu::LaunchOp::create(b, loc, grid, one, one, lanes, perBlock, one);
  b.setInsertionPointToStart(&launch.getBody().front());
  lane = launch.getThreadIds().x;
  Value row = arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(
          b, loc, launch.getBlockIds().x,
          arith::ConstantIndexOp::create(b, loc, warpsPerBlock)),
      launch.getThreadIds().y);
  Value inside =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row,
                            arith::ConstantIndexOp::create(b, loc, rowCount));
  // The whole warp shares `row`: the guard keeps every lane of a live warp
  // in the shuffles.
  auto guard = scf::IfOp::create(b, loc, inside, /*withElseRegion=*/false);
  gpu::TerminatorOp::create(b, loc);
  b.setInsertionPoint(guard.thenBlock()->getTerminator());
  unsigned rank = space.rows.size();
  ivs.assign(rank, Value());
  Value rest = row;
  for (int i = static_cast<int>(rank) - 1; i >= 0; --i) {
    Value size = arith::ConstantIndexOp::create(b, loc, space.rows[i]);
    ivs[i] = i == 0 ? rest : arith::RemUIOp::create(b, loc, rest, size);
    if (i > 0)
      rest = arith::DivUIOp::create(b, loc, rest, size);
  }

  for (const Member &m : members) {
    bool alongRow = m.kind == Kind::RowFull || m.kind == Kind::Reduce;
    if (!alongRow) {
      // Per-row steps wait for the open loop's statistics.
      if (!loopMembers.empty()) {
        post.push_back({&m, -1});
        for (const Operand &o : operandsOf(m, space))
          if (o.written)
            pending.insert(o.buffer);
        continue;
      }
      emitScalar(b, m);
      continue;
    }
    if (readsPending(m)) {
      if (m.kind == Kind::Reduce && tryQueueSquares(m))
        continue;
      closeLoop(b);
    } else if (m.kind == Kind::Reduce &&
               pending.contains(
                   cast<linalg::GenericOp>(m.op).getDpsInitOperand(0)->get()) &&
               llvm::any_of(reductions, [&](LoopReduction &r) {
                 return r.op.getDpsInitOperand(0)->get() ==
                        cast<linalg::GenericOp>(m.op)
                            .getDpsInitOperand(0)
                            ->get();
               })) {
      // Two reductions into one buffer: the second starts from the first's
      // result.
      closeLoop(b);
    }
    queue(m);
  }
  closeLoop(b);

  // Lane 0 stores the per-row results the group leaves in memory.
  if (!dirty.empty()) {
    Value first =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane,
                              arith::ConstantIndexOp::create(b, loc, 0));
    auto store = scf::IfOp::create(b, loc, first, /*withElseRegion=*/false);
    b.setInsertionPoint(store.thenBlock()->getTerminator());
    for (Value buffer : dirty)
      memref::StoreOp::create(b, loc, registers.lookup(buffer), buffer, ivs);
  }
  for (const Member &m : llvm::reverse(members))
    m.op->erase();
}

/// Scans `block` for runs of members over one row space (gpu.alloc may sit
/// between them) that contain at least one reduction along the row and at
/// least two members.
SmallVector<std::pair<SmallVector<Member>, Space>> findGroups(Block &block) {
  SmallVector<std::pair<SmallVector<Member>, Space>> groups;
  SmallVector<Member> current;
  Space space;
  auto finish = [&]() {
    bool hasReduce = llvm::any_of(
        current, [](const Member &m) { return m.kind == Kind::Reduce; });
    // Drop trailing per-row members: they gain nothing from the kernel.
    while (!current.empty() && current.back().kind != Kind::Reduce &&
           current.back().kind != Kind::RowFull)
      current.pop_back();
    if (hasReduce && current.size() >= 2)
      groups.push_back({current, space});
    current.clear();
    space = Space();
  };
  for (Operation &op : block) {
    if (isa<gpu::AllocOp>(op) && !current.empty())
      continue;
    Space tentative = space;
    std::optional<Kind> kind = classify(&op, tentative);
    if (kind) {
      current.push_back({&op, *kind});
      if (isValidGroup(current, tentative) || tentative.length == 0) {
        space = tentative;
        continue;
      }
      current.pop_back();
    }
    finish();
    // The op may start the next group.
    Space fresh;
    if (std::optional<Kind> k = classify(&op, fresh)) {
      current.push_back({&op, *k});
      space = fresh;
    }
  }
  finish();
  return groups;
}

struct TPGPUMapRowGroupsPass
    : public tp::impl::TPGPUMapRowGroupsBase<TPGPUMapRowGroupsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (blockSize < kWarpSize || blockSize > 1024 ||
        blockSize % kWarpSize != 0) {
      getOperation().emitError("block-size must be a multiple of 32 in "
                               "[32, 1024], got ")
          << static_cast<int64_t>(blockSize.getValue());
      return signalPassFailure();
    }
    SmallVector<Block *> blocks;
    getOperation().walk([&](func::FuncOp func) {
      for (Block &block : func.getBody())
        blocks.push_back(&block);
    });
    for (Block *block : blocks)
      for (auto &[members, space] : findGroups(*block)) {
        int64_t width = chooseWidth(members, space);
        LLVM_DEBUG(llvm::dbgs() << "row group of " << members.size()
                                << " ops, width " << width << "\n");
        RowGroupEmitter(members, space, width, blockSize / kWarpSize).emit();
      }
  }
};

} // namespace
