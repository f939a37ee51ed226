//===- FuzzDriver.cpp - Run a libFuzzer harness without libFuzzer ---------===//
//
// Links with one harness's LLVMFuzzerTestOneInput where libFuzzer is not
// available (gcc): runs every file of the corpus, then `--runs` inputs made
// by mutating them (bit flips, interesting bytes, insertions, deletions,
// duplicated ranges, splices of two entries), from a fixed seed so that a
// failure can be replayed. A crash is whatever the sanitizers abort on; the
// driver itself only counts.
//
//   tp_fuzz_X_driver [--runs N] [--seed S] [--max-len L] [--max-seconds T]
//                    CORPUS_DIR_OR_FILE...
//
// With clang, the same harness links with -fsanitize=fuzzer instead
// (scripts/fuzz.sh): coverage-guided and much longer.
//
//===----------------------------------------------------------------------===//

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <sys/stat.h>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

using Bytes = std::vector<uint8_t>;

void addFile(const std::string &path, std::vector<Bytes> &corpus) {
  std::ifstream in(path, std::ios::binary);
  corpus.emplace_back((std::istreambuf_iterator<char>(in)),
                      std::istreambuf_iterator<char>());
}

void addPath(const std::string &path, std::vector<Bytes> &corpus) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    std::fprintf(stderr, "fuzz driver: no such corpus '%s'\n", path.c_str());
    std::exit(2);
  }
  if (!S_ISDIR(info.st_mode)) {
    addFile(path, corpus);
    return;
  }
  DIR *dir = opendir(path.c_str());
  std::vector<std::string> names;
  while (dirent *entry = dir ? readdir(dir) : nullptr)
    if (entry->d_name[0] != '.')
      names.push_back(path + "/" + entry->d_name);
  if (dir)
    closedir(dir);
  std::sort(names.begin(), names.end()); // the same order everywhere
  for (const std::string &name : names)
    addFile(name, corpus);
}

const uint8_t interesting[] = {0,   1,   0x7f, 0x80, 0xff, '0', '9', '-',
                               '[', ']', '{',  '}',  '"',  ',', ':', '\\',
                               'e', '.', ' ',  '\n', 'T',  'P', 'R', 'V'};

void mutate(Bytes &data, const std::vector<Bytes> &corpus, std::mt19937_64 &rng,
            size_t maxLen) {
  auto pick = [&](size_t n) { return n ? size_t(rng() % n) : 0; };
  int steps = 1 + int(rng() % 4);
  for (int s = 0; s < steps; ++s) {
    switch (rng() % 7) {
    case 0: // flip a bit
      if (!data.empty())
        data[pick(data.size())] ^= uint8_t(1u << (rng() % 8));
      break;
    case 1: // an interesting byte
      if (!data.empty())
        data[pick(data.size())] = interesting[pick(sizeof(interesting))];
      break;
    case 2: { // insert random bytes
      size_t at = pick(data.size() + 1), n = 1 + pick(8);
      for (size_t i = 0; i < n; ++i)
        data.insert(data.begin() + long(at), uint8_t(rng()));
      break;
    }
    case 3: { // delete a range
      if (data.empty())
        break;
      size_t at = pick(data.size()), n = 1 + pick(data.size() - at);
      data.erase(data.begin() + long(at), data.begin() + long(at + n));
      break;
    }
    case 4: { // duplicate a range
      if (data.empty())
        break;
      size_t at = pick(data.size()), n = 1 + pick(data.size() - at);
      Bytes copy(data.begin() + long(at), data.begin() + long(at + n));
      data.insert(data.begin() + long(pick(data.size() + 1)), copy.begin(),
                  copy.end());
      break;
    }
    case 5: { // splice with another entry
      const Bytes &other = corpus[pick(corpus.size())];
      size_t cut = pick(data.size() + 1), from = pick(other.size() + 1);
      data.resize(cut);
      data.insert(data.end(), other.begin() + long(from), other.end());
      break;
    }
    default: // truncate
      data.resize(pick(data.size() + 1));
      break;
    }
  }
  if (data.size() > maxLen)
    data.resize(maxLen);
}

} // namespace

int main(int argc, char **argv) {
  long runs = 10000;
  unsigned long seed = 1;
  size_t maxLen = 1 << 16;
  double maxSeconds = 0;
  std::vector<Bytes> corpus;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> const char * {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "fuzz driver: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--runs")
      runs = std::atol(value());
    else if (arg == "--seed")
      seed = std::strtoul(value(), nullptr, 10);
    else if (arg == "--max-len")
      maxLen = size_t(std::atol(value()));
    else if (arg == "--max-seconds")
      maxSeconds = std::atof(value());
    else
      addPath(arg, corpus);
  }
  if (corpus.empty())
    corpus.emplace_back();
  for (const Bytes &entry : corpus)
    LLVMFuzzerTestOneInput(entry.data(), entry.size());
  std::mt19937_64 rng(seed);
  auto start = std::chrono::steady_clock::now();
  long done = 0;
  for (; done < runs; ++done) {
    if (maxSeconds > 0 && (done & 255) == 0 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
                .count() > maxSeconds)
      break;
    Bytes data = corpus[size_t(rng() % corpus.size())];
    mutate(data, corpus, rng, maxLen);
    LLVMFuzzerTestOneInput(data.data(), data.size());
  }
  std::printf("fuzz driver: %zu corpus entries and %ld mutated inputs (seed "
              "%lu), no crash\n",
              corpus.size(), done, seed);
  return 0;
}
