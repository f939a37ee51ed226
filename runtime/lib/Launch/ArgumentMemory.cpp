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

} // namespace

std::unique_ptr<ArgumentMemory> createHostMemory() {
  return std::make_unique<HostMemory>();
}

} // namespace tp::launch
