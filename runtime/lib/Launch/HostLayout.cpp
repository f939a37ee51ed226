//===- HostLayout.cpp - Host-side slicing and assembly of tensors ---------===//

#include "Launch/HostLayout.h"
#include "Common/DType.h"
#include "tp/runtime/sharding.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace tp::launch {

bool convertElements(const void *src, tp_dtype srcType, void *dst,
                     tp_dtype dstType, int64_t count) {
  if (srcType == dstType) {
    if (count > 0)
      std::memcpy(dst, src, size_t(count) * rt::dtypeSize(srcType));
    return true;
  }
  if (srcType == TP_F32 && rt::isHalfDType(dstType)) {
    const auto *in = static_cast<const float *>(src);
    auto *out = static_cast<uint16_t *>(dst);
    for (int64_t i = 0; i < count; ++i)
      out[i] = rt::storeHalf(dstType, in[i]);
    return true;
  }
  if (rt::isHalfDType(srcType) && dstType == TP_F32) {
    const auto *in = static_cast<const uint16_t *>(src);
    auto *out = static_cast<float *>(dst);
    for (int64_t i = 0; i < count; ++i)
      out[i] = rt::loadHalf(srcType, in, i);
    return true;
  }
  return false;
}

std::vector<ShardPiece> shardPieces(const TensorSpec &spec, int rank) {
  std::vector<ShardPiece> pieces;
  const int64_t localCount = spec.localElements();
  if (spec.sharding.kind != ShardKind::Split) {
    bool zeros = spec.sharding.kind == ShardKind::Partial &&
                 spec.sharding.reduction == TP_SUM && rank != 0;
    if (!zeros && localCount > 0)
      pieces.push_back({0, 0, localCount});
    return pieces;
  }
  const SplitGeometry g = splitGeometry(spec);
  const Sharding &s = spec.sharding;
  if (!s.segments.empty()) {
    // The group size, from what the split segments leave per rank (the
    // manifest parser checked that they divide and that one is split).
    int64_t splitGlobal = 0, splitLocal = g.local;
    for (size_t j = 0; j < s.segments.size(); ++j) {
      if (s.isSegmentReplicated(j))
        splitLocal -= s.segments[j];
      else
        splitGlobal += s.segments[j];
    }
    const int64_t tpSize = splitGlobal / splitLocal;
    const std::vector<sharding::RowRun> runs = sharding::segmentRows(
        s.segments, [&](size_t j) { return s.isSegmentReplicated(j); }, tpSize,
        rank);
    for (int64_t o = 0; o < g.outer; ++o)
      for (const sharding::RowRun &run : runs)
        if (run.count * g.inner > 0)
          pieces.push_back({(o * g.global + run.globalStart) * g.inner,
                            (o * g.local + run.localStart) * g.inner,
                            run.count * g.inner});
    return pieces;
  }
  // Within one outer index our rows are contiguous in the full tensor: one
  // piece of the rows that exist; the padding stays zero.
  const sharding::RowRun run = sharding::splitRows(g.global, g.local, rank);
  if (run.count * g.inner > 0)
    for (int64_t o = 0; o < g.outer; ++o)
      pieces.push_back({(o * g.global + run.globalStart) * g.inner,
                        o * g.local * g.inner, run.count * g.inner});
  return pieces;
}

void extractShard(const void *full, tp_dtype fullType, const TensorSpec &spec,
                  int rank, void *dst) {
  const size_t inSize = rt::dtypeSize(fullType);
  const size_t outSize = rt::dtypeSize(spec.dtype);
  const auto *in = static_cast<const unsigned char *>(full);
  auto *out = static_cast<unsigned char *>(dst);
  std::vector<ShardPiece> pieces = shardPieces(spec, rank);
  int64_t covered = 0;
  for (const ShardPiece &piece : pieces)
    covered += piece.count;
  if (covered < spec.localElements()) // padding, or a partial sum's zeros
    std::memset(dst, 0, size_t(spec.localElements()) * outSize);
  for (const ShardPiece &piece : pieces)
    convertElements(in + size_t(piece.source) * inSize, fullType,
                    out + size_t(piece.target) * outSize, spec.dtype,
                    piece.count);
}

int64_t extractViewShard(const void *input, tp_dtype inputType, int64_t offset,
                         const std::vector<int64_t> &strides,
                         const TensorSpec &spec, int rank, void *dst) {
  const size_t inSize = rt::dtypeSize(inputType);
  const size_t outSize = rt::dtypeSize(spec.dtype);
  const auto *in = static_cast<const unsigned char *>(input);
  auto *out = static_cast<unsigned char *>(dst);
  const std::vector<int64_t> &shape = spec.globalShape;
  std::vector<ShardPiece> pieces = shardPieces(spec, rank);
  int64_t covered = 0;
  for (const ShardPiece &piece : pieces)
    covered += piece.count;
  if (covered < spec.localElements())
    std::memset(dst, 0, size_t(spec.localElements()) * outSize);
  if (shape.empty()) { // a scalar view
    if (!pieces.empty())
      convertElements(in + size_t(offset) * inSize, inputType, out, spec.dtype,
                      1);
    return covered;
  }
  const size_t rankOf = shape.size();
  const int64_t innerSize = shape.back(), innerStride = strides.back();
  std::vector<int64_t> index(rankOf);
  for (const ShardPiece &piece : pieces) {
    // The run's first element of the view, as an index.
    int64_t linear = piece.source;
    for (size_t d = rankOf; d-- > 0;) {
      index[d] = shape[d] ? linear % shape[d] : 0;
      linear = shape[d] ? linear / shape[d] : 0;
    }
    int64_t target = piece.target, left = piece.count;
    while (left > 0) {
      int64_t at = offset;
      for (size_t d = 0; d < rankOf; ++d)
        at += index[d] * strides[d];
      int64_t run = std::min(left, innerSize - index.back());
      if (innerStride == 1) {
        convertElements(in + size_t(at) * inSize, inputType,
                        out + size_t(target) * outSize, spec.dtype, run);
      } else {
        for (int64_t e = 0; e < run; ++e)
          convertElements(in + size_t(at + e * innerStride) * inSize, inputType,
                          out + size_t(target + e) * outSize, spec.dtype, 1);
      }
      target += run;
      left -= run;
      // Next row of the view.
      index.back() += run;
      for (size_t d = rankOf - 1; d > 0 && index[d] == shape[d]; --d) {
        index[d] = 0;
        ++index[d - 1];
      }
    }
  }
  return covered;
}

void copyStridedToContiguous(const void *base, int64_t offset,
                             const int64_t *sizes, const int64_t *strides,
                             int rank, size_t elementSize, void *dst) {
  int64_t count = 1;
  for (int d = 0; d < rank; ++d)
    count *= sizes[d];
  if (count == 0)
    return;
  const auto *in = static_cast<const unsigned char *>(base);
  auto *out = static_cast<unsigned char *>(dst);

  // Fast path: already contiguous row-major.
  bool contiguous = true;
  int64_t expected = 1;
  for (int d = rank - 1; d >= 0; --d) {
    if (sizes[d] != 1 && strides[d] != expected)
      contiguous = false;
    expected *= sizes[d];
  }
  if (contiguous) {
    std::memcpy(out, in + offset * int64_t(elementSize),
                size_t(count) * elementSize);
    return;
  }

  // Odometer over the outer dimensions; the innermost dimension is copied
  // as one block when its stride is 1.
  const bool innerContiguous = strides[rank - 1] == 1;
  const int64_t block = innerContiguous ? sizes[rank - 1] : 1;
  const int outerRank = innerContiguous ? rank - 1 : rank;
  const size_t blockBytes = size_t(block) * elementSize;
  std::vector<int64_t> index(size_t(outerRank), 0);
  int64_t position = offset;
  for (int64_t i = 0; i < count / block; ++i) {
    std::memcpy(out + size_t(i) * blockBytes,
                in + position * int64_t(elementSize), blockBytes);
    for (int d = outerRank - 1; d >= 0; --d) {
      if (++index[d] < sizes[d]) {
        position += strides[d];
        break;
      }
      position -= strides[d] * (sizes[d] - 1);
      index[d] = 0;
    }
  }
}

void placeSegments(const void *src, void *dst, const SplitGeometry &g,
                   const Sharding &s, int tpSize, size_t elementSize) {
  const auto *in = static_cast<const unsigned char *>(src);
  auto *out = static_cast<unsigned char *>(dst);
  auto isReplicated = [&](size_t j) { return s.isSegmentReplicated(j); };
  for (int64_t r = 0; r < tpSize; ++r) {
    const std::vector<sharding::RowRun> runs =
        sharding::segmentRows(s.segments, isReplicated, tpSize, r);
    for (int64_t o = 0; o < g.outer; ++o)
      for (size_t j = 0; j < runs.size(); ++j) {
        if (isReplicated(j) && r != 0)
          continue; // every rank holds it; rank 0's copy was placed
        const sharding::RowRun &run = runs[j];
        std::memcpy(out + size_t((o * g.global + run.globalStart) * g.inner) *
                              elementSize,
                    in + size_t(((o * tpSize + r) * g.local + run.localStart) *
                                g.inner) *
                             elementSize,
                    size_t(run.count * g.inner) * elementSize);
      }
  }
}

void stripPadding(const void *src, void *dst, const SplitGeometry &g,
                  int tpSize, size_t elementSize) {
  const auto *in = static_cast<const unsigned char *>(src);
  auto *out = static_cast<unsigned char *>(dst);
  const int64_t padded = g.local * tpSize;
  const size_t keep = size_t(g.global * g.inner) * elementSize;
  for (int64_t o = 0; o < g.outer; ++o)
    std::memmove(out + size_t(o) * keep,
                 in + size_t(o * padded * g.inner) * elementSize, keep);
}

} // namespace tp::launch
