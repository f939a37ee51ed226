//===- ElfFuzz.cpp - Fuzz harness for the ELF manifest reader -------------===//
//
// Any bytes as a model file: readElfStringFromMemory fails with a message
// or returns a string that lies inside the file.
//
//===----------------------------------------------------------------------===//

#include "Launch/ElfManifest.h"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text, error;
  if (!tp::launch::readElfStringFromMemory(data, size, text, error)) {
    if (error.empty())
      std::abort();
    return 0;
  }
  if (text.size() >= size)
    std::abort();
  (void)tp::launch::manifestTarget(text);
  return 0;
}
