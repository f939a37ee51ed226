//===- ArgumentMemory.h - Where the model's buffers live --------*- C++ -*-===//
//
// The launcher prepares every argument on the host and hands the model a
// buffer from an ArgumentMemory; it reads results back through the same
// interface. The CPU target uses host memory directly (HostMemory). A GPU
// target implements this with device allocations and host<->device copies;
// the slicing and assembly code (HostLayout.h) stays the same.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_LAUNCH_ARGUMENTMEMORY_H
#define TP_RUNTIME_LAUNCH_ARGUMENTMEMORY_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace tp::launch {

class ArgumentMemory {
public:
  virtual ~ArgumentMemory() = default;

  /// "host", "cuda", ... for messages.
  virtual const char *name() const = 0;

  /// True if buffers from allocate() are host-addressable, so the launcher
  /// can fill them in place instead of staging and calling copyIn().
  virtual bool hostAccessible() const = 0;

  /// A buffer of at least `bytes` bytes (64-byte aligned) for an argument;
  /// null with `error` set on failure.
  virtual void *allocate(size_t bytes, std::string &error) = 0;

  /// Releases a buffer from allocate().
  virtual void release(void *buffer) = 0;

  /// Copies host memory into a buffer from allocate().
  virtual bool copyIn(void *buffer, const void *host, size_t bytes,
                      std::string &error) = 0;

  /// Copies `bytes` from memory the model returned (a result view) to host.
  virtual bool copyOut(void *host, const void *modelMemory, size_t bytes,
                       std::string &error) = 0;

  /// Frees a result buffer the model allocated (its descriptor's `allocated`
  /// pointer).
  virtual void freeModelBuffer(void *allocated) = 0;
};

/// Plain host memory: aligned_alloc for arguments, free() for the model's
/// result buffers (the CPU target's generated code allocates with malloc).
std::unique_ptr<ArgumentMemory> createHostMemory();

/// The GPU runtime's allocator and copies (libtp_runtime_nccl.so exports
/// them; tp-launch finds them with dlsym). All on the runtime's persistent
/// stream.
struct DeviceFunctions {
  void *(*memAlloc)(uint64_t bytes, void *stream, bool hostShared) = nullptr;
  void (*memFree)(void *pointer, void *stream) = nullptr;
  void (*memcpy)(void *dst, void *src, size_t bytes, void *stream) = nullptr;
  void (*sync)() = nullptr;
};

/// Device memory through those functions: mgpuMemAlloc for arguments,
/// mgpuMemFree for them and for the model's result buffers (which the GPU
/// target's generated code allocates with mgpuMemAlloc), and copies followed
/// by a wait for the stream.
std::unique_ptr<ArgumentMemory> createDeviceMemory(const DeviceFunctions &);

} // namespace tp::launch

#endif // TP_RUNTIME_LAUNCH_ARGUMENTMEMORY_H
