//===- SafetensorsTest.cpp - The .safetensors reader and writer -----------===//
//
// Round trips through the writer (names, dtypes, shapes, metadata), every
// malformed-file error with its message, the argument checks (dtype, shape),
// and per-shard reads: each rank's values and the number of bytes it read
// (its shard, never the whole tensor).
//
//===----------------------------------------------------------------------===//

#include "Launch/Safetensors.h"
#include "Common/DType.h"
#include "TestUtil.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <vector>

using namespace tp;
using namespace tp::launch;
using namespace tp::launch::safetensors;
using tp::test::contains;

namespace {

std::string directory;

std::string pathFor(const std::string &name) { return directory + "/" + name; }

void writeBytes(const std::string &path, const std::string &bytes) {
  FILE *f = std::fopen(path.c_str(), "wb");
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

/// A hand-made file: the 8-byte size of `json`, `json`, then `data`.
std::string makeFile(const std::string &json, const std::string &data) {
  std::string bytes(8, '\0');
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i)
    bytes[size_t(i)] = char((n >> (8 * i)) & 0xff);
  return bytes + json + data;
}

/// Opens a hand-made file; returns the error ("" on success).
std::string openError(const std::string &bytes) {
  std::string path = pathFor("case.safetensors");
  writeBytes(path, bytes);
  SafetensorsFile file;
  std::string error;
  if (file.open(path, error))
    return "";
  TP_CHECK_MSG(!error.empty(), "a failure without a message");
  return error;
}

void expectError(const std::string &bytes, const std::string &part) {
  std::string error = openError(bytes);
  TP_CHECK_MSG(contains(error, part),
               "got '" + error + "', wanted '" + part + "'");
}

bool writeFile(const std::string &path, const std::vector<TensorData> &tensors,
               const std::map<std::string, std::string> &metadata = {}) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::string error;
  bool ok = fd >= 0 && write(fd, tensors, metadata, error);
  TP_CHECK_MSG(ok, error);
  if (fd >= 0)
    ::close(fd);
  return ok;
}

TensorSpec spec(tp_dtype dtype, std::vector<int64_t> global,
                std::vector<int64_t> local, Sharding sharding = {}) {
  TensorSpec s;
  s.dtype = dtype;
  s.globalShape = std::move(global);
  s.localShape = std::move(local);
  s.sharding = std::move(sharding);
  return s;
}

Sharding split(int64_t dim) {
  Sharding s;
  s.kind = ShardKind::Split;
  s.dim = dim;
  return s;
}

void testRoundTrip() {
  std::vector<float> w(6 * 8);
  for (size_t i = 0; i < w.size(); ++i)
    w[i] = float(i) - 10.5f;
  std::vector<uint16_t> h = {rt::storeHalf(TP_BF16, 1.5f),
                             rt::storeHalf(TP_BF16, -2.0f)};
  std::vector<uint16_t> f16 = {rt::storeHalf(TP_F16, 0.25f)};
  std::vector<int64_t> ids = {7, -3, 1ll << 40};
  std::vector<int32_t> small = {5};
  std::vector<double> d = {3.25, 1e300};
  std::string path = pathFor("round.safetensors");
  writeFile(path,
            {{"model.w", TP_F32, {6, 8}, w.data()},
             {"h \"quoted\"", TP_BF16, {2}, h.data()},
             {"f16", TP_F16, {1, 1}, f16.data()},
             {"ids", TP_I64, {3}, ids.data()},
             {"scalar", TP_I32, {}, small.data()},
             {"d", TP_F64, {2}, d.data()},
             {"empty", TP_F32, {0, 4}, nullptr}},
            {{"format", "pt"}, {"note", "a\nb"}});
  SafetensorsFile file;
  std::string error;
  TP_CHECK_MSG(file.open(path, error), error);
  const Header &header = file.header();
  TP_CHECK(header.tensors.size() == 7);
  TP_CHECK(header.dataOffset % 8 == 0); // the writer pads the header
  TP_CHECK(header.metadata.size() == 2 &&
           header.metadata.at("format") == "pt" &&
           header.metadata.at("note") == "a\nb");
  struct Want {
    const char *name, *dtypeName;
    tp_dtype dtype;
    std::vector<int64_t> shape;
  };
  for (const Want &want :
       std::vector<Want>{{"model.w", "F32", TP_F32, {6, 8}},
                         {"h \"quoted\"", "BF16", TP_BF16, {2}},
                         {"f16", "F16", TP_F16, {1, 1}},
                         {"ids", "I64", TP_I64, {3}},
                         {"scalar", "I32", TP_I32, {}},
                         {"d", "F64", TP_F64, {2}},
                         {"empty", "F32", TP_F32, {0, 4}}}) {
    const TensorInfo *t = header.find(want.name);
    TP_CHECK_MSG(t != nullptr, want.name);
    if (!t)
      continue;
    TP_CHECK_MSG(t->dtypeName == want.dtypeName && t->haveDType &&
                     t->dtype == want.dtype && t->shape == want.shape,
                 want.name);
  }
  TP_CHECK(header.find("missing") == nullptr);
  // Values come back through a replicated read.
  const TensorInfo *t = header.find("ids");
  std::vector<int64_t> got(3);
  TP_CHECK(file.readShard(*t, spec(TP_I64, {3}, {3}), 0, got.data()) == 24);
  TP_CHECK(got == ids);
  t = header.find("h \"quoted\"");
  std::vector<uint16_t> gotH(2);
  TP_CHECK(file.readShard(*t, spec(TP_BF16, {2}, {2}), 0, gotH.data()) == 4);
  TP_CHECK(gotH == h);
  t = header.find("d");
  std::vector<double> gotD(2);
  file.readShard(*t, spec(TP_F64, {2}, {2}), 0, gotD.data());
  TP_CHECK(gotD == d);
}

void testMalformed() {
  const std::string ok =
      R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string data(8, '\0');
  TP_CHECK(openError(makeFile(ok, data)).empty());
  // Spaces after the JSON are allowed (writers pad to 8 bytes).
  TP_CHECK(openError(makeFile(ok + "   ", data)).empty());
  // A hole before the data is allowed, as long as nothing overlaps.
  TP_CHECK(
      openError(
          makeFile(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                   std::string(16, '\0')))
          .empty());

  expectError("", "truncated file: 0 bytes, less than the 8-byte header");
  expectError("abc", "truncated file: 3 bytes");
  expectError(makeFile(ok, data).substr(0, 20), "truncated header: it needs");
  expectError(makeFile(ok, data).substr(0, 8 + ok.size() + 4),
              "go past the end of the data (4 bytes; is the file truncated?)");
  std::string huge = makeFile(ok, data);
  huge[7] = 1; // 2^56 bytes of header
  expectError(huge, "is larger than the limit of 104857600 bytes");
  expectError(makeFile("[1, 2]", ""), "not a JSON object (it must start");
  expectError(makeFile("", ""), "not a JSON object");
  expectError(makeFile(R"({"w": )", ""), "malformed JSON header: line 1");
  expectError(makeFile(R"({"w":{"dtype":"F32","shape":[2]}})", data),
              "tensor 'w': missing field \"data_offsets\"");
  expectError(makeFile(R"({"w":{"shape":[2],"data_offsets":[0,8]}})", data),
              "tensor 'w': missing field \"dtype\"");
  expectError(makeFile(R"({"w":{"dtype":"F32","data_offsets":[0,8]}})", data),
              "tensor 'w': missing field \"shape\"");
  expectError(makeFile(R"({"w":3})", data),
              "tensor 'w': expected an object, got a number");
  expectError(
      makeFile(R"({"w":{"dtype":"F24","shape":[2],"data_offsets":[0,8]}})",
               data),
      "tensor 'w': unknown dtype 'F24'");
  expectError(
      makeFile(R"({"w":{"dtype":7,"shape":[2],"data_offsets":[0,8]}})", data),
      "tensor 'w': \"dtype\" must be a string");
  expectError(
      makeFile(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})",
               data),
      "\"shape\" must hold non-negative integers");
  expectError(
      makeFile(R"({"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}})",
               data),
      "\"shape\" must hold non-negative integers");
  expectError(
      makeFile(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", data),
      "\"data_offsets\" must be [begin, end]");
  expectError(
      makeFile(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})",
               data),
      "data_offsets [8, 0] end before they begin");
  expectError(
      makeFile(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})",
               data),
      "data_offsets [0, 8] hold 8 bytes, but F32 [3] needs 12");
  expectError(makeFile(R"({"w":{"dtype":"F32","shape":[4294967296,)"
                       R"(4294967296],"data_offsets":[0,8]}})",
                       data),
              "is too large");
  expectError(
      makeFile(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
               R"("v":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
               std::string(12, '\0')),
      "tensors 'w' and 'v' overlap (data_offsets [0, 8] and [4, 12])");
  expectError(
      makeFile(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
               R"("w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
               data),
      "duplicate key \"w\"");
  expectError(makeFile(R"({"__metadata__":{"a":1}})", ""),
              "\"__metadata__\" entry 'a' must be a string");
  expectError(makeFile(R"({"__metadata__":[]})", ""),
              "\"__metadata__\" must be an object of strings");
  std::string missing;
  SafetensorsFile file;
  TP_CHECK(!file.open(pathFor("no-such.safetensors"), missing));
  TP_CHECK_MSG(contains(missing, "cannot open file: No such file"), missing);
  TP_CHECK(!file.open(directory, missing));
  TP_CHECK_MSG(contains(missing, "not a regular file"), missing);
}

void testCheckTensor() {
  TensorInfo t;
  t.name = "w";
  t.dtypeName = "BF16";
  t.haveDType = true;
  t.dtype = TP_BF16;
  t.elementSize = 2;
  t.shape = {4, 8};
  std::string error;
  TP_CHECK(checkTensor(t, spec(TP_BF16, {4, 8}, {2, 8}, split(0)), "argument 2",
                       error));
  TP_CHECK(!checkTensor(t, spec(TP_F32, {4, 8}, {4, 8}), "argument 2", error));
  TP_CHECK_MSG(error == "argument 2: tensor 'w' has dtype BF16, but the "
                        "argument is f32 (F32)",
               error);
  TP_CHECK(!checkTensor(t, spec(TP_BF16, {8, 4}, {8, 4}), "argument 2", error));
  TP_CHECK_MSG(error == "argument 2: tensor 'w' has shape [4, 8], but the "
                        "argument is [8, 4]",
               error);
  // F32 data feeds f16 / bf16 arguments; nothing else converts.
  t.dtypeName = "F32";
  t.dtype = TP_F32;
  t.elementSize = 4;
  TP_CHECK(checkTensor(t, spec(TP_F16, {4, 8}, {4, 8}), "a", error));
  TP_CHECK(!checkTensor(t, spec(TP_F64, {4, 8}, {4, 8}), "a", error));
  t.dtypeName = "I8";
  t.haveDType = false;
  t.elementSize = 1;
  TP_CHECK(!checkTensor(t, spec(TP_F32, {4, 8}, {4, 8}), "a", error));
  TP_CHECK_MSG(contains(error, "has dtype I8, but the argument is f32"), error);
}

void testShardReads() {
  // w[6][8] = 100 * row + column; a [5][8] tensor for uneven rows.
  std::vector<float> w(6 * 8), u(5 * 8);
  for (int r = 0; r < 6; ++r)
    for (int c = 0; c < 8; ++c)
      w[size_t(r * 8 + c)] = float(100 * r + c);
  for (size_t i = 0; i < u.size(); ++i)
    u[i] = w[i];
  std::string path = pathFor("shards.safetensors");
  writeFile(path,
            {{"u", TP_F32, {5, 8}, u.data()}, {"w", TP_F32, {6, 8}, w.data()}});
  SafetensorsFile file;
  std::string error;
  TP_CHECK_MSG(file.open(path, error), error);
  const TensorInfo &tw = *file.header().find("w");
  const TensorInfo &tu = *file.header().find("u");
  const uint64_t whole = 6 * 8 * 4;
  for (int rank = 0; rank < 2; ++rank) {
    tp::test::context() = "rank " + std::to_string(rank);
    // Rows: one contiguous run of half the bytes.
    std::vector<float> rows(3 * 8);
    TP_CHECK(file.readShard(tw, spec(TP_F32, {6, 8}, {3, 8}, split(0)), rank,
                            rows.data()) == whole / 2);
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 8; ++c)
        TP_CHECK(rows[size_t(r * 8 + c)] == float(100 * (rank * 3 + r) + c));
    // Columns: six strided runs, still half the bytes.
    std::vector<float> cols(6 * 4);
    TP_CHECK(file.readShard(tw, spec(TP_F32, {6, 8}, {6, 4}, split(1)), rank,
                            cols.data()) == whole / 2);
    for (int r = 0; r < 6; ++r)
      for (int c = 0; c < 4; ++c)
        TP_CHECK(cols[size_t(r * 4 + c)] == float(100 * r + rank * 4 + c));
    // Replicated: the whole tensor, on every rank.
    std::vector<float> all(6 * 8);
    TP_CHECK(file.readShard(tw, spec(TP_F32, {6, 8}, {6, 8}), rank,
                            all.data()) == whole);
    TP_CHECK(all == w);
    // Partial(sum): rank 0 reads it, the others read nothing (zeros).
    Sharding partial;
    partial.kind = ShardKind::Partial;
    std::vector<float> part(6 * 8, 7.0f);
    TP_CHECK(file.readShard(tw, spec(TP_F32, {6, 8}, {6, 8}, partial), rank,
                            part.data()) == (rank == 0 ? whole : 0));
    TP_CHECK(rank == 0 ? part == w : part == std::vector<float>(48, 0.0f));
    // Uneven rows (5 over 2 ranks of 3): rank 1 reads 2 rows, pads 1.
    std::vector<float> padded(3 * 8, 7.0f);
    TP_CHECK(file.readShard(tu, spec(TP_F32, {5, 8}, {3, 8}, split(0)), rank,
                            padded.data()) == uint64_t(rank == 0 ? 3 : 2) * 32);
    TP_CHECK(padded[23] == (rank == 0 ? u[23] : 0.0f));
    // F32 data into a bf16 argument: converted, the bytes read are F32's.
    std::vector<uint16_t> half(6 * 4);
    TP_CHECK(file.readShard(tw, spec(TP_BF16, {6, 8}, {6, 4}, split(1)), rank,
                            half.data()) == whole / 2);
    TP_CHECK(rt::loadHalf(TP_BF16, half.data(), 5) ==
             float(100 * 1 + rank * 4 + 1));
  }
  tp::test::context().clear();
  // Four ranks of a fused [3 * 4, 2] weight (segments): each reads 1/4.
  std::vector<float> fused(12 * 2);
  for (size_t i = 0; i < fused.size(); ++i)
    fused[i] = float(i);
  std::string fusedPath = pathFor("fused.safetensors");
  writeFile(fusedPath, {{"qkv", TP_F32, {12, 2}, fused.data()}});
  SafetensorsFile fusedFile;
  TP_CHECK_MSG(fusedFile.open(fusedPath, error), error);
  Sharding segments = split(0);
  segments.segments = {4, 4, 4};
  for (int rank = 0; rank < 4; ++rank) {
    std::vector<float> local(3 * 2);
    TP_CHECK(fusedFile.readShard(*fusedFile.header().find("qkv"),
                                 spec(TP_F32, {12, 2}, {3, 2}, segments), rank,
                                 local.data()) == 3 * 2 * 4);
    TP_CHECK(local[0] == float(2 * rank) && local[2] == float(8 + 2 * rank) &&
             local[4] == float(16 + 2 * rank));
  }
}

} // namespace

int main(int argc, char **argv) {
  directory = argc > 1 ? argv[1] : ".";
  testRoundTrip();
  testMalformed();
  testCheckTensor();
  testShardReads();
  return tp::test::testResult("safetensors tests");
}
