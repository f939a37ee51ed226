//===- SegmentedSplits.h - splits of dimensions made of segments -*- C++
//-*-===//
//
// Part of tp-mlir.
//
// A fused QKV projection computes Q, K and V with one matmul whose output
// features are [Q | K | V], and the program cuts them apart with
// tensor.extract_slice. A plain column split of that matmul gives rank 0 all
// of Q and part of K: not head-aligned, so the slices would need the whole
// tensor. A segmented split (`#tp.sharding<split 1 segments [E, E, E]>`)
// gives every rank the same slice of each segment instead, so the slices
// become local and each rank holds its heads of Q, K and V. Likewise a
// concat of operands split along the concatenated dimension is local into a
// segmented result (the gradients of Q, K and V concatenated in the backward).
//
// This analysis finds where segmented splits can help and offers them:
//
//  1. Seeds: the static extract_slices of a value along a dimension cut it
//     into segments (the points where slices start and end), and a concat
//     makes its result's segments, one per operand (the backward of a fused
//     projection concatenates the gradients of Q, K and V).
//  2. Propagation: a segmentable option (ShardingOption::segmentable) runs
//     the same on a segmented split as on a plain one, so the segments of
//     one of its split values carry to the others: from the slices' source
//     back through a bias add and the matmul to the weight and the bias.
//  3. Options: every segmentable option of an op whose split values carry
//     segments gets a segmented twin (placed before it, so an annotation
//     "column" selects it), every extract_slice of segments gets an option
//     that takes its slice locally, every concat whose operands line up with
//     its result's segments one that concatenates locally, and a function
//     argument with segments gets them as a candidate sharding.
//
// Only segments that every rank can hold an equal slice of (each divisible
// by the tp size) are offered: segmented splits are never padded.
//
// The same propagation carries granules under uneven=pad: a reshape that
// regroups a padded split (12 heads of 64 on 8 ranks) can keep it only if
// the collapsed dimension is cut in whole heads (`#tp.sharding<split d
// granule 64>`, 128 per rank instead of 96), so the projections before it
// and the row layer after it get variants with that granule.
//
//===----------------------------------------------------------------------===//

#ifndef TP_DIALECT_TP_ANALYSIS_SEGMENTEDSPLITS_H
#define TP_DIALECT_TP_ANALYSIS_SEGMENTEDSPLITS_H

#include "tp/Dialect/TP/Interfaces/ShardingInterface.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SetVector.h"

namespace mlir {
namespace tp {

class SegmentedSplits {
public:
  using OptionsFn = llvm::function_ref<ArrayRef<ShardingOption>(Operation *)>;

  /// Analyzes the ops of `body`; `optionsOf(op)` returns the structural
  /// options of a top-level op (empty for ops without a sharding rule).
  SegmentedSplits(Block *body, int64_t tpSize, bool allowPadding,
                  OptionsFn optionsOf);

  /// Moves `options` (the structural options of `op`) into `extended` with
  /// the segmented variants described above inserted, and returns true;
  /// returns false, leaving both untouched, when `op` touches no segmented
  /// or granular value (most ops: the cheap common case).
  bool extend(Operation *op, MutableArrayRef<ShardingOption> options,
              SmallVectorImpl<ShardingOption> &extended) const;

  /// Appends the segmented shardings worth trying for `arg`.
  void addArgumentCandidates(BlockArgument arg,
                             SmallVectorImpl<ShardingAttr> &candidates) const;

  /// True if nothing in the function is cut into segments or granules.
  bool empty() const { return segments.empty() && granules.empty(); }

private:
  struct Segments {
    int64_t dim;
    SmallVector<int64_t> sizes;
  };

  /// Records `sizes` for dimension `dim` of `value`; returns true if new.
  bool add(Value value, int64_t dim, ArrayRef<int64_t> sizes);
  /// The segment lists known for dimension `dim` of `value`.
  SmallVector<ArrayRef<int64_t>> lookup(Value value, int64_t dim) const;
  /// Every distinct segment list known for any of `entries`.
  SmallVector<ArrayRef<int64_t>>
  collect(ArrayRef<std::pair<Value, int64_t>> entries) const;

  /// Records a padded split of `dim` of `value` in units of `granule`
  /// where that differs from the plain padded split; true if new.
  bool addGranule(Value value, int64_t dim, int64_t granule);
  /// The granules known for dimension `dim` of `value`.
  SmallVector<int64_t> lookupGranules(Value value, int64_t dim) const;
  /// Every distinct granule known for any of `entries`.
  SmallVector<int64_t>
  collectGranules(ArrayRef<std::pair<Value, int64_t>> entries) const;

  /// True if an operand, result or captured tensor of `op` carries segments
  /// or granules: only then can extend() find variants.
  bool touchesSegments(Operation *op, ArrayRef<ShardingOption> options) const;
  // The variants extend() adds.
  void addSegmentedVariants(Operation *op, const ShardingOption &option,
                            SmallVectorImpl<ShardingOption> &extended) const;
  void addGranularVariants(Operation *op, const ShardingOption &option,
                           SmallVectorImpl<ShardingOption> &extended) const;
  void addReshapeOptions(Operation *op,
                         SmallVectorImpl<ShardingOption> &extended) const;
  void addSliceOptions(Operation *op,
                       SmallVectorImpl<ShardingOption> &extended) const;
  void addConcatOptions(Operation *op,
                        SmallVectorImpl<ShardingOption> &extended) const;

  // The analysis, in the constructor: seeds, then propagation.
  bool seedSlices();
  void seedConcats();
  void seedExpandedGroups();
  void seedMergedBatches();
  void seedGranules();
  void propagate();
  /// Queues the top-level ops that define or use `value` for propagation.
  void touch(Value value);

  int64_t tpSize;
  Block *body;
  /// Valid during the constructor only (the caller's callback).
  OptionsFn optionsOf;
  llvm::SetVector<Operation *> worklist;
  llvm::DenseMap<Value, SmallVector<Segments, 1>> segments;
  llvm::DenseMap<Value, SmallVector<std::pair<int64_t, int64_t>, 1>> granules;
};

} // namespace tp
} // namespace mlir

#endif // TP_DIALECT_TP_ANALYSIS_SEGMENTEDSPLITS_H
