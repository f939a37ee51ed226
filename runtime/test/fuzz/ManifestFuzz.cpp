//===- ManifestFuzz.cpp - Fuzz harness for the JSON manifest reader -------===//
//
// Any text: parseManifest fails with a message, or every tensor it accepts
// has byte counts that fit int64 (also for all ranks' shards together), a
// split geometry that matches its local shape, and small tensors can be cut
// into every rank's shard and put back (extractShard, stripPadding,
// placeSegments) without touching memory outside their buffers.
//
//===----------------------------------------------------------------------===//

#include "Common/DType.h"
#include "Launch/HostLayout.h"
#include "Launch/Json.h"
#include "Launch/Manifest.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace tp::launch;

namespace {

void checkTensor(const TensorSpec &spec, int64_t tpSize) {
  int64_t local = spec.localElements(), global = spec.globalElements(), bytes;
  if (local < 0 || global < 0 ||
      __builtin_mul_overflow(local, int64_t(tp::rt::dtypeSize(spec.dtype)),
                             &bytes) ||
      __builtin_mul_overflow(bytes, tpSize, &bytes))
    std::abort(); // validation let a wrapping size through
  SplitGeometry g = splitGeometry(spec);
  if (g.outer * g.local * g.inner != local)
    std::abort();
  // Small tensors: cut and reassemble for real.
  if (global > 4096 || local > 4096 || tpSize > 16)
    return;
  size_t element = tp::rt::dtypeSize(spec.dtype);
  std::vector<unsigned char> full(size_t(global) * element + 1, 0x5a);
  std::vector<unsigned char> gathered(size_t(local * tpSize) * element + 1);
  for (int r = 0; r < int(tpSize); ++r)
    extractShard(full.data(), spec.dtype, spec, r,
                 gathered.data() + size_t(r) * size_t(local) * element);
  if (spec.sharding.kind != ShardKind::Split)
    return;
  std::vector<unsigned char> back(size_t(global) * element + 1);
  if (spec.sharding.segments.empty())
    stripPadding(gathered.data(), back.data(), g, int(tpSize), element);
  else
    placeSegments(gathered.data(), back.data(), g, spec.sharding, int(tpSize),
                  element);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  JsonValue value;
  std::string error;
  if (!parseJson(text, value, error) && error.empty())
    std::abort();
  Manifest manifest;
  error.clear();
  if (!parseManifest(text, manifest, error)) {
    if (error.empty())
      std::abort();
    return 0;
  }
  for (const TensorSpec &spec : manifest.args)
    checkTensor(spec, manifest.tpSize);
  for (const TensorSpec &spec : manifest.results)
    checkTensor(spec, manifest.tpSize);
  return 0;
}
