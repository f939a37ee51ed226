//===- HostLayout.h - Host-side slicing and assembly of tensors -*- C++ -*-===//
//
// Everything the launcher does to tensor bytes on the host, independent of
// the collective backend: cutting a rank's shard out of a full input
// (converting f32 data to f16 / bf16 and zero-padding uneven splits), copying
// a strided result view to contiguous memory, and removing split padding from
// a gathered result.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_LAUNCH_HOSTLAYOUT_H
#define TP_RUNTIME_LAUNCH_HOSTLAYOUT_H

#include "Launch/Manifest.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tp::launch {

/// Converts `count` elements. Supports identical types (a copy), f32 -> f16 /
/// bf16 (round to nearest even) and f16 / bf16 -> f32. Returns false for any
/// other pair.
bool convertElements(const void *src, tp_dtype srcType, void *dst,
                     tp_dtype dstType, int64_t count);

/// A contiguous run of a rank's shard: `count` elements starting at element
/// `source` of the full tensor (row-major) go to element `target` of the
/// rank's local tensor.
struct ShardPiece {
  int64_t source = 0, target = 0, count = 0;
};

/// The runs extractShard copies for rank `rank`, in increasing `source`
/// order; local elements no run covers are zero (split padding, or the
/// zeros of a partial(sum) input on ranks other than 0). Their total count
/// is what a rank reads of the full tensor.
std::vector<ShardPiece> shardPieces(const TensorSpec &spec, int rank);

/// Writes rank `rank`'s local part of `spec` to dst (spec.localShape elements
/// of spec.dtype), reading the full tensor `full` (spec.globalShape elements
/// of `fullType`, either spec.dtype or f32 for f16 / bf16 arguments).
///  - replicated: the whole tensor;
///  - split(d): rows [rank*L, (rank+1)*L) of dim d; rows past the global size
///    are zero;
///  - split(d) with segments: rows [start + rank*s/p, start + (rank+1)*s/p)
///    of every segment (start, size s), one after the other; all of a
///    replicated segment;
///  - partial(sum): rank 0 gets the tensor, the others zeros (the sum over
///    ranks is the tensor); partial(max|min): every rank gets the tensor.
void extractShard(const void *full, tp_dtype fullType, const TensorSpec &spec,
                  int rank, void *dst);

/// extractShard for a tensor that is a strided view of `input` (a piece of a
/// packed input): the view starts at element `offset` of `input` and has
/// spec.globalShape and these element strides. Reads only the rank's shard
/// of the view; returns the number of elements read.
int64_t extractViewShard(const void *input, tp_dtype inputType, int64_t offset,
                         const std::vector<int64_t> &strides,
                         const TensorSpec &spec, int rank, void *dst);

/// Copies the strided view (base + offset, sizes, strides; in elements) to
/// contiguous row-major dst.
void copyStridedToContiguous(const void *base, int64_t offset,
                             const int64_t *sizes, const int64_t *strides,
                             int rank, size_t elementSize, void *dst);

/// dst = the whole tensor from the gathered parts of a segmented split:
/// src is [outer][tpSize * L][inner] (rank-major, each rank's L rows its
/// slices of every segment, or all of a replicated one), dst is
/// [outer][G][inner] in segment order.
void placeSegments(const void *src, void *dst, const SplitGeometry &geometry,
                   const Sharding &sharding, int tpSize, size_t elementSize);

/// dst = src with the split padding removed: src is the gathered
/// [outer][tpSize * L][inner], dst is [outer][G][inner].
void stripPadding(const void *src, void *dst, const SplitGeometry &geometry,
                  int tpSize, size_t elementSize);

} // namespace tp::launch

#endif // TP_RUNTIME_LAUNCH_HOSTLAYOUT_H
