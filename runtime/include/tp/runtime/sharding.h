//===- sharding.h - The arithmetic of split tensors -------------*- C++ -*-===//
//
// One place for what a rank holds of a split dimension, used by the compiler
// (the local types it gives sharded values, lib/tp/Dialect/TP/IR) and by
// the runtime (the shards tp-launch cuts out of full tensors and puts back,
// runtime/lib/Launch). Header-only, C++17, no LLVM: the runtime must build
// and run without it.
//
// The split kinds the compiler emits (#tp.sharding<...>) and what rank r of
// p holds of the split dimension (global size G):
//   split d              G % p == 0: rows [r * G/p, (r + 1) * G/p)
//   split d (uneven=pad) L = ceil(G / p) rows from r * L; rows past G are
//                        zero padding (the last ranks hold it)
//   split d granule g    L = ceil(G / (p * g)) * g: padded in whole granules
//                        (heads of g elements), rows from r * L as above
//   split d segments [S0, S1, ...] (replicated [k...])
//                        segment j starts at S0 + ... + S(j-1); rank r holds
//                        rows [start + r * Sj/p, start + (r + 1) * Sj/p) of
//                        each split segment and all of each replicated one,
//                        one after the other (never padded: Sj % p == 0)
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_SHARDING_H
#define TP_RUNTIME_SHARDING_H

#include <algorithm>
#include <cstdint>
#include <vector>

namespace tp::sharding {

/// Rows each rank holds of a plain or padded split of `global` rows on
/// `tpSize` ranks in whole units of `granule` (1: a plain split):
/// ceil(global / (tpSize * granule)) * granule.
inline int64_t localExtent(int64_t global, int64_t tpSize,
                           int64_t granule = 1) {
  const int64_t unit = tpSize * granule;
  return (global + unit - 1) / unit * granule;
}

/// Rows each rank holds of one segment of `size` rows of a segmented split:
/// all of a replicated segment, an equal slice of a split one.
inline int64_t localSegmentExtent(int64_t size, bool replicated,
                                  int64_t tpSize) {
  return replicated ? size : size / tpSize;
}

/// Rows each rank holds of a segmented split: the sum of its segments'.
/// `isReplicated(j)` tells whether segment j is held whole.
template <typename IsReplicated>
int64_t segmentedLocalExtent(const std::vector<int64_t> &segments,
                             IsReplicated isReplicated, int64_t tpSize) {
  int64_t local = 0;
  for (size_t j = 0; j < segments.size(); ++j)
    local += localSegmentExtent(segments[j], isReplicated(j), tpSize);
  return local;
}

/// A run of rows of the split dimension: global rows [globalStart,
/// globalStart + count) are local rows [localStart, localStart + count).
struct RowRun {
  int64_t globalStart = 0;
  int64_t localStart = 0;
  int64_t count = 0;
};

/// The rows rank `rank` holds of a plain or padded split of `global` rows,
/// `local` per rank: one run (possibly empty); local rows past it are
/// padding.
inline RowRun splitRows(int64_t global, int64_t local, int64_t rank) {
  RowRun run;
  run.globalStart = rank * local;
  run.count = std::max<int64_t>(0, std::min(local, global - run.globalStart));
  return run;
}

/// The rows rank `rank` holds of a segmented split: one run per segment, in
/// segment order (a replicated segment's run is the whole segment).
template <typename IsReplicated>
std::vector<RowRun> segmentRows(const std::vector<int64_t> &segments,
                                IsReplicated isReplicated, int64_t tpSize,
                                int64_t rank) {
  std::vector<RowRun> runs;
  int64_t start = 0, localStart = 0;
  for (size_t j = 0; j < segments.size(); ++j) {
    const bool whole = isReplicated(j);
    RowRun run;
    run.count = localSegmentExtent(segments[j], whole, tpSize);
    run.globalStart = start + (whole ? 0 : rank * run.count);
    run.localStart = localStart;
    runs.push_back(run);
    start += segments[j];
    localStart += run.count;
  }
  return runs;
}

} // namespace tp::sharding

#endif // TP_RUNTIME_SHARDING_H
