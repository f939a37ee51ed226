//===- Layout.h - Packing for middle-dimension collectives ------*- C++ -*-===//
//
// Communication libraries gather and scatter along the outermost dimension
// only. tp_all_gather / tp_reduce_scatter work along a middle dimension
// ([outer][size][chunk]), so backends pack through a scratch buffer with the
// block transpose below when outer > 1.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_COMMON_LAYOUT_H
#define TP_RUNTIME_COMMON_LAYOUT_H

#include <cstddef>
#include <cstdint>

namespace tp::rt {

/// src is a row-major [rows][cols] matrix of blocks of `blockBytes` bytes;
/// writes its transpose, [cols][rows], to dst. src and dst must not overlap.
///   all_gather:     scratch [size][outer] -> dst [outer][size]
///   reduce_scatter: src [outer][size]     -> scratch [size][outer]
void transposeBlocks(const void *src, void *dst, int64_t rows, int64_t cols,
                     size_t blockBytes);

/// A growable host buffer reused across collectives (never shrinks).
class ScratchBuffer {
public:
  ScratchBuffer() = default;
  ScratchBuffer(const ScratchBuffer &) = delete;
  ScratchBuffer &operator=(const ScratchBuffer &) = delete;
  ~ScratchBuffer();
  /// Returns at least `bytes` bytes, or null if allocation failed.
  void *get(size_t bytes);
  void release();

private:
  void *data = nullptr;
  size_t capacity = 0;
};

} // namespace tp::rt

#endif // TP_RUNTIME_COMMON_LAYOUT_H
