//===- SafetensorsFuzz.cpp - Fuzz harness for the .safetensors header -----===//
//
// Any bytes as a whole file: parseHeader must fail with a message, or give
// tensors whose byte ranges lie inside the data, match dtype x shape and do
// not overlap. Every tensor it accepts is then read as a replicated argument
// and, when its first dimension splits, as rank 1's shard of a split over 2
// ranks and of a split of its last dimension, from the fuzzed bytes
// themselves: ASan catches any read outside them.
//
//===----------------------------------------------------------------------===//

#include "Common/DType.h"
#include "Launch/Safetensors.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

using namespace tp::launch;
using namespace tp::launch::safetensors;

namespace {

void readAs(const unsigned char *dataSection, const TensorInfo &tensor,
            Sharding sharding, int64_t dim) {
  TensorSpec spec;
  spec.dtype = tensor.dtype;
  spec.globalShape = tensor.shape;
  spec.localShape = tensor.shape;
  spec.sharding = sharding;
  if (sharding.kind == ShardKind::Split) {
    if (tensor.shape.empty() || tensor.shape[size_t(dim)] % 2 != 0)
      return;
    spec.sharding.dim = dim;
    spec.localShape[size_t(dim)] /= 2;
  }
  int64_t local = spec.localElements();
  if (local < 0 || local > (1 << 20))
    return; // keep the harness fast
  std::vector<unsigned char> dst(size_t(local) * tp::rt::dtypeSize(spec.dtype) +
                                 1);
  uint64_t bytes = readShardFrom(dataSection, tensor, spec, 1, dst.data());
  if (bytes > tensor.end - tensor.begin)
    std::abort(); // a shard is never more than the tensor
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Header header;
  std::string error;
  if (!parseHeader(data, size, size, header, error)) {
    if (error.empty())
      std::abort(); // a failure must say why
    return 0;
  }
  if (header.dataOffset > size || header.dataBytes != size - header.dataOffset)
    std::abort();
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const TensorInfo &t : header.tensors) {
    uint64_t elements = 1;
    for (int64_t d : t.shape)
      elements *= uint64_t(d);
    if (t.begin > t.end || t.end > header.dataBytes ||
        t.end - t.begin != elements * t.elementSize)
      std::abort();
    if (t.end > t.begin)
      ranges.push_back({t.begin, t.end});
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second)
      std::abort();
  const unsigned char *dataSection = data + header.dataOffset;
  for (const TensorInfo &t : header.tensors) {
    if (!t.haveDType)
      continue;
    readAs(dataSection, t, Sharding(), 0);
    Sharding split;
    split.kind = ShardKind::Split;
    readAs(dataSection, t, split, 0);
    if (!t.shape.empty())
      readAs(dataSection, t, split, int64_t(t.shape.size()) - 1);
  }
  return 0;
}
