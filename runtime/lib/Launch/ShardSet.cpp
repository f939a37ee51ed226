//===- ShardSet.cpp - a result kept as each rank's shard ------------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "Launch/ShardSet.h"
#include "Common/DType.h"
#include "Launch/HostLayout.h"
#include "Launch/Json.h"
#include "tp/runtime/npy.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace tp::launch {

namespace {
const char kSuffix[] = ".shards";

bool endsWith(const std::string &text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}
} // namespace

bool isShardSetPath(const std::string &path) {
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/')
    trimmed.pop_back();
  return endsWith(trimmed, kSuffix) && trimmed.size() > sizeof(kSuffix) - 1;
}

std::string shardFilePath(const std::string &dir, int rank) {
  return dir + "/rank" + std::to_string(rank) + ".npy";
}

std::string shardDescriptorPath(const std::string &dir) {
  return dir + "/shards.json";
}

bool writesShardFile(const TensorSpec &spec, int rank) {
  return spec.sharding.kind == ShardKind::Split || rank == 0;
}

std::string formatShardDescriptor(const TensorSpec &spec, int64_t tpSize) {
  return "{\"format\": \"tp-shards\", \"version\": 1, \"tp_size\": " +
         std::to_string(tpSize) + ", \"tensor\": " + formatTensorSpec(spec) +
         "}\n";
}

bool parseShardDescriptor(std::string_view text, TensorSpec &spec,
                          int64_t &tpSize, std::string &error) {
  JsonValue root;
  std::string jsonError;
  if (!parseJson(text, root, jsonError)) {
    error = "malformed JSON: " + jsonError;
    return false;
  }
  using Kind = JsonValue::Kind;
  const JsonValue *format = root.find("format");
  if (root.kind != Kind::Object || !format || format->kind != Kind::String ||
      format->string != "tp-shards") {
    error = "not a tp-shards descriptor (expected \"format\": \"tp-shards\")";
    return false;
  }
  const JsonValue *version = root.find("version");
  if (!version || !version->isInteger || version->integer != 1) {
    error = "version: expected 1";
    return false;
  }
  const JsonValue *size = root.find("tp_size");
  if (!size || !size->isInteger || size->integer < 1 ||
      size->integer > 65536) {
    error = "tp_size: expected an integer in [1, 65536]";
    return false;
  }
  const JsonValue *tensor = root.find("tensor");
  if (!tensor) {
    error = "missing field \"tensor\"";
    return false;
  }
  TensorSpec parsed;
  if (!parseTensorSpec(*tensor, "tensor", size->integer, parsed, error))
    return false;
  if (parsed.sharding.kind == ShardKind::Partial) {
    error = "tensor.sharding: a shard set holds no partial tensor";
    return false;
  }
  spec = std::move(parsed);
  tpSize = size->integer;
  return true;
}

bool ShardSet::open(const std::string &path, std::string &error) {
  dir = path;
  while (dir.size() > 1 && dir.back() == '/')
    dir.pop_back();
  struct stat info;
  if (stat(dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    error = "not a shard set folder (" +
            std::string(stat(dir.c_str(), &info) != 0 ? std::strerror(errno)
                                                      : "not a folder") +
            ")";
    return false;
  }
  std::ifstream in(shardDescriptorPath(dir), std::ios::binary);
  if (!in) {
    error = "shard set without shards.json (written by tp-launch "
            "--output NAME.shards)";
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().size() > (1u << 20)) {
    error = "shards.json: larger than 1 MiB";
    return false;
  }
  if (!parseShardDescriptor(text.str(), spec, tpSize, error)) {
    error = "shards.json: " + error;
    return false;
  }
  return true;
}

bool ShardSet::matches(const TensorSpec &want, int64_t wantTpSize) const {
  if (want.dtype != spec.dtype || want.globalShape != spec.globalShape ||
      want.localShape != spec.localShape || !(want.sharding == spec.sharding))
    return false;
  // A replicated tensor is the same on any number of ranks.
  return wantTpSize == tpSize || spec.sharding.kind == ShardKind::Replicated;
}

std::string ShardSet::incompatibility(const TensorSpec &want) const {
  if (want.globalShape != spec.globalShape)
    return "the shard set holds a tensor of shape " +
           npy::formatShape(spec.globalShape) + ", expected " +
           npy::formatShape(want.globalShape);
  if (want.dtype != spec.dtype)
    return std::string("the shard set holds ") + rt::dtypeName(spec.dtype) +
           ", expected " + rt::dtypeName(want.dtype);
  return "";
}

bool ShardSet::readRankFile(int rank, std::vector<unsigned char> &data,
                            std::string &error) const {
  std::string path = shardFilePath(dir, rank);
  npy::Array array;
  if (!npy::read(path, array, error)) {
    error = "rank" + std::to_string(rank) + ".npy: " + error;
    return false;
  }
  if (array.shape != spec.localShape) {
    error = "rank" + std::to_string(rank) + ".npy: shape " +
            npy::formatShape(array.shape) + ", but shards.json says " +
            npy::formatShape(spec.localShape);
    return false;
  }
  // Half-precision parts are written as f32 (.npy has no bf16).
  bool widened = rt::isHalfDType(spec.dtype) && array.dtype == TP_F32;
  if (array.dtype != spec.dtype && !widened) {
    error = "rank" + std::to_string(rank) + ".npy: dtype " +
            rt::dtypeName(array.dtype) + ", but shards.json says " +
            rt::dtypeName(spec.dtype);
    return false;
  }
  if (!widened) {
    data = std::move(array.data);
    return true;
  }
  data.resize(size_t(spec.localElements()) * rt::dtypeSize(spec.dtype));
  return convertElements(array.data.data(), TP_F32, data.data(), spec.dtype,
                         spec.localElements());
}

bool ShardSet::assemble(std::vector<unsigned char> &whole,
                        std::string &error) const {
  const size_t elementSize = rt::dtypeSize(spec.dtype);
  if (spec.sharding.kind != ShardKind::Split)
    return readRankFile(0, whole, error);
  // Lay the parts out as an all_gather would: [outer][tp * L][inner].
  SplitGeometry g = splitGeometry(spec);
  const size_t part = size_t(g.local * g.inner) * elementSize;
  std::vector<unsigned char> gathered(size_t(g.outer * tpSize) * part);
  for (int r = 0; r < tpSize; ++r) {
    std::vector<unsigned char> data;
    if (!readRankFile(r, data, error))
      return false;
    for (int64_t o = 0; o < g.outer; ++o)
      std::memcpy(gathered.data() + (size_t(o * tpSize) + r) * part,
                  data.data() + size_t(o) * part, part);
  }
  whole.assign(size_t(spec.globalElements()) * elementSize, 0);
  if (spec.sharding.segments.empty())
    stripPadding(gathered.data(), whole.data(), g, int(tpSize), elementSize);
  else
    placeSegments(gathered.data(), whole.data(), g, spec.sharding,
                  int(tpSize), elementSize);
  return true;
}

bool ShardSet::readShard(const TensorSpec &want, int64_t wantTpSize, int rank,
                         void *dst, std::string &error) const {
  std::string why = incompatibility(want);
  if (!why.empty()) {
    error = why;
    return false;
  }
  std::vector<unsigned char> data;
  if (matches(want, wantTpSize)) {
    if (!readRankFile(spec.sharding.kind == ShardKind::Split ? rank : 0, data,
                      error))
      return false;
    std::memcpy(dst, data.data(), data.size());
    return true;
  }
  if (!assemble(data, error))
    return false;
  extractShard(data.data(), spec.dtype, want, rank, dst);
  return true;
}

} // namespace tp::launch
