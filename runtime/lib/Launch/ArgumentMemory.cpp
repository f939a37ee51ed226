//===- ArgumentMemory.cpp - Host implementation ---------------------------===//

#include "Launch/ArgumentMemory.h"

#include <cstdlib>
#include <cstring>

namespace tp::launch {

namespace {

class HostMemory final : public ArgumentMemory {
public:
  const char *name() const override { return "host"; }
  bool hostAccessible() const override { return true; }

  void *allocate(size_t bytes, std::string &error) override {
    size_t rounded = (bytes + 63) / 64 * 64;
    void *buffer = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
    if (!buffer)
      error =
          "out of host memory allocating " + std::to_string(bytes) + " bytes";
    return buffer;
  }

  void release(void *buffer) override { std::free(buffer); }

  bool copyIn(void *buffer, const void *host, size_t bytes,
              std::string &) override {
    if (bytes)
      std::memcpy(buffer, host, bytes);
    return true;
  }

  bool copyOut(void *host, const void *modelMemory, size_t bytes,
               std::string &) override {
    if (bytes)
      std::memcpy(host, modelMemory, bytes);
    return true;
  }

  void freeModelBuffer(void *allocated) override { std::free(allocated); }
};

class DeviceMemory final : public ArgumentMemory {
public:
  explicit DeviceMemory(const DeviceFunctions &functions) : f(functions) {}
  const char *name() const override { return "cuda"; }
  bool hostAccessible() const override { return false; }

  void *allocate(size_t bytes, std::string &error) override {
    // Never 0 bytes: mgpuMemAlloc returns null for that.
    void *buffer = f.memAlloc(bytes == 0 ? 64 : bytes, nullptr, false);
    if (!buffer)
      error =
          "out of device memory allocating " + std::to_string(bytes) + " bytes";
    return buffer;
  }

  void release(void *buffer) override { f.memFree(buffer, nullptr); }

  bool copyIn(void *buffer, const void *host, size_t bytes,
              std::string &) override {
    if (bytes) {
      f.memcpy(buffer, const_cast<void *>(host), bytes, nullptr);
      f.sync(); // the staging buffer may go away after this
    }
    return true;
  }

  bool copyOut(void *host, const void *modelMemory, size_t bytes,
               std::string &) override {
    if (bytes) {
      f.memcpy(host, const_cast<void *>(modelMemory), bytes, nullptr);
      f.sync();
    }
    return true;
  }

  void freeModelBuffer(void *allocated) override {
    f.memFree(allocated, nullptr);
  }

private:
  DeviceFunctions f;
};

} // namespace

std::unique_ptr<ArgumentMemory> createHostMemory() {
  return std::make_unique<HostMemory>();
}

std::unique_ptr<ArgumentMemory>
createDeviceMemory(const DeviceFunctions &functions) {
  return std::make_unique<DeviceMemory>(functions);
}

} // namespace tp::launch
