//===- NpyFuzz.cpp - Fuzz harness for the .npy header parser --------------===//
//
// Any bytes: parseHeader must fail with a message or give a header whose
// numbers are consistent (data offset inside what it read, byte count equal
// to elements times element size). ASan and UBSan catch the rest.
//
//===----------------------------------------------------------------------===//

#include "Common/DType.h"
#include "tp/runtime/npy.h"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  tp::npy::Header header;
  std::string error;
  if (!tp::npy::parseHeader(data, size, header, error)) {
    if (error.empty())
      std::abort(); // a failure must say why
    return 0;
  }
  int64_t n = header.numElements();
  if (n < 0 || header.dataOffset > size ||
      header.dataBytes !=
          uint64_t(n) * uint64_t(tp::rt::dtypeSize(header.dtype)))
    std::abort();
  // What tp-launch prints in its messages.
  (void)tp::npy::formatShape(header.shape);
  return 0;
}
