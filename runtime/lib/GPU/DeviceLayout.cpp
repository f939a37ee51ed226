//===- DeviceLayout.cpp - Pure helpers of the GPU runtime -----------------===//

#include "GPU/DeviceLayout.h"

#include <cstring>
#include <utility>

namespace tp::gpu {

std::vector<Copy2D> gatherUnpackCopies(int64_t outer, int size, int64_t chunk,
                                       size_t elementSize) {
  std::vector<Copy2D> copies;
  const size_t block = size_t(chunk) * elementSize;
  for (int r = 0; r < size; ++r) {
    Copy2D c;
    c.srcOffset = size_t(r) * size_t(outer) * block; // scratch[r][0][0]
    c.srcPitch = block;
    c.dstOffset = size_t(r) * block; // dst[0][r][0]
    c.dstPitch = size_t(size) * block;
    c.width = block;
    c.height = size_t(outer);
    copies.push_back(c);
  }
  return copies;
}

std::vector<Copy2D> scatterPackCopies(int64_t outer, int size, int64_t chunk,
                                      size_t elementSize) {
  // The packing undoes gatherUnpackCopies' unpacking: the same copies with
  // source and destination swapped (src[0][r][0] -> scratch[r][0][0]).
  std::vector<Copy2D> copies =
      gatherUnpackCopies(outer, size, chunk, elementSize);
  for (Copy2D &c : copies) {
    std::swap(c.srcOffset, c.dstOffset);
    std::swap(c.srcPitch, c.dstPitch);
  }
  return copies;
}

void applyCopy2D(const Copy2D &copy, const void *src, void *dst) {
  const auto *in = static_cast<const unsigned char *>(src) + copy.srcOffset;
  auto *out = static_cast<unsigned char *>(dst) + copy.dstOffset;
  for (size_t row = 0; row < copy.height; ++row)
    std::memcpy(out + row * copy.dstPitch, in + row * copy.srcPitch,
                copy.width);
}

MemRefView readMemRef(int64_t rank, const void *descriptor) {
  MemRefView view;
  const auto *words = static_cast<const int64_t *>(descriptor);
  view.allocated = reinterpret_cast<char *>(intptr_t(words[0]));
  view.aligned = reinterpret_cast<char *>(intptr_t(words[1]));
  view.offset = words[2];
  view.sizes.assign(words + 3, words + 3 + rank);
  view.strides.assign(words + 3 + rank, words + 3 + 2 * rank);
  return view;
}

bool denseRegion(const MemRefView &memref, int64_t elementBytes, void *&start,
                 size_t &bytes, std::string &error) {
  int64_t running = 1;
  for (size_t i = memref.sizes.size(); i-- > 0;) {
    if (memref.sizes[i] != 1 && memref.strides[i] != running) {
      error = "only dense row-major memrefs can be host-registered (dim " +
              std::to_string(i) + " has stride " +
              std::to_string(memref.strides[i]) + ", expected " +
              std::to_string(running) + ")";
      return false;
    }
    running *= memref.sizes[i];
  }
  start = memref.aligned + memref.offset * elementBytes;
  bytes = size_t(running) * size_t(elementBytes);
  return true;
}

bool tensorMapGeometry(const MemRefView &memref, int64_t dataType,
                       const int64_t *boxDims, TensorMapGeometry &geometry,
                       std::string &error) {
  // Element sizes of CUtensorMapDataType 0..12 (UINT8 ... TFLOAT32_FTZ).
  static constexpr int elementBytes[] = {1, 2, 4, 4, 8, 8, 2, 4, 8, 2, 4, 4, 4};
  const int64_t rank = int64_t(memref.sizes.size());
  if (rank < 1 || rank > 5) {
    error =
        "tensor maps need a memref of rank 1 to 5, got " + std::to_string(rank);
    return false;
  }
  if (dataType < 0 || dataType > 12) {
    error = "unsupported CUtensorMapDataType " + std::to_string(dataType);
    return false;
  }
  geometry = TensorMapGeometry();
  for (int64_t i = 0; i < rank; ++i)
    geometry.globalDim[i] = uint64_t(memref.sizes[rank - i - 1]);
  for (int64_t i = 0; i + 1 < rank; ++i)
    geometry.globalStrides[i] =
        uint64_t(memref.strides[rank - i - 2] * elementBytes[dataType]);
  for (int64_t i = 0; i < rank; ++i)
    geometry.boxDim[i] = uint32_t(boxDims[rank - i - 1]);
  return true;
}

} // namespace tp::gpu
