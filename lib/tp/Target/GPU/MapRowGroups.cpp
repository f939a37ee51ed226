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

#include "tp/Target/GPU/Passes.h"

#include "BufferViews.h"
#include "HostLevel.h"
#include "RowStatistics.h"
#include "WarpPerRow.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SetVector.h"

#define DEBUG_TYPE "tp-gpu-map-row-groups"

namespace mlir {
namespace tp {
#define GEN_PASS_DEF_TPGPUMAPROWGROUPS
#include "tp/Target/GPU/Passes.h.inc"
} // namespace tp
} // namespace mlir

using namespace mlir;
using namespace mlir::tp;

namespace {

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

/// Takes the row space from a static per-row buffer type when none is known
/// yet.
void adoptRows(Space &space, MemRefType type) {
  if (space.rows.empty() && type.hasStaticShape())
    space.rows.assign(type.getShape().begin(), type.getShape().end());
}

/// A fill of a per-row buffer of `space`, with the filled value already in
/// the buffer's element type.
std::optional<Kind> classifyFill(linalg::FillOp fill, Space &space) {
  if (!fill.hasPureBufferSemantics())
    return std::nullopt;
  Value out = fill.getDpsInitOperand(0)->get();
  auto type = dyn_cast<MemRefType>(out.getType());
  // The filled value becomes the register as it is: no conversion.
  if (!type || type.getRank() == 0 ||
      fill.getDpsInputOperand(0)->get().getType() != type.getElementType())
    return std::nullopt;
  adoptRows(space, type);
  if (!isStaticIdentity(out, space.rows))
    return std::nullopt;
  return Kind::Fill;
}

/// A synchronous copy between per-row buffers of `space`.
std::optional<Kind> classifyCopy(gpu::MemcpyOp copy, Space &space) {
  if (!copy.getAsyncDependencies().empty() || copy.getAsyncToken())
    return std::nullopt;
  auto type = dyn_cast<MemRefType>(copy.getDst().getType());
  if (!type || type.getRank() == 0)
    return std::nullopt;
  adoptRows(space, type);
  if (!isStaticIdentity(copy.getDst(), space.rows) ||
      !isStaticIdentity(copy.getSrc(), space.rows))
    return std::nullopt;
  return Kind::Copy;
}

/// Whether `generic` could be a member at all: one output, a body free of
/// memory effects, buffer operands with projected-permutation maps, static
/// loop ranges.
bool isCandidateGeneric(linalg::GenericOp generic) {
  if (!generic.hasPureBufferSemantics() || generic.getNumDpsInits() != 1)
    return false;
  for (Operation &inner : generic.getRegion().front().without_terminator())
    if (!isMemoryEffectFree(&inner))
      return false;
  for (OpOperand &operand : generic->getOpOperands())
    if (!isa<MemRefType>(operand.get().getType()) ||
        !generic.getMatchingIndexingMap(&operand).isProjectedPermutation())
      return false;
  return llvm::none_of(generic.getStaticLoopRanges(), ShapedType::isDynamic);
}

/// Whether `generic` (over the row loops and one along the row) reduces its
/// last loop with a known combiner into an output indexed by the row loops
/// in order, without reading that output.
bool isRowReduction(linalg::GenericOp generic) {
  unsigned loops = generic.getNumLoops();
  OpOperand *init = generic.getDpsInitOperand(0);
  AffineMap initMap = generic.getMatchingIndexingMap(init);
  SmallVector<utils::IteratorType> iterators = generic.getIteratorTypesArray();
  if (iterators.back() != utils::IteratorType::reduction ||
      generic.getNumReductionLoops() != 1 ||
      initMap.getNumResults() != loops - 1 || !combineOf(generic))
    return false;
  for (unsigned i = 0; i + 1 < loops; ++i)
    if (initMap.getResult(i) != getAffineDimExpr(i, generic.getContext()))
      return false;
  // The output read as an input would see partial results.
  for (OpOperand *input : generic.getDpsInputOperands())
    if (input->get() == init->get())
      return false;
  return true;
}

/// A generic over `space`: per row (RowScalar), along the row (RowFull) or
/// reducing along it (Reduce).
std::optional<Kind> classifyGeneric(linalg::GenericOp generic, Space &space) {
  if (!isCandidateGeneric(generic))
    return std::nullopt;
  SmallVector<int64_t> ranges = generic.getStaticLoopRanges();
  unsigned loops = generic.getNumLoops();
  AffineMap initMap =
      generic.getMatchingIndexingMap(generic.getDpsInitOperand(0));
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
  if (!isRowReduction(generic)) {
    space = tentative;
    return std::nullopt;
  }
  return Kind::Reduce;
}

/// Classifies `op` as a member over `space` (filling in the space's unknown
/// parts), or returns std::nullopt.
std::optional<Kind> classify(Operation *op, Space &space) {
  if (auto fill = dyn_cast<linalg::FillOp>(op))
    return classifyFill(fill, space);
  if (auto copy = dyn_cast<gpu::MemcpyOp>(op))
    return classifyCopy(copy, space);
  if (auto generic = dyn_cast<linalg::GenericOp>(op))
    return classifyGeneric(generic, space);
  return std::nullopt;
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
      std::optional<int64_t> bytes = bytesAlongRow(op, operand, rank);
      if (!bytes)
        return 1;
      widest = std::max(widest, *bytes);
    }
  }
  return vectorWidth(widest, space.length);
}

//===----------------------------------------------------------------------===//
// The kernel
//===----------------------------------------------------------------------===//

/// How a reduction of the open lane loop accumulates.
enum class Mode {
  /// One accumulator, the body's combiner.
  Plain,
  /// sum((a - m)^2) with m a statistic of the same loop: the moments of `a`
  /// (count, mean, M2), finished as M2 + n (mean - m)^2.
  Moments,
  /// sum(x) of the row an exp(a - m) member writes, m a statistic of the
  /// same loop: a running (reference, sum of exp(a - reference)), finished
  /// as sum exp(reference - m) where the exp member stood.
  ExpSum,
};

unsigned accumulatorsOf(Mode mode) {
  switch (mode) {
  case Mode::Plain:
    return 1;
  case Mode::Moments:
    return 3;
  case Mode::ExpSum:
    return 2;
  }
  llvm_unreachable("unknown mode");
}

/// A reduction of the open lane loop.
struct LoopReduction {
  linalg::GenericOp op;
  Operation *combine = nullptr;
  /// Its first iteration argument of the loop (accumulatorsOf(mode) in all;
  /// set by RowGroupEmitter::addLoopReduction).
  unsigned acc = 0;
  Mode mode = Mode::Plain;
  /// For Moments and ExpSum: the generic whose body computes a and m (the
  /// reduction itself, or the exp member), and the body ops each is
  /// computed from.
  linalg::GenericOp source;
  Value a, m;
  DenseSet<Operation *> aChain, mChain;
  /// For ExpSum: m, evaluated where the exp member stands.
  Value mValue;
};

/// A post-loop step, in program order: a per-row member, or a reduction's
/// final value.
struct PostStep {
  const Member *member = nullptr;
  int reduction = -1;
  /// An exp member deferred to the next loop: its per-row inputs are read
  /// here (and the m of `reduction`, its ExpSum, evaluated).
  const Member *deferred = nullptr;
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
  bool tryDeferExp(size_t index);
  bool splitDeviation(linalg::GenericOp source, Value a, Value m,
                      LoopReduction &r) const;
  void addLoopReduction(LoopReduction r, const Member &member, PostStep step);
  void queue(const Member &m);
  unsigned addAccumulators(Mode mode);
  void closeLoop(OpBuilder &b);
  void markDeadStores();
  scf::ForOp emitLaneLoop(OpBuilder &b);
  void captureDeferred(OpBuilder &b, const PostStep &s);
  void finishReduction(OpBuilder &b, LoopReduction &r, ArrayRef<Value> totals);
  void resetLoop();
  void emitElements(OpBuilder &b, const Member &m, Value k,
                    DenseMap<Value, SmallVector<Value>> &forwarded,
                    ValueRange accs, SmallVectorImpl<Value> &newAccs);
  DenseMap<OpOperand *, SmallVector<Value>>
  loadOperands(OpBuilder &b, const Member &m, linalg::GenericOp op,
               const LoopReduction *r, Value k,
               DenseMap<Value, SmallVector<Value>> &forwarded);
  SmallVector<Value>
  computeElements(OpBuilder &b, linalg::GenericOp op, const LoopReduction *r,
                  Value k,
                  const DenseMap<OpOperand *, SmallVector<Value>> &values,
                  ValueRange accs, SmallVectorImpl<Value> &newAccs);
  void storeRow(OpBuilder &b, const Member &m, Value k, ArrayRef<Value> results,
                DenseMap<Value, SmallVector<Value>> &forwarded);

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
  /// Iteration arguments of the open loop.
  unsigned accCount = 0;
  SmallVector<PostStep> post;
  /// Exp members that wait for the next loop, and the sums of their rows
  /// that the open loop reduces as an ExpSum.
  SmallVector<const Member *> deferred;
  DenseSet<Operation *> expSums;
  /// Per-row inputs of deferred members, read where they stood.
  DenseMap<OpOperand *, Value> captured;
  /// Loop members whose row a later member of the same loop overwrites.
  DenseSet<Operation *> deadStores;
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
/// values only; if so, queues it as the moments of `a`.
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
  for (auto [a, mean] : {std::pair(diff.getLhs(), diff.getRhs()),
                         std::pair(diff.getRhs(), diff.getLhs())}) {
    LoopReduction r;
    if (!splitDeviation(op, a, mean, r))
      continue;
    if (cast<FloatType>(a.getType()) != reducedValue(op, combine).getType())
      return false;
    r.op = op;
    r.combine = combine;
    r.mode = Mode::Moments;
    addLoopReduction(std::move(r), m, {});
    pending.insert(op.getDpsInitOperand(0)->get());
    return true;
  }
  return false;
}

void RowGroupEmitter::queue(const Member &m) {
  if (expSums.contains(m.op)) {
    // In the loop since tryDeferExp: its value comes where it stands.
    auto op = cast<linalg::GenericOp>(m.op);
    post.push_back({nullptr, reductionOf.lookup(op)});
    pending.insert(op.getDpsInitOperand(0)->get());
    return;
  }
  if (m.kind != Kind::Reduce) {
    loopMembers.push_back(&m);
    return;
  }
  auto op = cast<linalg::GenericOp>(m.op);
  LoopReduction r;
  r.op = op;
  r.combine = combineOf(op);
  addLoopReduction(std::move(r), m, {});
  pending.insert(op.getDpsInitOperand(0)->get());
}

/// Fills `r`'s source, `a`, `m` and their chains when, in `source`'s body,
/// `a` is computed from inputs that are not statistics of the open loop and
/// `m` from per-row inputs only (no linalg.index).
bool RowGroupEmitter::splitDeviation(linalg::GenericOp source, Value a, Value m,
                                     LoopReduction &r) const {
  Block &body = source.getRegion().front();
  auto operandOf = [&](BlockArgument arg) -> OpOperand * {
    if (arg.getArgNumber() >= source.getNumDpsInputs())
      return nullptr;
    return &source->getOpOperand(arg.getArgNumber());
  };
  auto notPending = [&](BlockArgument arg) {
    OpOperand *operand = operandOf(arg);
    return operand && !pending.contains(operand->get());
  };
  auto perRow = [&](BlockArgument arg) {
    OpOperand *operand = operandOf(arg);
    return operand && accessOf(source, operand, space) == Access::Scalar;
  };
  FailureOr<DenseSet<Operation *>> aChain = sliceOf(a, body, notPending);
  FailureOr<DenseSet<Operation *>> mChain = sliceOf(m, body, perRow);
  if (failed(aChain) || failed(mChain) ||
      llvm::any_of(*mChain,
                   [](Operation *o) { return isa<linalg::IndexOp>(o); }))
    return false;
  r.source = source;
  r.a = a;
  r.m = m;
  r.aChain = std::move(*aChain);
  r.mChain = std::move(*mChain);
  return true;
}

/// Adds `r` (op, combiner and mode set) to the open loop, reduced by
/// `member`; its value is due at `step`, in program order.
void RowGroupEmitter::addLoopReduction(LoopReduction r, const Member &member,
                                       PostStep step) {
  r.acc = addAccumulators(r.mode);
  reductionOf[r.op] = reductions.size();
  step.reduction = reductions.size();
  reductions.push_back(std::move(r));
  post.push_back(step);
  loopMembers.push_back(&member);
}

unsigned RowGroupEmitter::addAccumulators(Mode mode) {
  unsigned first = accCount;
  accCount += accumulatorsOf(mode);
  return first;
}

/// For a member along the row that reads statistics of the open loop:
/// whether it writes exp(a - m), with `a` computed without them and m from
/// per-row values, and the next member along the row (after per-row ones
/// only) is a sum of exactly that row, converted to the accumulator's type
/// at most. Then the sum needs no second pass: the open loop reduces it as
/// an ExpSum of `a` (the online softmax), and the exp member moves to the
/// next loop, with its per-row inputs read where it stood.
bool RowGroupEmitter::tryDeferExp(size_t index) {
  const Member &e = members[index];
  if (e.kind != Kind::RowFull)
    return false;
  auto op = cast<linalg::GenericOp>(e.op);
  Block &body = op.getRegion().front();
  auto exp = body.getTerminator()->getOperand(0).getDefiningOp<math::ExpOp>();
  if (!exp || exp->getBlock() != &body)
    return false;
  auto diff = exp.getOperand().getDefiningOp<arith::SubFOp>();
  if (!diff || diff->getBlock() != &body)
    return false;
  Value row = op.getDpsInitOperand(0)->get();
  // The sum of the written row.
  size_t next = index + 1;
  while (next < members.size() && members[next].kind != Kind::RowFull &&
         members[next].kind != Kind::Reduce)
    ++next;
  if (next == members.size() || members[next].kind != Kind::Reduce)
    return false;
  auto sum = cast<linalg::GenericOp>(members[next].op);
  Operation *combine = combineOf(sum);
  if (!isa<arith::AddFOp>(combine))
    return false;
  Value x = reducedValue(sum, combine);
  if (auto ext = x.getDefiningOp<arith::ExtFOp>())
    x = ext.getIn();
  auto xArg = dyn_cast<BlockArgument>(x);
  if (!xArg || xArg.getOwner() != &sum.getRegion().front() ||
      xArg.getArgNumber() >= sum.getNumDpsInputs())
    return false;
  OpOperand &read = sum->getOpOperand(xArg.getArgNumber());
  if (read.get() != row || accessOf(sum, &read, space) != Access::Full)
    return false;
  auto accType = cast<FloatType>(combine->getResult(0).getType());
  auto elementType = dyn_cast<FloatType>(diff.getType());
  if (!elementType || elementType.getWidth() > accType.getWidth())
    return false;

  LoopReduction r;
  if (!splitDeviation(op, diff.getLhs(), diff.getRhs(), r))
    return false;
  r.op = sum;
  r.combine = combine;
  r.mode = Mode::ExpSum;
  // The sum's member joins the open loop now (its place among the loop's
  // members does not matter: it reads only what `a` is computed from).
  addLoopReduction(std::move(r), members[next], {nullptr, -1, &e});
  expSums.insert(sum);
  deferred.push_back(&e);
  return true;
}

/// The values of `op`'s operands that member `m` uses for the `width`
/// elements from `k`: `width` values per operand along the row (loaded, or
/// forwarded from another member of this loop that read or wrote the same
/// row), one for an operand that does not move along it. `r` is `m`'s
/// reduction, if any.
DenseMap<OpOperand *, SmallVector<Value>> RowGroupEmitter::loadOperands(
    OpBuilder &b, const Member &m, linalg::GenericOp op, const LoopReduction *r,
    Value k, DenseMap<Value, SmallVector<Value>> &forwarded) {
  unsigned rank = space.rows.size();
  bool ofA = r && r->mode != Mode::Plain;
  SmallVector<Value> at(ivs);
  at.push_back(k);
  auto indicesOf = [&](OpOperand *operand, ArrayRef<Value> where) {
    SmallVector<Value> indices;
    for (AffineExpr e : op.getMatchingIndexingMap(operand).getResults())
      indices.push_back(where[cast<AffineDimExpr>(e).getPosition()]);
    return indices;
  };
  DenseMap<OpOperand *, SmallVector<Value>> values;
  for (OpOperand &operand : op->getOpOperands()) {
    BlockArgument arg = op.getMatchingBlockArgument(&operand);
    // A reduction's output is folded in after the loop; `a` reads only what
    // it is computed from (m's statistics come after the loop).
    if (arg.use_empty() || (m.kind == Kind::Reduce && op.isDpsInit(&operand)) ||
        (ofA && arg != r->a && llvm::none_of(arg.getUsers(), [&](Operation *u) {
           return r->aChain.contains(u);
         })))
      continue;
    Value buffer = operand.get();
    Access access = accessOf(op, &operand, space);
    if (access == Access::Scalar) {
      Value v = captured.lookup(&operand);
      values[&operand] = {v ? v : scalarOf(b, buffer)};
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
  return values;
}

/// `op`'s body for each of the `width` elements from `k` on `values`: the
/// yielded value per element (RowFull), `a` per element in the
/// accumulators' type (a Moments or ExpSum reduction `r`), or, for a plain
/// reduction `r`, each element folded into `newAccs` (no results).
SmallVector<Value> RowGroupEmitter::computeElements(
    OpBuilder &b, linalg::GenericOp op, const LoopReduction *r, Value k,
    const DenseMap<OpOperand *, SmallVector<Value>> &values, ValueRange accs,
    SmallVectorImpl<Value> &newAccs) {
  unsigned rank = space.rows.size();
  bool ofA = r && r->mode != Mode::Plain;
  Block &body = op.getRegion().front();
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
    for (Operation &inner : body.without_terminator()) {
      if (r && &inner == r->combine)
        continue;
      if (ofA && !r->aChain.contains(&inner))
        continue;
      if (auto idx = dyn_cast<linalg::IndexOp>(inner)) {
        mapping.map(idx.getResult(),
                    idx.getDim() == rank ? position : ivs[idx.getDim()]);
        continue;
      }
      b.clone(inner, mapping);
    }
    if (ofA) {
      // In the accumulators' type (an ExpSum of bf16 values sums in f32).
      Value a = mapping.lookupOrDefault(r->a);
      Type accType = accs[r->acc].getType();
      if (a.getType() != accType)
        a = arith::ExtFOp::create(b, loc, accType, a);
      results.push_back(a);
      continue;
    }
    if (!r) {
      results.push_back(
          mapping.lookupOrDefault(body.getTerminator()->getOperand(0)));
      continue;
    }
    IRMapping c;
    c.map(op.getMatchingBlockArgument(op.getDpsInitOperand(0)),
          newAccs[r->acc]);
    c.map(reducedValue(op, r->combine),
          mapping.lookup(reducedValue(op, r->combine)));
    newAccs[r->acc] = b.clone(*r->combine, c)->getResult(0);
  }
  return results;
}

/// For a Moments or ExpSum reduction `r`: the chunk of its `a` values
/// added to its accumulators in `newAccs`.
void addChunk(OpBuilder &b, Location loc, const LoopReduction &r,
              ArrayRef<Value> chunk, SmallVectorImpl<Value> &newAccs) {
  unsigned i = r.acc;
  if (r.mode == Mode::Moments) {
    Moments acc = addChunkToMoments(
        b, loc, {newAccs[i], newAccs[i + 1], newAccs[i + 2]}, chunk);
    newAccs[i] = acc.count;
    newAccs[i + 1] = acc.mean;
    newAccs[i + 2] = acc.m2;
  } else if (r.mode == Mode::ExpSum) {
    ExpSum acc = addChunkToExpSum(b, loc, {newAccs[i], newAccs[i + 1]}, chunk);
    newAccs[i] = acc.reference;
    newAccs[i + 1] = acc.sum;
  }
}

/// The row elements from `k` that RowFull member `m` computed (`results`),
/// forwarded to later members of the loop and stored unless a later member
/// overwrites them (a vector store where the width is more than one).
void RowGroupEmitter::storeRow(OpBuilder &b, const Member &m, Value k,
                               ArrayRef<Value> results,
                               DenseMap<Value, SmallVector<Value>> &forwarded) {
  auto op = cast<linalg::GenericOp>(m.op);
  Value out = op.getDpsInitOperand(0)->get();
  forwarded[out] = SmallVector<Value>(results);
  // A later member of this loop writes the same elements.
  if (deadStores.contains(m.op))
    return;
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
}

/// Loads (or forwards) the operands of member `m` for the `width` elements
/// from `k`, computes its body per element and stores (RowFull) or
/// accumulates (Reduce). A Moments or ExpSum reduction computes only `a`
/// of its source's body, per element, and adds the chunk of `width` values
/// to its accumulators.
void RowGroupEmitter::emitElements(
    OpBuilder &b, const Member &m, Value k,
    DenseMap<Value, SmallVector<Value>> &forwarded, ValueRange accs,
    SmallVectorImpl<Value> &newAccs) {
  const LoopReduction *r = nullptr;
  if (m.kind == Kind::Reduce)
    r = &reductions[reductionOf.lookup(m.op)];
  bool ofA = r && r->mode != Mode::Plain;
  // The generic whose body is computed here.
  auto op = ofA ? r->source : cast<linalg::GenericOp>(m.op);
  DenseMap<OpOperand *, SmallVector<Value>> values =
      loadOperands(b, m, op, r, k, forwarded);
  SmallVector<Value> results =
      computeElements(b, op, r, k, values, accs, newAccs);
  if (ofA)
    addChunk(b, loc, *r, results, newAccs);
  if (m.kind == Kind::RowFull)
    storeRow(b, m, k, results, forwarded);
}

/// The accumulators of `r` at the start of a loop: the combiner's identity,
/// empty moments or an empty ExpSum.
void pushInitialAccumulators(OpBuilder &b, Location loc, const LoopReduction &r,
                             SmallVectorImpl<Value> &inits) {
  auto type = cast<FloatType>(r.combine->getResult(0).getType());
  switch (r.mode) {
  case Mode::Plain:
    inits.push_back(
        arith::ConstantOp::create(b, loc, identityOf(r.combine, type)));
    return;
  case Mode::Moments: {
    Moments empty = emptyMoments(b, loc, type);
    inits.append({empty.count, empty.mean, empty.m2});
    return;
  }
  case Mode::ExpSum: {
    ExpSum empty = emptyExpSum(b, loc, type);
    inits.append({empty.reference, empty.sum});
    return;
  }
  }
}

/// `r`'s accumulators in `totals` merged with another lane's (`other`).
void mergeAccumulators(OpBuilder &b, Location loc, const LoopReduction &r,
                       MutableArrayRef<Value> totals, ArrayRef<Value> other) {
  unsigned i = r.acc;
  switch (r.mode) {
  case Mode::Plain: {
    IRMapping c;
    c.map(r.combine->getOperand(0), totals[i]);
    c.map(r.combine->getOperand(1), other[i]);
    totals[i] = b.clone(*r.combine, c)->getResult(0);
    return;
  }
  case Mode::Moments: {
    Moments merged =
        mergeMoments(b, loc, {totals[i], totals[i + 1], totals[i + 2]},
                     {other[i], other[i + 1], other[i + 2]});
    totals[i] = merged.count;
    totals[i + 1] = merged.mean;
    totals[i + 2] = merged.m2;
    return;
  }
  case Mode::ExpSum: {
    ExpSum merged = mergeExpSums(b, loc, {totals[i], totals[i + 1]},
                                 {other[i], other[i + 1]});
    totals[i] = merged.reference;
    totals[i + 1] = merged.sum;
    return;
  }
  }
}

/// m of a Moments or ExpSum reduction, from the per-row values its source
/// reads (`perRow` of each operand).
Value evaluateM(OpBuilder &b, LoopReduction &r,
                function_ref<Value(OpOperand &)> perRow) {
  IRMapping mapping;
  Block &body = r.source.getRegion().front();
  for (Operation *inner : r.mChain)
    for (Value operand : inner->getOperands())
      if (auto arg = dyn_cast<BlockArgument>(operand);
          arg && arg.getOwner() == &body)
        mapping.map(arg, perRow(r.source->getOpOperand(arg.getArgNumber())));
  if (auto arg = dyn_cast<BlockArgument>(r.m); arg && arg.getOwner() == &body)
    mapping.map(arg, perRow(r.source->getOpOperand(arg.getArgNumber())));
  for (Operation &inner : body.without_terminator())
    if (r.mChain.contains(&inner))
      b.clone(inner, mapping);
  return mapping.lookupOrDefault(r.m);
}

/// Marks the loop members whose row a later member of the open loop writes
/// again: such a row is stored once, by the last writer (each lane writes
/// the same elements, and the loop's readers have it in registers).
void RowGroupEmitter::markDeadStores() {
  deadStores.clear();
  DenseSet<Value> writtenLater;
  for (const Member *m : llvm::reverse(loopMembers)) {
    if (m->kind != Kind::RowFull)
      continue;
    Value out = cast<linalg::GenericOp>(m->op).getDpsInitOperand(0)->get();
    if (!writtenLater.insert(out).second)
      deadStores.insert(m->op);
  }
}

/// The lane loop over the row (each lane from lane*width, stepping by
/// 32*width) with the open loop's members in its body and the reductions'
/// accumulators as its iteration arguments.
scf::ForOp RowGroupEmitter::emitLaneLoop(OpBuilder &b) {
  SmallVector<Value> inits;
  for (const LoopReduction &r : reductions)
    pushInitialAccumulators(b, loc, r, inits);
  Value start = arith::MulIOp::create(
      b, loc, lane, arith::ConstantIndexOp::create(b, loc, width));
  Value step = arith::ConstantIndexOp::create(b, loc, kWarpSize * width);
  Value length = arith::ConstantIndexOp::create(b, loc, space.length);
  auto loop = scf::ForOp::create(b, loc, start, length, step, inits);
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
  return loop;
}

/// Where a deferred exp member stands (step `s`): its per-row inputs read
/// now, and the m of its row's sum evaluated.
void RowGroupEmitter::captureDeferred(OpBuilder &b, const PostStep &s) {
  LoopReduction &r = reductions[s.reduction];
  auto op = cast<linalg::GenericOp>(s.deferred->op);
  for (OpOperand *input : op.getDpsInputOperands())
    if (!op.getMatchingBlockArgument(input).use_empty() &&
        accessOf(op, input, space) == Access::Scalar)
      captured[input] = scalarOf(b, input->get());
  r.mValue = evaluateM(b, r, [&](OpOperand &o) { return captured[&o]; });
}

/// Reduction `r`'s row value from the lanes' merged `totals` (finishing
/// moments or an ExpSum), folded into its output's register.
void RowGroupEmitter::finishReduction(OpBuilder &b, LoopReduction &r,
                                      ArrayRef<Value> totals) {
  Value total = totals[r.acc];
  if (r.mode == Mode::Moments) {
    Value m =
        evaluateM(b, r, [&](OpOperand &o) { return scalarOf(b, o.get()); });
    total = sumOfSquaredDeviations(
        b, loc, {totals[r.acc], totals[r.acc + 1], totals[r.acc + 2]}, m);
  } else if (r.mode == Mode::ExpSum) {
    Value m = r.mValue;
    Type accType = totals[r.acc].getType();
    if (m.getType() != accType)
      m = arith::ExtFOp::create(b, loc, accType, m);
    total = finishExpSum(b, loc, {totals[r.acc], totals[r.acc + 1]}, m);
  }
  Value out = r.op.getDpsInitOperand(0)->get();
  Value old = scalarOf(b, out);
  IRMapping c;
  c.map(r.op.getMatchingBlockArgument(r.op.getDpsInitOperand(0)), old);
  c.map(reducedValue(r.op, r.combine), total);
  registers[out] = b.clone(*r.combine, c)->getResult(0);
  dirty.insert(out);
}

/// Forgets the closed loop; the deferred exp members start the next one.
void RowGroupEmitter::resetLoop() {
  loopMembers.clear();
  reductions.clear();
  reductionOf.clear();
  expSums.clear();
  accCount = 0;
  post.clear();
  pending.clear();
  for (const Member *m : deferred)
    queue(*m);
  deferred.clear();
}

/// Emits the open loop over the row, the butterflies of its reductions and
/// the per-row steps that waited for them; members deferred to the next
/// loop open it.
void RowGroupEmitter::closeLoop(OpBuilder &b) {
  if (loopMembers.empty()) {
    assert(post.empty() && "post-loop steps without a loop");
    return;
  }
  markDeadStores();
  scf::ForOp loop = emitLaneLoop(b);
  // The 32 lanes' partial values: a butterfly, after which every lane holds
  // the row's value.
  SmallVector<Value> totals =
      butterfly(b, loc, loop.getResults(),
                [&](MutableArrayRef<Value> mine, ArrayRef<Value> others) {
                  for (const LoopReduction &r : reductions)
                    mergeAccumulators(b, loc, r, mine, others);
                });
  // The waiting steps, in program order.
  for (const PostStep &s : post) {
    if (s.member)
      emitScalar(b, *s.member);
    else if (s.deferred)
      captureDeferred(b, s);
    else
      finishReduction(b, reductions[s.reduction], totals);
  }
  resetLoop();
}

void RowGroupEmitter::emit() {
  Operation *last = members.back().op;
  loc = last->getLoc();
  OpBuilder b(last);
  int64_t rowCount = 1;
  for (int64_t r : space.rows)
    rowCount *= r;
  Value grid = arith::ConstantIndexOp::create(
      b, loc, llvm::divideCeil(rowCount, warpsPerBlock));
  Value perBlock = arith::ConstantIndexOp::create(b, loc, warpsPerBlock);
  WarpPerRowLaunch launch = createWarpPerRowLaunch(
      b, loc, grid, perBlock, warpsPerBlock, [&](OpBuilder &k) {
        return arith::ConstantIndexOp::create(k, loc, rowCount);
      });
  lane = launch.lane;
  SmallVector<Value> rowSizes;
  for (int64_t size : space.rows)
    rowSizes.push_back(arith::ConstantIndexOp::create(b, loc, size));
  ivs = delinearizeRow(b, loc, launch.row, rowSizes);

  for (auto [index, m] : llvm::enumerate(members)) {
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
    if (expSums.contains(m.op)) {
      queue(m);
      continue;
    }
    // Nothing along the row may run between a deferred exp member and the
    // next loop, which it opens.
    if (!deferred.empty())
      closeLoop(b);
    if (readsPending(m)) {
      if (m.kind == Kind::Reduce && tryQueueSquares(m))
        continue;
      if (tryDeferExp(index))
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
  while (!loopMembers.empty())
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
    if (failed(checkBlockSize(getOperation(), blockSize, kWarpSize)))
      return signalPassFailure();
    SmallVector<Block *> blocks;
    // Function bodies and the host-level branches in them (the generated
    // fallback of tp-gpu-form-attention lives in an scf.if).
    getOperation().walk([&](Block *block) {
      Operation *parent = block->getParentOp();
      if (isa<func::FuncOp>(parent) ||
          (isa<scf::IfOp>(parent) && parent->getParentOfType<func::FuncOp>() &&
           isHostLevel(parent)))
        blocks.push_back(block);
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
