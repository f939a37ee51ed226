//===- SegmentedSplits.cpp - splits of dimensions made of segments --------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Dialect/TP/Analysis/SegmentedSplits.h"
#include "tp/Utils/SliceDims.h"
#include "tp/Utils/StructuredOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/ADT/bit.h"

using namespace mlir;
using namespace mlir::tp;

/// At most this many segment lists per dimension of a value (a dimension is
/// normally cut one way; the bound keeps odd programs cheap).
static constexpr size_t kMaxListsPerDim = 4;
/// How many ops a reshaped segment dimension is followed through.
static constexpr unsigned kMaxFollowDepth = 4;

namespace {

/// What an extract_slice takes along one dimension of its source.
struct SliceRange {
  int64_t sourceDim;
  int64_t resultDim;
  int64_t offset;
  int64_t size;
};

} // namespace

/// The dimensions that `slice` takes a static, unit-stride part of (not all
/// of it, and not a dropped unit dimension).
static SmallVector<SliceRange> partialRanges(tensor::ExtractSliceOp slice) {
  SmallVector<SliceRange> ranges;
  RankedTensorType source = slice.getSourceType();
  for (const SliceDim &d : getKeptSliceDims(slice, slice.getDroppedDims()))
    if (d.offset && d.size && d.stride == 1 &&
        !source.isDynamicDim(d.fullDim) &&
        *d.size != source.getDimSize(d.fullDim))
      ranges.push_back({d.fullDim, d.sliceDim, *d.offset, *d.size});
  return ranges;
}

/// The segments of `segments` that [offset, offset + size) covers exactly
/// (first index and count), or std::nullopt if it does not start and end on
/// segment boundaries.
static std::optional<std::pair<size_t, size_t>>
coveredSegments(ArrayRef<int64_t> segments, int64_t offset, int64_t size) {
  int64_t start = 0;
  std::optional<size_t> first;
  for (auto [i, s] : llvm::enumerate(segments)) {
    if (start == offset)
      first = i;
    if (first && start + s == offset + size)
      return std::make_pair(*first, i - *first + 1);
    start += s;
  }
  return std::nullopt;
}

/// The extents of a concat's operands along the concatenated dimension, or
/// nothing if one is dynamic: the segments of its result.
static SmallVector<int64_t> concatExtents(tensor::ConcatOp concat) {
  SmallVector<int64_t> sizes;
  for (Value input : concat.getInputs()) {
    auto type = cast<RankedTensorType>(input.getType());
    if (type.isDynamicDim(concat.getDim()))
      return {};
    sizes.push_back(type.getDimSize(concat.getDim()));
  }
  return sizes;
}

/// At most this many segments get variants with some segments replicated
/// (2^n - 1 of them); beyond, only the all-split variant.
static constexpr size_t kMaxMaskedSegments = 4;

/// The ways to hold segments `sizes` on `tpSize` ranks, as lists of the
/// segments held whole: every segment split first, then fewer and fewer
/// split (a fused grouped-query QKV projection with fewer KV heads than
/// ranks splits Q and replicates K and V). A split segment must divide.
static SmallVector<SmallVector<int64_t>>
replicationChoices(ArrayRef<int64_t> sizes, int64_t tpSize) {
  SmallVector<SmallVector<int64_t>> choices;
  size_t n = sizes.size();
  unsigned all = (1u << n) - 1;
  SmallVector<unsigned> masks; // bit i set: segment i replicated
  if (n > kMaxMaskedSegments)
    masks.push_back(0);
  else
    for (unsigned mask = 0; mask < all; ++mask)
      masks.push_back(mask);
  llvm::stable_sort(masks, [](unsigned a, unsigned b) {
    return llvm::popcount(a) < llvm::popcount(b);
  });
  for (unsigned mask : masks) {
    SmallVector<int64_t> replicated;
    bool valid = true;
    for (size_t i = 0; i < n; ++i) {
      if (mask & (1u << i))
        replicated.push_back(i);
      else if (sizes[i] % tpSize != 0)
        valid = false;
    }
    if (valid)
      choices.push_back(std::move(replicated));
  }
  return choices;
}

/// The replicated segments among [first, first + count), renumbered.
static SmallVector<int64_t> subRange(ArrayRef<int64_t> replicated, size_t first,
                                     size_t count) {
  SmallVector<int64_t> result;
  for (int64_t i : replicated)
    if (i >= static_cast<int64_t>(first) &&
        i < static_cast<int64_t>(first + count))
      result.push_back(i - first);
  return result;
}

namespace {

/// A reshape group that splits one collapsed dimension into [b, rest...]: a
/// segmented split of the collapsed dimension (b segments) is a plain split
/// of `innerDim`, the first non-unit dimension after `outerDim`.
struct OuterGroup {
  int64_t collapsedDim;
  int64_t outerDim; ///< expanded dimension of size b (the segment index)
  int64_t innerDim; ///< expanded dimension the split lands on
  int64_t count;    ///< b
};

} // namespace

/// The groups of a reshape between `expandedType` and a collapsed type that
/// merge two or more non-unit dimensions.
static SmallVector<OuterGroup>
outerGroups(RankedTensorType expandedType,
            ArrayRef<ReassociationIndices> reassociation) {
  SmallVector<OuterGroup> groups;
  if (!expandedType.hasStaticShape())
    return groups;
  ArrayRef<int64_t> shape = expandedType.getShape();
  for (auto [collapsedDim, group] : llvm::enumerate(reassociation)) {
    SmallVector<int64_t> nonUnit;
    for (int64_t d : group)
      if (shape[d] != 1)
        nonUnit.push_back(d);
    if (nonUnit.size() >= 2)
      groups.push_back({static_cast<int64_t>(collapsedDim), nonUnit[0],
                        nonUnit[1], shape[nonUnit[0]]});
  }
  return groups;
}

static SmallVector<OuterGroup> outerGroups(tensor::ExpandShapeOp expand) {
  return outerGroups(expand.getResultType(), expand.getReassociationIndices());
}

static SmallVector<OuterGroup> outerGroups(tensor::CollapseShapeOp collapse) {
  return outerGroups(collapse.getSrcType(), collapse.getReassociationIndices());
}

/// True if dimension `dim` of `value` reaches the batch dimension of a
/// batched contraction, or an expand_shape that splits it again, directly or
/// through a few segmentable ops (transposes of the merged tensor):
/// attention's [B*H, S, D] operands.
static bool reachesBatchDim(Value value, int64_t dim, Block *body,
                            SegmentedSplits::OptionsFn optionsOf) {
  SmallVector<std::tuple<Value, int64_t, unsigned>> follow{{value, dim, 0}};
  while (!follow.empty()) {
    auto [v, d, depth] = follow.pop_back_val();
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (user->getBlock() != body)
        continue;
      if (auto expand = dyn_cast<tensor::ExpandShapeOp>(user))
        if (llvm::any_of(outerGroups(expand), [&](const OuterGroup &g) {
              return g.collapsedDim == d;
            }))
          return true;
      if (auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
          linalgOp && use.getOperandNumber() < 2) {
        // A contraction (elementwise binary ops have every loop in "batch":
        // a weight update W - lr * dW is not attention).
        FailureOr<linalg::ContractionDimensions> dims =
            inferReducingContraction(linalgOp);
        AffineMap map;
        if (succeeded(dims))
          map = linalgOp.getMatchingIndexingMap(&use);
        if (succeeded(dims) && d < map.getNumResults())
          if (auto loop = dyn_cast<AffineDimExpr>(map.getResult(d)))
            if (llvm::is_contained(dims->batch, loop.getPosition()))
              return true;
      }
      if (depth >= kMaxFollowDepth)
        continue;
      for (const ShardingOption &option : optionsOf(user)) {
        if (!option.segmentable ||
            use.getOperandNumber() >= option.operands.size())
          continue;
        ShardingAttr in = option.operands[use.getOperandNumber()];
        if (!in || !in.isSplit() || in.getDim() != d)
          continue;
        for (auto [i, sharding] : llvm::enumerate(option.results))
          if (sharding.isSplit())
            follow.push_back(
                {user->getResult(i), sharding.getDim(), depth + 1});
      }
    }
  }
  return false;
}

/// True if `slice` takes a static part (not all) of source dimension `dim`,
/// a dropped unit part included.
static bool cutsDim(tensor::ExtractSliceOp slice, int64_t dim) {
  std::optional<int64_t> size = getConstantIntValue(slice.getMixedSizes()[dim]);
  return size && !slice.getSourceType().isDynamicDim(dim) &&
         *size != slice.getSourceType().getDimSize(dim);
}

/// True if every split of `option` is plain (no segments, no granule): only
/// such options get segmented or granular variants.
static bool hasOnlyPlainSplits(const ShardingOption &option) {
  auto plain = [](ShardingAttr s) {
    return !s || !s.isSplit() || (!s.isSegmented() && s.getGranule() == 1);
  };
  return llvm::all_of(option.operands, plain) &&
         llvm::all_of(option.results, plain) &&
         llvm::all_of(option.captures,
                      [&](const auto &c) { return plain(c.second); });
}

/// `option` with every split of dimension d replaced by `split(d)` (the
/// variants of an option whose splits are all plain).
static ShardingOption
withSplits(const ShardingOption &option,
           llvm::function_ref<ShardingAttr(int64_t)> split) {
  ShardingOption variant = option;
  auto replace = [&](ShardingAttr &sharding) {
    if (sharding && sharding.isSplit())
      sharding = split(sharding.getDim());
  };
  for (ShardingAttr &s : variant.operands)
    replace(s);
  for (ShardingAttr &s : variant.results)
    replace(s);
  for (auto &capture : variant.captures)
    replace(capture.second);
  return variant;
}

/// The (value, dimension) of every plain split in `option`.
static SmallVector<std::pair<Value, int64_t>>
splitEntries(Operation *op, const ShardingOption &option) {
  SmallVector<std::pair<Value, int64_t>> entries;
  auto add = [&](Value value, ShardingAttr sharding) {
    if (sharding && sharding.isSplit() && !sharding.isSegmented() &&
        sharding.getGranule() == 1)
      entries.push_back({value, sharding.getDim()});
  };
  for (auto [i, sharding] : llvm::enumerate(option.operands))
    add(op->getOperand(i), sharding);
  for (auto [i, sharding] : llvm::enumerate(option.results))
    add(op->getResult(i), sharding);
  for (auto &[value, sharding] : option.captures)
    add(value, sharding);
  return entries;
}

static int64_t staticDimSize(Value value, int64_t dim) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || dim >= type.getRank())
    return ShapedType::kDynamic;
  return type.getDimSize(dim);
}

bool SegmentedSplits::add(Value value, int64_t dim, ArrayRef<int64_t> sizes) {
  int64_t size = staticDimSize(value, dim);
  if (ShapedType::isDynamic(size) || sizes.size() < 2)
    return false;
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s <= 0)
      return false;
    total += s;
  }
  if (total != size)
    return false;
  SmallVector<Segments, 1> &known = segments[value];
  size_t forDim = 0;
  for (const Segments &s : known) {
    if (s.dim != dim)
      continue;
    if (llvm::equal(s.sizes, sizes))
      return false;
    ++forDim;
  }
  if (forDim >= kMaxListsPerDim)
    return false;
  known.push_back({dim, SmallVector<int64_t>(sizes)});
  return true;
}

bool SegmentedSplits::addGranule(Value value, int64_t dim, int64_t granule) {
  int64_t size = staticDimSize(value, dim);
  if (ShapedType::isDynamic(size) || granule <= 1)
    return false;
  int64_t plain = (size + tpSize - 1) / tpSize;
  int64_t inUnits =
      (size + tpSize * granule - 1) / (tpSize * granule) * granule;
  if (plain == inUnits)
    return false;
  auto &known = granules[value];
  if (llvm::is_contained(known, std::make_pair(dim, granule)) ||
      known.size() >= kMaxListsPerDim)
    return false;
  known.push_back({dim, granule});
  return true;
}

SmallVector<int64_t> SegmentedSplits::lookupGranules(Value value,
                                                     int64_t dim) const {
  SmallVector<int64_t> result;
  auto it = granules.find(value);
  if (it != granules.end())
    for (auto [d, granule] : it->second)
      if (d == dim)
        result.push_back(granule);
  return result;
}

SmallVector<int64_t> SegmentedSplits::collectGranules(
    ArrayRef<std::pair<Value, int64_t>> entries) const {
  SmallVector<int64_t> found;
  for (auto [value, dim] : entries)
    for (int64_t granule : lookupGranules(value, dim))
      if (!llvm::is_contained(found, granule))
        found.push_back(granule);
  return found;
}

SmallVector<ArrayRef<int64_t>> SegmentedSplits::lookup(Value value,
                                                       int64_t dim) const {
  SmallVector<ArrayRef<int64_t>> result;
  auto it = segments.find(value);
  if (it == segments.end())
    return result;
  for (const Segments &s : it->second)
    if (s.dim == dim)
      result.push_back(s.sizes);
  return result;
}

SmallVector<ArrayRef<int64_t>>
SegmentedSplits::collect(ArrayRef<std::pair<Value, int64_t>> entries) const {
  SmallVector<ArrayRef<int64_t>> found;
  for (auto [value, dim] : entries)
    for (ArrayRef<int64_t> sizes : lookup(value, dim))
      if (!llvm::any_of(found, [&](ArrayRef<int64_t> f) {
            return llvm::equal(f, sizes);
          }))
        found.push_back(sizes);
  return found;
}

SegmentedSplits::SegmentedSplits(Block *body, int64_t tpSize, bool allowPadding,
                                 OptionsFn optionsOf)
    : tpSize(tpSize), body(body), optionsOf(optionsOf) {
  if (tpSize < 2)
    return;
  // 1. Seeds, then 2. propagation to a fixed point.
  bool anyCut = seedSlices();
  if (anyCut)
    seedExpandedGroups();
  seedConcats();
  seedMergedBatches();
  if (allowPadding)
    seedGranules();
  propagate();
}

void SegmentedSplits::touch(Value value) {
  if (Operation *def = value.getDefiningOp())
    if (Operation *top = body->findAncestorOpInBlock(*def))
      worklist.insert(top);
  for (Operation *user : value.getUsers())
    if (Operation *top = body->findAncestorOpInBlock(*user))
      worklist.insert(top);
}

/// Seeds: where the static slices of a dimension start and end. Returns
/// whether any slice takes part of a dimension.
bool SegmentedSplits::seedSlices() {
  llvm::MapVector<std::pair<Value, int64_t>, SmallVector<int64_t>> cuts;
  bool anyCut = false; // Does any slice take part of a dimension?
  for (Operation &op : *body)
    if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op)) {
      for (int64_t d = 0, e = slice.getSourceType().getRank(); d < e; ++d)
        anyCut |= cutsDim(slice, d);
      for (const SliceRange &range : partialRanges(slice)) {
        SmallVector<int64_t> &points =
            cuts[{slice.getSource(), range.sourceDim}];
        points.push_back(range.offset);
        points.push_back(range.offset + range.size);
      }
    }
  for (auto &[key, points] : cuts) {
    int64_t size = staticDimSize(key.first, key.second);
    points.push_back(0);
    points.push_back(size);
    llvm::sort(points);
    points.erase(std::unique(points.begin(), points.end()), points.end());
    if (points.front() < 0 || points.back() > size)
      continue; // An out-of-bounds slice: the verifier reports it.
    SmallVector<int64_t> sizes;
    for (size_t i = 1; i < points.size(); ++i)
      sizes.push_back(points[i] - points[i - 1]);
    if (add(key.first, key.second, sizes))
      touch(key.first);
  }

  return anyCut;
}

/// Seeds: a concat along a dimension makes its result's segments of it, one
/// per operand (the backward of a fused projection's slices concatenates the
/// gradients of Q, K and V into the projection's output gradient).
void SegmentedSplits::seedConcats() {
  for (Operation &op : *body)
    if (auto concat = dyn_cast<tensor::ConcatOp>(op))
      if (add(concat.getResult(), concat.getDim(), concatExtents(concat)))
        touch(concat.getResult());
}

void SegmentedSplits::seedExpandedGroups() {
  // Seeds through reshapes: an expand_shape of [.., n, ..] into
  // [.., b, rest.., ..] whose b dimension is later cut (q, k, v =
  // qkv.view(B, S, 3, H, D).permute(...)[i]) makes b segments of n. The b
  // dimension is followed forward through segmentable options (a transpose
  // moves it) for a few ops.
  for (Operation &op : *body) {
    auto expand = dyn_cast<tensor::ExpandShapeOp>(op);
    if (!expand)
      continue;
    for (const OuterGroup &group : outerGroups(expand)) {
      SmallVector<std::tuple<Value, int64_t, unsigned>> follow{
          {expand.getResult(), group.outerDim, 0}};
      bool cut = false;
      while (!follow.empty() && !cut) {
        auto [value, dim, depth] = follow.pop_back_val();
        for (Operation *user : value.getUsers()) {
          if (user->getBlock() != body || cut)
            continue;
          if (auto slice = dyn_cast<tensor::ExtractSliceOp>(user)) {
            cut = cutsDim(slice, dim);
            continue;
          }
          if (depth >= kMaxFollowDepth)
            continue;
          for (const ShardingOption &option : optionsOf(user)) {
            if (!option.segmentable)
              continue;
            bool carries = false;
            for (auto [i, sharding] : llvm::enumerate(option.operands))
              carries |= user->getOperand(i) == value && sharding.isSplit() &&
                         sharding.getDim() == dim;
            if (!carries)
              continue;
            for (auto [i, sharding] : llvm::enumerate(option.results))
              if (sharding.isSplit())
                follow.push_back(
                    {user->getResult(i), sharding.getDim(), depth + 1});
          }
        }
      }
      int64_t size = staticDimSize(expand.getSrc(), group.collapsedDim);
      if (!cut || size % group.count != 0)
        continue;
      SmallVector<int64_t> sizes(group.count, size / group.count);
      if (add(expand.getSrc(), group.collapsedDim, sizes))
        touch(expand.getSrc());
    }
  }
}

void SegmentedSplits::seedMergedBatches() {
  // Seeds through merged batch dimensions: a collapse_shape of [b, h, ..]
  // into [b*h, ..] whose merged dimension is the batch of a batched
  // contraction (attention on [B*H, S, D] with batch B > 1, maybe through
  // transposes of the merged tensor) makes b segments of it: a split of the
  // heads is then a segmented split of the merged batch.
  for (Operation &op : *body) {
    auto collapse = dyn_cast<tensor::CollapseShapeOp>(op);
    if (!collapse)
      continue;
    for (const OuterGroup &group : outerGroups(collapse)) {
      int64_t size = staticDimSize(collapse.getResult(), group.collapsedDim);
      if (ShapedType::isDynamic(size) || size % group.count != 0 ||
          !reachesBatchDim(collapse.getResult(), group.collapsedDim, body,
                           optionsOf))
        continue;
      SmallVector<int64_t> sizes(group.count, size / group.count);
      if (add(collapse.getResult(), group.collapsedDim, sizes))
        touch(collapse.getResult());
    }
  }
}

/// Granules (uneven=pad): the reshapes whose padded split lines up only in
/// whole units.
void SegmentedSplits::seedGranules() {
  for (Operation &op : *body) {
    if (!isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(op))
      continue;
    for (const ShardingOption &option : optionsOf(&op)) {
      auto seed = [&](Value value, ShardingAttr sharding) {
        if (sharding.isSplit() && sharding.getGranule() != 1 &&
            addGranule(value, sharding.getDim(), sharding.getGranule()))
          touch(value);
      };
      seed(op.getOperand(0), option.operands[0]);
      seed(op.getResult(0), option.results[0]);
    }
  }
}

/// Propagation through segmentable options and slices of segments, until
/// nothing new is learned.
void SegmentedSplits::propagate() {
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val();
    for (const ShardingOption &option : optionsOf(op)) {
      if (!option.segmentable || !hasOnlyPlainSplits(option))
        continue;
      SmallVector<std::pair<Value, int64_t>> entries = splitEntries(op, option);
      // Copies: add() may grow the lists the references point into.
      SmallVector<SmallVector<int64_t>> found;
      for (ArrayRef<int64_t> sizes : collect(entries))
        found.emplace_back(sizes);
      for (auto [value, dim] : entries)
        for (ArrayRef<int64_t> sizes : found)
          if (add(value, dim, sizes))
            touch(value);
    }
    for (const ShardingOption &option : optionsOf(op)) {
      if (!option.paddable || !hasOnlyPlainSplits(option))
        continue;
      SmallVector<std::pair<Value, int64_t>> entries = splitEntries(op, option);
      SmallVector<int64_t> found = collectGranules(entries);
      for (auto [value, dim] : entries)
        for (int64_t granule : found)
          if (addGranule(value, dim, granule))
            touch(value);
    }
    if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op))
      for (const SliceRange &range : partialRanges(slice))
        for (ArrayRef<int64_t> known :
             lookup(slice.getSource(), range.sourceDim)) {
          // A copy: add() may move the lists `known` points into.
          SmallVector<int64_t> sizes(known);
          if (auto covered = coveredSegments(sizes, range.offset, range.size))
            if (add(slice.getResult(), range.resultDim,
                    ArrayRef<int64_t>(sizes).slice(covered->first,
                                                   covered->second)))
              touch(slice.getResult());
        }
    // A concat's operand that spans several segments of the result has
    // those segments.
    if (auto concat = dyn_cast<tensor::ConcatOp>(op)) {
      SmallVector<int64_t> extents = concatExtents(concat);
      int64_t dim = concat.getDim();
      for (ArrayRef<int64_t> known : lookup(concat.getResult(), dim)) {
        SmallVector<int64_t> sizes(known);
        int64_t offset = 0;
        for (auto [input, extent] :
             llvm::zip_equal(concat.getInputs(), extents)) {
          if (auto covered = coveredSegments(sizes, offset, extent))
            if (add(input, dim,
                    ArrayRef<int64_t>(sizes).slice(covered->first,
                                                   covered->second)))
              touch(input);
          offset += extent;
        }
      }
    }
  }
}

bool SegmentedSplits::touchesSegments(Operation *op,
                                      ArrayRef<ShardingOption> options) const {
  auto carries = [&](Value value) {
    return segments.count(value) || granules.count(value);
  };
  return llvm::any_of(op->getOperands(), carries) ||
         llvm::any_of(op->getResults(), carries) ||
         llvm::any_of(options, [&](const ShardingOption &option) {
           return llvm::any_of(option.captures,
                               [&](auto &c) { return carries(c.first); });
         });
}

bool SegmentedSplits::extend(Operation *op,
                             MutableArrayRef<ShardingOption> options,
                             SmallVectorImpl<ShardingOption> &extended) const {
  if (empty() || !touchesSegments(op, options))
    return false;
  for (ShardingOption &option : options) {
    if (hasOnlyPlainSplits(option)) {
      if (option.segmentable)
        addSegmentedVariants(op, option, extended);
      if (option.paddable)
        addGranularVariants(op, option, extended);
    }
    extended.push_back(std::move(option));
  }
  addReshapeOptions(op, extended);
  addSliceOptions(op, extended);
  addConcatOptions(op, extended);
  return true;
}

/// The segmented twins of a segmentable option whose split values carry
/// segments.
void SegmentedSplits::addSegmentedVariants(
    Operation *op, const ShardingOption &option,
    SmallVectorImpl<ShardingOption> &extended) const {
  MLIRContext *ctx = op->getContext();
  SmallVector<std::pair<Value, int64_t>> entries = splitEntries(op, option);
  for (ArrayRef<int64_t> sizes : collect(entries)) {
    // Every split of the option is the same loop, so the same size; a
    // value the propagation could not give these segments (dynamic)
    // rules the variant out.
    bool valid = llvm::all_of(entries, [&](auto entry) {
      return llvm::any_of(
          lookup(entry.first, entry.second),
          [&](ArrayRef<int64_t> s) { return llvm::equal(s, sizes); });
    });
    if (!valid)
      continue;
    // Replicated segments only where the split loop is parallel: a
    // split reduction would count a replicated segment on every rank.
    bool reduces = llvm::any_of(
        option.results, [](ShardingAttr r) { return r && r.isPartial(); });
    SmallVector<SmallVector<int64_t>> choices =
        replicationChoices(sizes, tpSize);
    if (reduces)
      llvm::erase_if(choices, [](ArrayRef<int64_t> replicated) {
        return !replicated.empty();
      });
    for (ArrayRef<int64_t> replicated : choices) {
      ShardingOption variant = withSplits(option, [&](int64_t dim) {
        return ShardingAttr::getSegmented(ctx, dim, sizes, replicated);
      });
      variant.paddable = false;
      extended.push_back(std::move(variant));
    }
  }
}

/// Padded splits in whole units (uneven=pad through a reshape).
void SegmentedSplits::addGranularVariants(
    Operation *op, const ShardingOption &option,
    SmallVectorImpl<ShardingOption> &extended) const {
  MLIRContext *ctx = op->getContext();
  SmallVector<std::pair<Value, int64_t>> entries = splitEntries(op, option);
  for (int64_t granule : collectGranules(entries)) {
    bool valid = llvm::all_of(entries, [&](auto entry) {
      return llvm::is_contained(lookupGranules(entry.first, entry.second),
                                granule);
    });
    if (!valid)
      continue;
    ShardingOption variant = withSplits(option, [&](int64_t dim) {
      return ShardingAttr::getGranular(ctx, dim, granule);
    });
    variant.segmentable = false;
    extended.push_back(std::move(variant));
  }
}

/// A reshape between b equal segments of a collapsed dimension and
/// [b, rest..] with `rest` split: an expand_shape splits `rest`, a
/// collapse_shape makes the segments (its mirror).
void SegmentedSplits::addReshapeOptions(
    Operation *op, SmallVectorImpl<ShardingOption> &extended) const {
  MLIRContext *ctx = op->getContext();
  auto addReshape = [&](Value collapsed, ArrayRef<OuterGroup> groups,
                        bool sourceIsCollapsed) {
    for (const OuterGroup &group : groups) {
      for (ArrayRef<int64_t> sizes : lookup(collapsed, group.collapsedDim)) {
        if (static_cast<int64_t>(sizes.size()) != group.count ||
            !llvm::all_equal(sizes) || sizes.front() % tpSize != 0)
          continue;
        ShardingOption option;
        option.kind = ParallelKind::Other;
        option.paddable = false;
        option.operands.assign(op->getNumOperands(),
                               ShardingAttr::getReplicated(ctx));
        auto segmented =
            ShardingAttr::getSegmented(ctx, group.collapsedDim, sizes);
        auto split = ShardingAttr::getSplit(ctx, group.innerDim);
        option.operands[0] = sourceIsCollapsed ? segmented : split;
        option.results.push_back(sourceIsCollapsed ? split : segmented);
        extended.push_back(std::move(option));
      }
    }
  };
  if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op))
    addReshape(expand.getSrc(), outerGroups(expand),
               /*sourceIsCollapsed=*/true);
  if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op))
    addReshape(collapse.getResult(), outerGroups(collapse),
               /*sourceIsCollapsed=*/false);
}

/// A slice of whole segments of a segmented source is local.
void SegmentedSplits::addSliceOptions(
    Operation *op, SmallVectorImpl<ShardingOption> &extended) const {
  MLIRContext *ctx = op->getContext();
  if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op)) {
    for (const SliceRange &range : partialRanges(slice)) {
      for (ArrayRef<int64_t> sizes :
           lookup(slice.getSource(), range.sourceDim)) {
        auto covered = coveredSegments(sizes, range.offset, range.size);
        if (!covered)
          continue;
        for (ArrayRef<int64_t> replicated : replicationChoices(sizes, tpSize)) {
          ShardingOption option;
          option.kind = ParallelKind::Other;
          option.paddable = false;
          option.operands.assign(op->getNumOperands(),
                                 ShardingAttr::getReplicated(ctx));
          option.operands[0] = ShardingAttr::getSegmented(ctx, range.sourceDim,
                                                          sizes, replicated);
          option.results.push_back(ShardingAttr::getSegmented(
              ctx, range.resultDim,
              sizes.slice(covered->first, covered->second),
              subRange(replicated, covered->first, covered->second)));
          extended.push_back(std::move(option));
        }
      }
    }
  }
}

/// A concat of operands each split along the concatenated dimension is
/// local when its result is split in segments that line up with the
/// operands: each rank concatenates its parts, in segment order (an operand
/// spanning several segments is itself segmented; a replicated segment is
/// an operand held whole).
void SegmentedSplits::addConcatOptions(
    Operation *op, SmallVectorImpl<ShardingOption> &extended) const {
  auto concat = dyn_cast<tensor::ConcatOp>(op);
  if (!concat)
    return;
  MLIRContext *ctx = op->getContext();
  int64_t dim = concat.getDim();
  SmallVector<int64_t> extents = concatExtents(concat);
  if (extents.empty())
    return;
  for (ArrayRef<int64_t> sizes : lookup(concat.getResult(), dim)) {
    // Where each operand's segments start and how many it spans.
    SmallVector<std::pair<size_t, size_t>> spans;
    int64_t offset = 0;
    for (int64_t extent : extents) {
      auto covered = coveredSegments(sizes, offset, extent);
      if (!covered)
        break;
      spans.push_back(*covered);
      offset += extent;
    }
    if (spans.size() != extents.size())
      continue;
    for (ArrayRef<int64_t> replicated : replicationChoices(sizes, tpSize)) {
      ShardingOption option;
      option.kind = ParallelKind::Other;
      option.paddable = false;
      for (auto [first, count] : spans) {
        SmallVector<int64_t> sub = subRange(replicated, first, count);
        if (count > 1)
          option.operands.push_back(ShardingAttr::getSegmented(
              ctx, dim, sizes.slice(first, count), sub));
        else
          option.operands.push_back(sub.empty()
                                        ? ShardingAttr::getSplit(ctx, dim)
                                        : ShardingAttr::getReplicated(ctx));
      }
      option.results.push_back(
          ShardingAttr::getSegmented(ctx, dim, sizes, replicated));
      extended.push_back(std::move(option));
    }
  }
}

void SegmentedSplits::addArgumentCandidates(
    BlockArgument arg, SmallVectorImpl<ShardingAttr> &candidates) const {
  if (auto g = granules.find(arg); g != granules.end())
    for (auto [dim, granule] : g->second)
      candidates.push_back(
          ShardingAttr::getGranular(arg.getContext(), dim, granule));
  auto it = segments.find(arg);
  if (it == segments.end())
    return;
  for (const Segments &s : it->second)
    for (ArrayRef<int64_t> replicated : replicationChoices(s.sizes, tpSize))
      candidates.push_back(ShardingAttr::getSegmented(arg.getContext(), s.dim,
                                                      s.sizes, replicated));
}
