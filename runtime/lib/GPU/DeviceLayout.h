//===- DeviceLayout.h - Pure helpers of the GPU runtime ---------*- C++ -*-===//
//
// The pieces of the GPU runtime that need no GPU, unit-tested on the host:
//  - the middle-dimension packing of all_gather / reduce_scatter as a list
//    of 2-D copies (one cudaMemcpy2DAsync each), the device counterpart of
//    Common/Layout.h's transposeBlocks;
//  - when mgpuStreamSynchronize must really wait (SyncPolicy);
//  - memref descriptor geometry for mgpuMemHostRegisterMemRef and
//    mgpuTensorMapEncodeTiledMemref.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_GPU_DEVICELAYOUT_H
#define TP_RUNTIME_GPU_DEVICELAYOUT_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tp::gpu {

/// One cudaMemcpy2DAsync: `height` rows of `width` bytes, rows `srcPitch` /
/// `dstPitch` bytes apart, at byte offsets into the source / destination.
struct Copy2D {
  size_t dstOffset = 0, dstPitch = 0;
  size_t srcOffset = 0, srcPitch = 0;
  size_t width = 0, height = 0;
};

/// all_gather with outer > 1: NCCL leaves [size][outer][chunk] in scratch;
/// these copies write dst [outer][size][chunk] (one copy per rank).
std::vector<Copy2D> gatherUnpackCopies(int64_t outer, int size, int64_t chunk,
                                       size_t elementSize);

/// reduce_scatter with outer > 1: src [outer][size][chunk] is packed into
/// scratch [size][outer][chunk] for NCCL (one copy per rank).
std::vector<Copy2D> scatterPackCopies(int64_t outer, int size, int64_t chunk,
                                      size_t elementSize);

/// Host emulation of a Copy2D (for tests).
void applyCopy2D(const Copy2D &copy, const void *src, void *dst);

/// Whether a synchronization of the persistent stream must really wait.
/// Everything the compiled code touches is device memory used in stream
/// order on the one stream, so the create/launch/sync/destroy sequence MLIR
/// emits around every kernel does not need the host to wait -- unless the
/// host can see the results: host-shared (managed) or host-registered
/// memory exists, or a copy from/to host memory was enqueued since the last
/// real wait. TP_STRICT_SYNC=1 makes every sync real.
class SyncPolicy {
public:
  explicit SyncPolicy(bool strict = false) : strict(strict) {}
  void hostVisibleMemoryAdded() { ++hostVisibleBuffers; }
  void hostVisibleMemoryRemoved() {
    if (hostVisibleBuffers > 0)
      --hostVisibleBuffers;
  }
  void hostTransferEnqueued() { pendingHostTransfer = true; }
  bool mustWait() const {
    return strict || hostVisibleBuffers > 0 || pendingHostTransfer;
  }
  void waited() { pendingHostTransfer = false; }
  bool strictSync() const { return strict; }
  bool hostVisible() const { return hostVisibleBuffers > 0; }

private:
  bool strict;
  int64_t hostVisibleBuffers = 0;
  bool pendingHostTransfer = false;
};

/// A strided memref descriptor {allocated, aligned, offset, sizes[rank],
/// strides[rank]} seen through its words.
struct MemRefView {
  char *allocated = nullptr;
  char *aligned = nullptr;
  int64_t offset = 0;
  std::vector<int64_t> sizes, strides;
};

MemRefView readMemRef(int64_t rank, const void *descriptor);

/// mgpuMemHostRegisterMemRef's region: the memref must be dense (row-major
/// strides); start = aligned + offset * elementBytes, bytes = elements *
/// elementBytes. False with `error` otherwise.
bool denseRegion(const MemRefView &memref, int64_t elementBytes, void *&start,
                 size_t &bytes, std::string &error);

/// cuTensorMapEncodeTiled's geometry for a memref, as MLIR's wrapper computes
/// it: dims innermost first, byte strides of all but the innermost dim, box
/// dims reversed. False for an unsupported rank (1..5) or data type.
struct TensorMapGeometry {
  uint64_t globalDim[5] = {1, 1, 1, 1, 1};
  uint64_t globalStrides[5] = {0, 0, 0, 0, 0};
  uint32_t boxDim[5] = {1, 1, 1, 1, 1};
  uint32_t elementStrides[5] = {1, 1, 1, 1, 1};
};
bool tensorMapGeometry(const MemRefView &memref, int64_t dataType,
                       const int64_t *boxDims, TensorMapGeometry &geometry,
                       std::string &error);

} // namespace tp::gpu

#endif // TP_RUNTIME_GPU_DEVICELAYOUT_H
