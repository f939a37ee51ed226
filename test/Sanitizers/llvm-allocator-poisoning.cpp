//===- llvm-allocator-poisoning.cpp - LLVM allocators under ASan ----------===//
//
// Part of tp-mlir.
//
// Our instrumented code and Debian's uninstrumented libLLVM share one
// BumpPtrAllocator: the inline Allocate (instrumented, from the header)
// starts a slab, then libLLVM's StringSaver::save allocates from it and our
// code reads the string. If the header code poisons the slab (an ASan build
// with LLVM's allocator annotations on), the library's allocation is never
// unpoisoned and ASan reports use-after-poison (see the top-level
// CMakeLists.txt). Prints "ok" when the access is clean.
//
//===----------------------------------------------------------------------===//

#include "llvm/Support/Allocator.h"
#include "llvm/Support/StringSaver.h"

#include <cstdio>

int main() {
  llvm::BumpPtrAllocator allocator;
  char *first = static_cast<char *>(allocator.Allocate(1, 1));
  *first = 'a';
  llvm::StringSaver saver(allocator);
  llvm::StringRef saved = saver.save("tp-mlir");
  volatile char c = saved[0];
  std::printf(c == 't' ? "ok\n" : "wrong\n");
  return 0;
}
