//===- Mgpu.cpp - MLIR 22's mgpu* entry points over the CUDA driver
//--------===//
//
// The symbols MLIR's gpu-to-llvm lowering calls (signatures of LLVM 22's
// CudaRuntimeWrappers.cpp; Debian ships no libmlir_cuda_runtime), with two
// differences that make generated code cheap and ordered:
//  - mgpuStreamCreate returns the process's persistent stream and
//    mgpuStreamDestroy of it does nothing; every stream argument (also null)
//    means that stream, so kernels, cuBLASLt, NCCL and copies are ordered.
//  - mgpuStreamSynchronize on it waits only when the host could observe the
//    result (SyncPolicy in DeviceLayout.h; TP_STRICT_SYNC=1 always waits).
// Allocations are stream-ordered (cudaMallocAsync / cudaFreeAsync); host-
// shared ones are managed memory. Every status is checked (abort on error).
//
//===----------------------------------------------------------------------===//

#include "GPU/Cuda.h"

#include "tp/runtime/tp_runtime.h"

#include <mutex>
#include <unordered_set>
#include <utility>
#include <vector>

using namespace tp::gpu;

namespace {

std::mutex managedMutex;
std::unordered_set<void *> &managedAllocations() {
  static auto *set = new std::unordered_set<void *>;
  return *set;
}

/// Any stream argument maps to the persistent one.
CUstream ourStream(void *) { return stream(); }

bool isDeviceMemory(const void *p) {
  cudaPointerAttributes attributes;
  if (cudaPointerGetAttributes(&attributes, p) != cudaSuccess) {
    cudaGetLastError(); // clear it: plain host memory is not an error
    return false;
  }
  return attributes.type == cudaMemoryTypeDevice;
}

} // namespace

#define TP_MGPU extern "C" __attribute__((visibility("default")))

//===----------------------------------------------------------------------===//
// Modules and kernels
//===----------------------------------------------------------------------===//

TP_MGPU CUmodule mgpuModuleLoad(void *data, size_t /*gpuBlobSize*/) {
  ensureContext();
  CUmodule module = nullptr;
  checkCu(cuModuleLoadData(&module, data), "mgpuModuleLoad: cuModuleLoadData");
  return module;
}

TP_MGPU CUmodule mgpuModuleLoadJIT(void *data, int optLevel) {
  ensureContext();
  CUmodule module = nullptr;
  char errorLog[8192] = "";
  CUjit_option options[] = {CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                            CU_JIT_OPTIMIZATION_LEVEL};
  void *values[] = {errorLog, reinterpret_cast<void *>(sizeof(errorLog)),
                    reinterpret_cast<void *>(intptr_t(optLevel))};
  CUresult r = cuModuleLoadDataEx(&module, data, 3, options, values);
  if (r != CUDA_SUCCESS)
    fatal("mgpuModuleLoadJIT: cuModuleLoadDataEx: " + cuErrorText(r) +
          (errorLog[0] ? std::string("; JIT log: ") + errorLog : ""));
  return module;
}

TP_MGPU void mgpuModuleUnload(CUmodule module) {
  ensureContext();
  CUresult r = cuModuleUnload(module);
  // At process exit the driver may already be shut down: nothing to free.
  if (r != CUDA_ERROR_DEINITIALIZED)
    checkCu(r, "mgpuModuleUnload: cuModuleUnload");
}

TP_MGPU CUfunction mgpuModuleGetFunction(CUmodule module, const char *name) {
  ensureContext();
  CUfunction function = nullptr;
  CUresult r = cuModuleGetFunction(&function, module, name);
  if (r != CUDA_SUCCESS)
    fatal(std::string("mgpuModuleGetFunction: cuModuleGetFunction(\"") +
          (name ? name : "") + "\"): " + cuErrorText(r));
  return function;
}

namespace {
void allowSharedMemory(CUfunction function, int32_t smem) {
  if (smem <= 48 * 1024)
    return;
  checkCu(cuFuncSetAttribute(
              function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, smem),
          "mgpuLaunchKernel: cuFuncSetAttribute(max dynamic shared memory)");
}
} // namespace

TP_MGPU void mgpuLaunchKernel(CUfunction function, intptr_t gridX,
                              intptr_t gridY, intptr_t gridZ, intptr_t blockX,
                              intptr_t blockY, intptr_t blockZ, int32_t smem,
                              CUstream s, void **params, void **extra,
                              size_t /*paramsCount*/) {
  ensureContext();
  allowSharedMemory(function, smem);
  checkCu(cuLaunchKernel(function, unsigned(gridX), unsigned(gridY),
                         unsigned(gridZ), unsigned(blockX), unsigned(blockY),
                         unsigned(blockZ), unsigned(smem), ourStream(s), params,
                         extra),
          "mgpuLaunchKernel: cuLaunchKernel");
}

TP_MGPU void mgpuLaunchClusterKernel(CUfunction function, intptr_t clusterX,
                                     intptr_t clusterY, intptr_t clusterZ,
                                     intptr_t gridX, intptr_t gridY,
                                     intptr_t gridZ, intptr_t blockX,
                                     intptr_t blockY, intptr_t blockZ,
                                     int32_t smem, CUstream s, void **params,
                                     void **extra, size_t /*paramsCount*/) {
  ensureContext();
  allowSharedMemory(function, smem);
  CUlaunchAttribute attribute;
  attribute.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
  attribute.value.clusterDim.x = unsigned(clusterX);
  attribute.value.clusterDim.y = unsigned(clusterY);
  attribute.value.clusterDim.z = unsigned(clusterZ);
  CUlaunchConfig config = {};
  config.gridDimX = unsigned(gridX);
  config.gridDimY = unsigned(gridY);
  config.gridDimZ = unsigned(gridZ);
  config.blockDimX = unsigned(blockX);
  config.blockDimY = unsigned(blockY);
  config.blockDimZ = unsigned(blockZ);
  config.sharedMemBytes = unsigned(smem);
  config.hStream = ourStream(s);
  config.attrs = &attribute;
  config.numAttrs = 1;
  checkCu(cuFuncSetAttribute(
              function, CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED, 1),
          "mgpuLaunchClusterKernel: cuFuncSetAttribute");
  checkCu(cuLaunchKernelEx(&config, function, params, extra),
          "mgpuLaunchClusterKernel: cuLaunchKernelEx");
}

//===----------------------------------------------------------------------===//
// Streams and events
//===----------------------------------------------------------------------===//

TP_MGPU CUstream mgpuStreamCreate() {
  ensureContext();
  return stream();
}

TP_MGPU void mgpuStreamDestroy(CUstream s) {
  ensureContext();
  if (s && s != stream())
    checkCu(cuStreamDestroy(s), "mgpuStreamDestroy: cuStreamDestroy");
}

TP_MGPU void mgpuStreamSynchronize(CUstream s) {
  ensureContext();
  if (s && s != stream()) {
    checkCu(cuStreamSynchronize(s), "mgpuStreamSynchronize");
    return;
  }
  synchronizeStream(false, "mgpuStreamSynchronize: cuStreamSynchronize");
}

TP_MGPU void mgpuStreamWaitEvent(CUstream s, CUevent event) {
  ensureContext();
  checkCu(cuStreamWaitEvent(ourStream(s), event, 0),
          "mgpuStreamWaitEvent: cuStreamWaitEvent");
}

TP_MGPU CUevent mgpuEventCreate() {
  ensureContext();
  CUevent event = nullptr;
  checkCu(cuEventCreate(&event, CU_EVENT_DISABLE_TIMING),
          "mgpuEventCreate: cuEventCreate");
  return event;
}

TP_MGPU void mgpuEventDestroy(CUevent event) {
  ensureContext();
  checkCu(cuEventDestroy(event), "mgpuEventDestroy: cuEventDestroy");
}

TP_MGPU void mgpuEventSynchronize(CUevent event) {
  ensureContext();
  checkCu(cuEventSynchronize(event),
          "mgpuEventSynchronize: cuEventSynchronize");
  std::lock_guard<std::mutex> lock(syncMutex());
  syncPolicy().waited();
}

TP_MGPU void mgpuEventRecord(CUevent event, CUstream s) {
  ensureContext();
  checkCu(cuEventRecord(event, ourStream(s)), "mgpuEventRecord: cuEventRecord");
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

TP_MGPU void *mgpuMemAlloc(uint64_t sizeBytes, CUstream s, bool isHostShared) {
  ensureContext();
  if (sizeBytes == 0)
    return nullptr;
  void *p = nullptr;
  if (isHostShared && capturingHere()) {
    captureFailed("mgpuMemAlloc: managed (host-shared) memory inside a CUDA "
                  "graph capture");
    return nullptr;
  }
  if (isHostShared) {
    checkCuda(cudaMallocManaged(&p, sizeBytes, cudaMemAttachGlobal),
              "mgpuMemAlloc: cudaMallocManaged");
    std::lock_guard<std::mutex> lock(managedMutex);
    managedAllocations().insert(p);
    std::lock_guard<std::mutex> policyLock(syncMutex());
    syncPolicy().hostVisibleMemoryAdded();
    return p;
  }
  cudaError_t e = cudaMallocAsync(&p, sizeBytes,
                                  reinterpret_cast<cudaStream_t>(ourStream(s)));
  if (e != cudaSuccess)
    failOrAbsorb("mgpuMemAlloc: cudaMallocAsync(" + std::to_string(sizeBytes) +
                 " bytes): " + cudaGetErrorString(e));
  return p;
}

TP_MGPU void mgpuMemFree(void *ptr, CUstream s) {
  ensureContext();
  if (!ptr)
    return;
  bool managed;
  {
    std::lock_guard<std::mutex> lock(managedMutex);
    managed = managedAllocations().erase(ptr) > 0;
  }
  if (managed) {
    synchronizeStream(true, "mgpuMemFree: cuStreamSynchronize");
    checkCuda(cudaFree(ptr), "mgpuMemFree: cudaFree");
    std::lock_guard<std::mutex> lock(syncMutex());
    syncPolicy().hostVisibleMemoryRemoved();
    return;
  }
  checkCuda(cudaFreeAsync(ptr, reinterpret_cast<cudaStream_t>(ourStream(s))),
            "mgpuMemFree: cudaFreeAsync");
}

TP_MGPU void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, CUstream s) {
  ensureContext();
  if (sizeBytes == 0)
    return;
  if (!isDeviceMemory(dst) || !isDeviceMemory(src)) {
    // A graph would replay the copy from host memory that may have changed
    // (or is pageable, which capture refuses): not capturable.
    if (capturingHere())
      return captureFailed("mgpuMemcpy: a copy from or to host memory "
                           "inside a CUDA graph capture (a host constant "
                           "copied to the device on every call?)");
    std::lock_guard<std::mutex> lock(syncMutex());
    syncPolicy().hostTransferEnqueued();
  }
  checkCu(cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(dst),
                        reinterpret_cast<CUdeviceptr>(src), sizeBytes,
                        ourStream(s)),
          "mgpuMemcpy: cuMemcpyAsync");
}

namespace {
/// Fills `count` words of `dst` with `value` on the stream, through the
/// driver's cuMemsetD32Async or cuMemsetD16Async (`what` names the call).
template <typename Word>
void fillWords(CUresult (*memset)(CUdeviceptr, Word, size_t, CUstream),
               const char *what, void *dst, Word value, size_t count,
               CUstream s) {
  ensureContext();
  checkCu(
      memset(reinterpret_cast<CUdeviceptr>(dst), value, count, ourStream(s)),
      what);
}
} // namespace

TP_MGPU void mgpuMemset32(void *dst, unsigned int value, size_t count,
                          CUstream s) {
  fillWords(cuMemsetD32Async, "mgpuMemset32: cuMemsetD32Async", dst, value,
            count, s);
}

TP_MGPU void mgpuMemset16(void *dst, unsigned short value, size_t count,
                          CUstream s) {
  fillWords(cuMemsetD16Async, "mgpuMemset16: cuMemsetD16Async", dst, value,
            count, s);
}

TP_MGPU void mgpuMemHostRegister(void *ptr, uint64_t sizeBytes) {
  ensureContext();
  if (capturingHere())
    return captureFailed("mgpuMemHostRegister inside a CUDA graph capture");
  checkCu(cuMemHostRegister(ptr, sizeBytes, 0),
          "mgpuMemHostRegister: cuMemHostRegister");
  std::lock_guard<std::mutex> lock(syncMutex());
  syncPolicy().hostVisibleMemoryAdded();
}

TP_MGPU void mgpuMemHostUnregister(void *ptr) {
  ensureContext();
  synchronizeStream(true, "mgpuMemHostUnregister: cuStreamSynchronize");
  checkCu(cuMemHostUnregister(ptr),
          "mgpuMemHostUnregister: cuMemHostUnregister");
  std::lock_guard<std::mutex> lock(syncMutex());
  syncPolicy().hostVisibleMemoryRemoved();
}

namespace {
/// The bytes a memref descriptor covers (fatal, naming `fn`, when they are
/// not one dense region).
std::pair<void *, size_t> memRefRegion(const char *fn, int64_t rank,
                                       void *descriptor,
                                       int64_t elementSizeBytes) {
  void *start = nullptr;
  size_t bytes = 0;
  std::string error;
  if (!denseRegion(readMemRef(rank, descriptor), elementSizeBytes, start, bytes,
                   error))
    fatal(std::string(fn) + ": " + error);
  return {start, bytes};
}
} // namespace

TP_MGPU void mgpuMemHostRegisterMemRef(int64_t rank, void *descriptor,
                                       int64_t elementSizeBytes) {
  auto [start, bytes] = memRefRegion("mgpuMemHostRegisterMemRef", rank,
                                     descriptor, elementSizeBytes);
  mgpuMemHostRegister(start, bytes);
}

TP_MGPU void mgpuMemHostUnregisterMemRef(int64_t rank, void *descriptor,
                                         int64_t elementSizeBytes) {
  void *start = memRefRegion("mgpuMemHostUnregisterMemRef", rank, descriptor,
                             elementSizeBytes)
                    .first;
  mgpuMemHostUnregister(start);
}

TP_MGPU void mgpuSetDefaultDevice(int32_t device) { setDefaultDevice(device); }

//===----------------------------------------------------------------------===//
// TMA descriptors (nvgpu.tma.create.descriptor)
//===----------------------------------------------------------------------===//

TP_MGPU void *
mgpuTensorMapEncodeTiledMemref(int64_t tensorRank, void *descriptor,
                               int64_t dataType, int64_t interleave,
                               int64_t swizzle, int64_t l2Promotion,
                               int64_t oobFill, int64_t *inputBoxDims) {
  ensureContext();
  MemRefView memref = readMemRef(tensorRank, descriptor);
  TensorMapGeometry g;
  std::string error;
  if (!tensorMapGeometry(memref, dataType, inputBoxDims, g, error))
    fatal("mgpuTensorMapEncodeTiledMemref: " + error);
  CUtensorMap map;
  checkCu(cuTensorMapEncodeTiled(
              &map, CUtensorMapDataType(dataType), cuuint32_t(tensorRank),
              memref.aligned, g.globalDim, g.globalStrides, g.boxDim,
              g.elementStrides, CUtensorMapInterleave(interleave),
              CUtensorMapSwizzle(swizzle), CUtensorMapL2promotion(l2Promotion),
              CUtensorMapFloatOOBfill(oobFill)),
          "mgpuTensorMapEncodeTiledMemref: cuTensorMapEncodeTiled");
  // The kernel reads the map from device memory. It lives as long as the
  // process (MLIR's wrapper does the same).
  CUdeviceptr device = 0;
  checkCu(cuMemAlloc(&device, sizeof(map)),
          "mgpuTensorMapEncodeTiledMemref: cuMemAlloc");
  checkCu(cuMemcpyHtoDAsync(device, &map, sizeof(map), stream()),
          "mgpuTensorMapEncodeTiledMemref: cuMemcpyHtoDAsync");
  synchronizeStream(true, "mgpuTensorMapEncodeTiledMemref: sync");
  return reinterpret_cast<void *>(device);
}
