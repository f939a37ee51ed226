//===- Layout.cpp - Packing for middle-dimension collectives --------------===//

#include "Common/Layout.h"

#include <cstdlib>
#include <cstring>

namespace tp::rt {

void transposeBlocks(const void *src, void *dst, int64_t rows, int64_t cols,
                     size_t blockBytes) {
  const auto *in = static_cast<const unsigned char *>(src);
  auto *out = static_cast<unsigned char *>(dst);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      std::memcpy(out + (size_t(c) * size_t(rows) + size_t(r)) * blockBytes,
                  in + (size_t(r) * size_t(cols) + size_t(c)) * blockBytes,
                  blockBytes);
}

ScratchBuffer::~ScratchBuffer() { release(); }

void *ScratchBuffer::get(size_t bytes) {
  if (bytes <= capacity && data)
    return data;
  release();
  // 64-byte aligned; aligned_alloc wants a multiple of the alignment.
  size_t rounded = (bytes + 63) / 64 * 64;
  data = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  capacity = data ? rounded : 0;
  return data;
}

void ScratchBuffer::release() {
  std::free(data);
  data = nullptr;
  capacity = 0;
}

} // namespace tp::rt
