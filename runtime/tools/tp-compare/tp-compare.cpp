//===- tp-compare.cpp - compare two results within a tolerance ------------===//
//
// Part of tp-mlir.
//
//   tp-compare GOT REF [--tolerance T]
//
// GOT and REF are .npy files or shard sets (NAME.shards, as tp-launch writes
// sharded results). Prints the largest absolute difference and the relative
// error max|got - ref| / max|ref| (tp-run --check's measure), and exits 1
// when the relative error exceeds T (default 1e-5), 2 on bad usage or
// unreadable input. Used to compare a sharded loop (decode steps, training
// steps fed their own sharded results) with the unsharded one.
//
//===----------------------------------------------------------------------===//

#include "Launch/Compare.h"

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char **argv) {
  std::string paths[2];
  int count = 0;
  double tolerance = 1e-5;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::printf("usage: tp-compare GOT REF [--tolerance T]\n"
                  "GOT, REF: .npy files or shard sets (NAME.shards). Exits 1 "
                  "if max|got-ref|/max|ref| > T (default 1e-5).\n");
      return 0;
    }
    if (arg.rfind("--tolerance", 0) == 0) {
      std::string value;
      if (arg.size() > 11 && arg[11] == '=')
        value = arg.substr(12);
      else if (arg.size() == 11 && i + 1 < argc)
        value = argv[++i];
      char *end = nullptr;
      tolerance = std::strtod(value.c_str(), &end);
      if (value.empty() || *end || !(tolerance >= 0)) {
        std::fprintf(stderr, "tp-compare: --tolerance needs a number >= 0, "
                             "got '%s'\n",
                     value.c_str());
        return 2;
      }
      continue;
    }
    if (count == 2 || arg.empty() || (arg[0] == '-' && arg.size() > 1)) {
      std::fprintf(stderr, "usage: tp-compare GOT REF [--tolerance T]\n");
      return 2;
    }
    paths[count++] = arg;
  }
  if (count != 2) {
    std::fprintf(stderr, "usage: tp-compare GOT REF [--tolerance T]\n");
    return 2;
  }
  tp::npy::Array got, ref;
  std::string error;
  for (int k = 0; k < 2; ++k)
    if (!tp::launch::readWholeResult(paths[k], k ? ref : got, error)) {
      std::fprintf(stderr, "tp-compare: %s: %s\n", paths[k].c_str(),
                   error.c_str());
      return 2;
    }
  tp::launch::Comparison c;
  if (!tp::launch::compareArrays(got, ref, c, error)) {
    std::fprintf(stderr, "tp-compare: %s\n", error.c_str());
    return 1;
  }
  bool ok = c.relative() <= tolerance;
  std::printf("tp-compare: max abs error %.2e, relative error %.2e "
              "(tolerance %.1e): %s\n",
              c.maxAbs, c.relative(), tolerance, ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
