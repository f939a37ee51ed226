//===- UnitTest.cpp - Runtime pieces that need no MPI ---------------------===//
//
// f16 / bf16 conversion, block transposes, the JSON reader, manifest
// validation and the launcher's host-side slicing and assembly.
//
//===----------------------------------------------------------------------===//

#include "Common/DType.h"
#include "Common/Layout.h"
#include "Launch/HostLayout.h"
#include "Launch/Json.h"
#include "Launch/Manifest.h"
#include "Launch/ShardSet.h"
#include "TestUtil.h"
#include "tp/runtime/npy.h"
#include "tp/runtime/sharding.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <unistd.h>
#include <vector>

using namespace tp;
using namespace tp::launch;

namespace {

float fromBits(uint32_t u) { return rt::bitsToFloat(u); }

void testBf16() {
  test::context() = "bf16";
  TP_CHECK(rt::f32ToBf16(1.0f) == 0x3f80);
  TP_CHECK(rt::f32ToBf16(-2.0f) == 0xc000);
  TP_CHECK(rt::f32ToBf16(fromBits(0x3f808000)) == 0x3f80); // tie -> even
  TP_CHECK(rt::f32ToBf16(fromBits(0x3f818000)) == 0x3f82); // tie -> even
  TP_CHECK(rt::f32ToBf16(fromBits(0x3f808001)) == 0x3f81); // above the tie
  TP_CHECK(rt::f32ToBf16(INFINITY) == 0x7f80);
  TP_CHECK(rt::f32ToBf16(fromBits(0x7f7fffff)) == 0x7f80); // rounds to inf
  TP_CHECK(std::isnan(rt::bf16ToF32(rt::f32ToBf16(NAN))));
  TP_CHECK(std::isnan(rt::bf16ToF32(rt::f32ToBf16(fromBits(0x7f800001)))));
  int bad = 0;
  for (uint32_t h = 0; h < 0x10000; ++h) {
    float f = rt::bf16ToF32(uint16_t(h));
    if (std::isnan(f))
      bad += !std::isnan(rt::bf16ToF32(rt::f32ToBf16(f)));
    else
      bad += rt::f32ToBf16(f) != h;
  }
  TP_CHECK_MSG(bad == 0, std::to_string(bad) + " bf16 values do not round "
                                               "trip");
}

void testF16() {
  test::context() = "f16";
  TP_CHECK(rt::f32ToF16(1.0f) == 0x3c00);
  TP_CHECK(rt::f32ToF16(-2.0f) == 0xc000);
  TP_CHECK(rt::f32ToF16(65504.0f) == 0x7bff);
  TP_CHECK(rt::f32ToF16(65519.0f) == 0x7bff);
  TP_CHECK(rt::f32ToF16(65520.0f) == 0x7c00); // tie with inf -> inf
  TP_CHECK(rt::f32ToF16(-1e6f) == 0xfc00);
  TP_CHECK(rt::f32ToF16(1.0f + 0x1p-11f) == 0x3c00);     // tie -> even
  TP_CHECK(rt::f32ToF16(1.0f + 3 * 0x1p-11f) == 0x3c02); // tie -> even
  TP_CHECK(rt::f32ToF16(0x1p-14f) == 0x0400);            // smallest normal
  TP_CHECK(rt::f32ToF16(0x1p-24f) == 0x0001);            // smallest subnormal
  TP_CHECK(rt::f32ToF16(0x1p-25f) == 0x0000);            // tie -> even 0
  TP_CHECK(rt::f32ToF16(1.5f * 0x1p-25f) == 0x0001);
  TP_CHECK(rt::f32ToF16(3 * 0x1p-25f) == 0x0002);        // tie -> even
  TP_CHECK(rt::f32ToF16(0x1p-14f - 0x1p-25f) == 0x0400); // tie into normals
  TP_CHECK(rt::f32ToF16(-1e-9f) == 0x8000);
  TP_CHECK(rt::f16ToF32(0x0001) == 0x1p-24f);
  TP_CHECK(rt::f16ToF32(0x7c00) == INFINITY);
  TP_CHECK(rt::f16ToF32(0xfc00) == -INFINITY);
  TP_CHECK(std::isnan(rt::f16ToF32(rt::f32ToF16(NAN))));
  int bad = 0;
  for (uint32_t h = 0; h < 0x10000; ++h) {
    float f = rt::f16ToF32(uint16_t(h));
    if (std::isnan(f))
      bad += !std::isnan(rt::f16ToF32(rt::f32ToF16(f)));
    else
      bad += rt::f32ToF16(f) != h;
  }
  TP_CHECK_MSG(bad == 0, std::to_string(bad) + " f16 values do not round "
                                               "trip");
  // Every f32 between two adjacent halves rounds to the nearer one.
  bad = 0;
  for (uint32_t h = 0x0001; h < 0x7bff; h += 37) {
    float lo = rt::f16ToF32(uint16_t(h)), hi = rt::f16ToF32(uint16_t(h + 1));
    float quarter = lo + (hi - lo) / 4, threeQuarters = hi - (hi - lo) / 4;
    bad += rt::f32ToF16(quarter) != h;
    bad += rt::f32ToF16(threeQuarters) != h + 1;
  }
  TP_CHECK_MSG(bad == 0, std::to_string(bad) + " f16 roundings wrong");
}

void testDTypeNames() {
  test::context() = "dtype names";
  tp_dtype d;
  TP_CHECK(rt::parseDTypeName("bf16", d) && d == TP_BF16);
  TP_CHECK(rt::parseDTypeName("i64", d) && d == TP_I64);
  TP_CHECK(!rt::parseDTypeName("float32", d));
  tp_reduce_op op;
  TP_CHECK(rt::parseReduceOpName("max", op) && op == TP_MAX);
  TP_CHECK(!rt::parseReduceOpName("prod", op));
  TP_CHECK(rt::dtypeSize(TP_F16) == 2 && rt::dtypeSize(TP_I64) == 8);
  TP_CHECK(rt::dtypeSize(42) == 0);
}

void testTransposeBlocks() {
  test::context() = "transposeBlocks";
  // [2][3] blocks of 2 ints.
  int src[12], dst[12];
  for (int i = 0; i < 12; ++i)
    src[i] = i;
  rt::transposeBlocks(src, dst, 2, 3, 2 * sizeof(int));
  const int expected[12] = {0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11};
  TP_CHECK(std::memcmp(dst, expected, sizeof(dst)) == 0);
}

void testJson() {
  test::context() = "json";
  JsonValue v;
  std::string error;
  TP_CHECK(parseJson(R"( {"a": [1, -2.5e1, true, null], "b": "x\"\u00e9\n",
                          "c": {}, "d": 9007199254740993} )",
                     v, error));
  TP_CHECK(v.kind == JsonValue::Kind::Object && v.object.size() == 4);
  const JsonValue *a = v.find("a");
  TP_CHECK(a && a->array.size() == 4 && a->array[0].isInteger &&
           a->array[0].integer == 1 && !a->array[1].isInteger &&
           a->array[1].number == -25 && a->array[2].boolean &&
           a->array[3].kind == JsonValue::Kind::Null);
  TP_CHECK(v.find("b") && v.find("b")->string == "x\"\xc3\xa9\n");
  TP_CHECK(v.find("d")->integer == 9007199254740993LL);
  TP_CHECK(!v.find("zz"));

  auto expectError = [](const char *text, const char *part) {
    JsonValue value;
    std::string message;
    TP_CHECK_MSG(!parseJson(text, value, message), text);
    TP_CHECK_CONTAINS(message, part);
  };
  expectError("{\"a\": 1,\n \"b\" 2}", "line 2, column 6: expected ':'");
  expectError("{\"a\": [1, 2}", "expected ',' or ']'");
  expectError("{\"a\": 1} x", "unexpected text after");
  expectError("{\"a\": 01}", "expected ',' or '}'");
  expectError("{\"a\": \"abc", "unterminated string");
  expectError("{\"a\": 1, \"a\": 2}", "duplicate key \"a\"");
  expectError("[tru]", "invalid literal");
  expectError("", "unexpected end of input");
  expectError(std::string(100, '[').c_str(), "nesting deeper than 64");
  expectError("{\"a\": \"\\ud800\"}", "unpaired surrogate");
}

const char *exampleManifest = R"({"format": "tp-manifest", "version": 1,
  "entry": "mlp", "tp_size": 4, "target": "cpu",
  "args": [
    {"dtype": "f32", "global_shape": [64, 768], "local_shape": [64, 768],
     "sharding": {"kind": "replicated"}},
    {"dtype": "f32", "global_shape": [3072, 768], "local_shape": [768, 768],
     "sharding": {"kind": "split", "dim": 0}},
    {"dtype": "bf16", "global_shape": [10, 3], "local_shape": [10, 1],
     "sharding": {"kind": "split", "dim": 1}},
    {"dtype": "i64", "global_shape": [], "local_shape": [],
     "sharding": {"kind": "replicated"}}],
  "results": [
    {"dtype": "f32", "global_shape": [64, 768], "local_shape": [64, 768],
     "sharding": {"kind": "partial", "reduction": "sum"}}]})";

void testManifest() {
  test::context() = "manifest";
  Manifest m;
  std::string error;
  TP_CHECK_MSG(parseManifest(exampleManifest, m, error), error);
  TP_CHECK(m.entry == "mlp" && m.tpSize == 4 && m.target == "cpu");
  TP_CHECK(m.args.size() == 4 && m.results.size() == 1);
  TP_CHECK(m.args[1].sharding.kind == ShardKind::Split &&
           m.args[1].sharding.dim == 0);
  TP_CHECK(m.args[2].dtype == TP_BF16 && m.args[2].localElements() == 10);
  TP_CHECK(m.args[3].globalShape.empty() && m.args[3].localElements() == 1);
  TP_CHECK(m.results[0].sharding.kind == ShardKind::Partial &&
           m.results[0].sharding.reduction == TP_SUM);
  TP_CHECK(describeSharding(m.args[1].sharding) == "split(dim=0)");
  SplitGeometry g = splitGeometry(m.args[2]);
  TP_CHECK(g.outer == 10 && g.global == 3 && g.local == 1 && g.inner == 1);

  auto expectError = [](std::string text, const char *part) {
    Manifest manifest;
    std::string message;
    TP_CHECK_MSG(!parseManifest(text, manifest, message), text);
    TP_CHECK_CONTAINS(message, part);
  };
  auto replace = [](std::string text, const std::string &from,
                    const std::string &to) {
    size_t at = text.find(from);
    if (at == std::string::npos) {
      TP_CHECK_MSG(false, "test bug: '" + from + "' not in the manifest");
      return text;
    }
    return text.replace(at, from.size(), to);
  };
  std::string base = exampleManifest;
  expectError("{\"format\": \"tp-manifest\"", "malformed JSON: line 1");
  expectError(replace(base, "\"version\": 1", "\"version\": 3"),
              "unsupported manifest version 3");
  expectError(replace(base, "\"entry\": \"mlp\",", ""),
              "missing field \"entry\"");
  expectError(replace(base, "\"tp_size\": 4", "\"tp_size\": \"4\""),
              "tp_size: expected a number, got a string");
  expectError(replace(base, "\"tp_size\": 4", "\"tp_size\": 0"),
              "tp_size: must be at least 1");
  expectError(replace(base, "\"dtype\": \"bf16\"", "\"dtype\": \"f8\""),
              "args[2].dtype: unknown dtype \"f8\"");
  expectError(
      replace(base, "\"kind\": \"split\", \"dim\": 0", "\"kind\": \"split\""),
      "args[1].sharding: missing field \"dim\"");
  expectError(replace(base, "\"dim\": 1", "\"dim\": 2"),
              "args[2].sharding.dim: dim 2 is out of range");
  expectError(replace(base, "\"local_shape\": [768, 768]",
                      "\"local_shape\": [700, 768]"),
              "does not cover the global size 3072");
  expectError(replace(base, "\"local_shape\": [768, 768]",
                      "\"local_shape\": [768, 700]"),
              "differs from global_shape [3072, 768] outside the split dim 0");
  expectError(replace(base, "\"reduction\": \"sum\"", "\"reduction\": \"avg\""),
              "results[0].sharding.reduction: unknown reduction \"avg\"");
  expectError(replace(base, "\"kind\": \"partial\"", "\"kind\": \"tiled\""),
              "unknown sharding kind \"tiled\"");
  expectError(
      replace(base,
              "\"local_shape\": [64, 768],\n     \"sharding\": {\"kind\": "
              "\"replicated\"}",
              "\"local_shape\": [64, 700],\n     \"sharding\": {\"kind\": "
              "\"replicated\"}"),
      "args[0]: a replicated tensor must have local_shape == global_shape");
  expectError(replace(base, "\"global_shape\": [], \"local_shape\": []",
                      "\"global_shape\": [], \"local_shape\": [1]"),
              "have different ranks");
  expectError(replace(base, "\"global_shape\": [64, 768], \"local_shape\"",
                      "\"global_shape\": [64, -1], \"local_shape\""),
              "dimensions must be non-negative integers");
  expectError(
      replace(base, "\"format\": \"tp-manifest\"", "\"format\": \"other\""),
      "format: expected \"tp-manifest\"");
  expectError("[1]", "expected a JSON object, got an array");

  // Byte counts must not wrap: 2^62 f32 elements are 2^64 bytes, which a
  // size_t computation would turn into 0 (issue 14, defect 17).
  expectError(replace(base,
                      "\"global_shape\": [64, 768], \"local_shape\": [64, "
                      "768],\n     \"sharding\": {\"kind\": \"replicated\"}",
                      "\"global_shape\": [4611686018427387904], "
                      "\"local_shape\": [4611686018427387904],\n     "
                      "\"sharding\": {\"kind\": \"replicated\"}"),
              "args[0].global_shape: [4611686018427387904] of f32 is too "
              "large: its size in bytes does not fit in 64 bits");
  // One shard fits, all ranks' shards together (the gathered result) do not.
  expectError(replace(base,
                      "\"global_shape\": [3072, 768], \"local_shape\": "
                      "[768, 768]",
                      "\"global_shape\": [3072, 768], \"local_shape\": "
                      "[1152921504606846976, 1]"),
              "args[1].local_shape: [1152921504606846976, 1] of f32 is too "
              "large: the size in bytes of all ranks' shards together");

  // Segmented splits (fused projections): the segments must cover the
  // split dimension and each divide by the tp size.
  std::string segmented =
      replace(base, "\"sharding\": {\"kind\": \"split\", \"dim\": 0}",
              "\"sharding\": {\"kind\": \"split\", \"dim\": 0, "
              "\"segments\": [2048, 512, 512]}");
  Manifest withSegments;
  TP_CHECK_MSG(parseManifest(segmented, withSegments, error), error);
  TP_CHECK(withSegments.args[1].sharding.segments ==
           std::vector<int64_t>({2048, 512, 512}));
  TP_CHECK(describeSharding(withSegments.args[1].sharding) ==
           "split(dim=0, segments=[2048,512,512])");
  expectError(replace(segmented, "[2048, 512, 512]", "[2048, 512]"),
              "segments sum to 2560");
  expectError(replace(segmented, "[2048, 512, 512]", "[2048, 510, 514]"),
              "segment size 510 is not divisible by tp_size 4");
  expectError(replace(segmented, "[2048, 512, 512]", "[3072]"),
              "at least two segment sizes");
  expectError(replace(segmented, "[2048, 512, 512]", "[2048, 1536, -512]"),
              "segment sizes must be positive integers");
  // Replicated segments: each rank holds them whole.
  std::string mixed =
      replace(replace(segmented, "[2048, 512, 512]",
                      "[2560, 256, 256], \"replicated_segments\": [1, 2]"),
              "\"local_shape\": [768, 768]", "\"local_shape\": [1152, 768]");
  Manifest withReplicated;
  TP_CHECK_MSG(parseManifest(mixed, withReplicated, error), error);
  TP_CHECK(withReplicated.args[1].sharding.replicatedSegments ==
           std::vector<int64_t>({1, 2}));
  TP_CHECK(describeSharding(withReplicated.args[1].sharding) ==
           "split(dim=0, segments=[2560,256,256], replicated=[1,2])");
  expectError(replace(mixed, "[1, 2]", "[2, 1]"),
              "expected increasing indices of segments");
  expectError(replace(mixed, "[1, 2]", "[1]"), "hold 960 per rank");
  expectError(replace(mixed, "[1, 2]", "[0, 1, 2]"),
              "every segment is replicated");
}

TensorSpec makeSpec(tp_dtype dtype, std::vector<int64_t> global,
                    std::vector<int64_t> local, ShardKind kind,
                    int64_t dim = -1, tp_reduce_op reduction = TP_SUM) {
  TensorSpec s;
  s.dtype = dtype;
  s.globalShape = std::move(global);
  s.localShape = std::move(local);
  s.sharding.kind = kind;
  s.sharding.dim = dim;
  s.sharding.reduction = reduction;
  return s;
}

/// Gathers every rank's shard of the f32 tensor `full` (rank-major along the
/// split dimension, as tp_all_gather does), puts the segments back in order
/// and compares with `full`.
bool segmentsRoundTrip(const float *full, const TensorSpec &spec, int ranks) {
  SplitGeometry g = splitGeometry(spec);
  std::vector<float> shard(size_t(spec.localElements()));
  std::vector<float> gathered(size_t(g.outer * ranks * g.local * g.inner));
  for (int r = 0; r < ranks; ++r) {
    extractShard(full, TP_F32, spec, r, shard.data());
    for (int64_t o = 0; o < g.outer; ++o)
      std::memcpy(&gathered[size_t((o * ranks + r) * g.local * g.inner)],
                  &shard[size_t(o * g.local * g.inner)],
                  size_t(g.local * g.inner) * sizeof(float));
  }
  std::vector<float> restored(size_t(spec.globalElements()));
  placeSegments(gathered.data(), restored.data(), g, spec.sharding, ranks,
                sizeof(float));
  return std::memcmp(restored.data(), full, restored.size() * sizeof(float)) ==
         0;
}

void testHostLayout() {
  test::context() = "host layout";
  // [2][7] split on dim 1 over 3 ranks: L = 3, the last rank holds column 6
  // and two columns of padding.
  float full[14];
  for (int i = 0; i < 14; ++i)
    full[i] = float(i);
  TensorSpec split = makeSpec(TP_F32, {2, 7}, {2, 3}, ShardKind::Split, 1);
  float shard[6];
  extractShard(full, TP_F32, split, 2, shard);
  const float expected2[6] = {6, 0, 0, 13, 0, 0};
  TP_CHECK(std::memcmp(shard, expected2, sizeof(shard)) == 0);
  extractShard(full, TP_F32, split, 1, shard);
  const float expected1[6] = {3, 4, 5, 10, 11, 12};
  TP_CHECK(std::memcmp(shard, expected1, sizeof(shard)) == 0);

  // Gathered [2][9] -> [2][7].
  float gathered[18], stripped[14];
  for (int i = 0; i < 18; ++i)
    gathered[i] = float(i);
  stripPadding(gathered, stripped, splitGeometry(split), 3, sizeof(float));
  const float expectedStripped[14] = {0, 1,  2,  3,  4,  5,  6,
                                      9, 10, 11, 12, 13, 14, 15};
  TP_CHECK(std::memcmp(stripped, expectedStripped, sizeof(stripped)) == 0);

  // [2][12] split on dim 1 in segments [4, 4, 4] (Q, K, V) over 2 ranks:
  // rank 1 holds columns 2-3, 6-7, 10-11 of each row.
  float fused[24];
  for (int i = 0; i < 24; ++i)
    fused[i] = float(i);
  TensorSpec qkv = makeSpec(TP_F32, {2, 12}, {2, 6}, ShardKind::Split, 1);
  qkv.sharding.segments = {4, 4, 4};
  float mine[12];
  extractShard(fused, TP_F32, qkv, 1, mine);
  const float expectedMine[12] = {2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23};
  TP_CHECK(std::memcmp(mine, expectedMine, sizeof(mine)) == 0);
  TP_CHECK(segmentsRoundTrip(fused, qkv, 2));

  // Segments [4, 2, 2] with K and V replicated over 2 ranks (a fused GQA
  // projection with fewer KV heads than ranks): L = 2 + 2 + 2.
  float gqa[16];
  for (int i = 0; i < 16; ++i)
    gqa[i] = float(i);
  TensorSpec mixed = makeSpec(TP_F32, {2, 8}, {2, 6}, ShardKind::Split, 1);
  mixed.sharding.segments = {4, 2, 2};
  mixed.sharding.replicatedSegments = {1, 2};
  float part[12];
  extractShard(gqa, TP_F32, mixed, 1, part);
  const float expectedPart[12] = {2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15};
  TP_CHECK(std::memcmp(part, expectedPart, sizeof(part)) == 0);
  TP_CHECK(segmentsRoundTrip(gqa, mixed, 2));

  // f32 file -> bf16 argument, split on dim 0 of [5] over 2 ranks (L = 3).
  float values[5] = {1.5f, -2.0f, 3.25f, 100.0f, 0.1f};
  TensorSpec half = makeSpec(TP_BF16, {5}, {3}, ShardKind::Split, 0);
  uint16_t h[3];
  extractShard(values, TP_F32, half, 1, h);
  TP_CHECK(h[0] == rt::f32ToBf16(100.0f) && h[1] == rt::f32ToBf16(0.1f) &&
           h[2] == 0);

  // A rank that holds only padding: [5] split over 4 ranks with L = 2.
  TensorSpec sparse = makeSpec(TP_F32, {5}, {2}, ShardKind::Split, 0);
  float pair[2] = {7, 7};
  extractShard(values, TP_F32, sparse, 3, pair);
  TP_CHECK(pair[0] == 0 && pair[1] == 0);
  extractShard(values, TP_F32, sparse, 2, pair);
  TP_CHECK(pair[0] == 0.1f && pair[1] == 0);

  // Partial inputs: sum -> rank 0 holds the value, max -> everyone does.
  int32_t ints[3] = {4, 5, 6}, out[3] = {9, 9, 9};
  TensorSpec partialSum = makeSpec(TP_I32, {3}, {3}, ShardKind::Partial);
  extractShard(ints, TP_I32, partialSum, 1, out);
  TP_CHECK(out[0] == 0 && out[1] == 0 && out[2] == 0);
  extractShard(ints, TP_I32, partialSum, 0, out);
  TP_CHECK(out[0] == 4 && out[2] == 6);
  TensorSpec partialMax =
      makeSpec(TP_I32, {3}, {3}, ShardKind::Partial, -1, TP_MAX);
  out[0] = 0;
  extractShard(ints, TP_I32, partialMax, 3, out);
  TP_CHECK(out[0] == 4 && out[2] == 6);

  // Strided views: a transposed [3][2] view of a [2][3] buffer, and a
  // reversed 1-D view.
  int32_t base[6] = {0, 1, 2, 3, 4, 5}, copy[6];
  int64_t sizes[2] = {3, 2}, strides[2] = {1, 3};
  copyStridedToContiguous(base, 0, sizes, strides, 2, 4, copy);
  const int32_t transposed[6] = {0, 3, 1, 4, 2, 5};
  TP_CHECK(std::memcmp(copy, transposed, sizeof(copy)) == 0);
  int64_t size1[1] = {4}, stride1[1] = {-1};
  copyStridedToContiguous(base, 4, size1, stride1, 1, 4, copy);
  TP_CHECK(copy[0] == 4 && copy[1] == 3 && copy[2] == 2 && copy[3] == 1);
  int64_t sizes0[2] = {2, 2}, strides0[2] = {3, 1};
  copyStridedToContiguous(base, 1, sizes0, strides0, 2, 4, copy);
  TP_CHECK(copy[0] == 1 && copy[1] == 2 && copy[2] == 4 && copy[3] == 5);
  copyStridedToContiguous(base, 5, nullptr, nullptr, 0, 4, copy); // scalar
  TP_CHECK(copy[0] == 5);

  float widened[2];
  uint16_t halves[2] = {rt::f32ToF16(0.5f), rt::f32ToF16(-3.0f)};
  TP_CHECK(convertElements(halves, TP_F16, widened, TP_F32, 2));
  TP_CHECK(widened[0] == 0.5f && widened[1] == -3.0f);
  TP_CHECK(!convertElements(halves, TP_I32, widened, TP_F32, 2));
}

/// Writes rank r's part of the f32 tensor `full` for `spec` on `tpSize`
/// ranks into the shard set `dir`, as tp-launch does.
void writeShardSet(const std::string &dir, const TensorSpec &spec, int tpSize,
                   const std::vector<float> &full) {
  std::string mk = "mkdir -p " + dir;
  TP_CHECK(std::system(mk.c_str()) == 0);
  for (int r = 0; r < tpSize; ++r) {
    if (!writesShardFile(spec, r))
      continue;
    std::vector<float> part(size_t(spec.localElements()));
    extractShard(full.data(), TP_F32, spec, r, part.data());
    std::string error;
    TP_CHECK_MSG(npy::write(shardFilePath(dir, r), TP_F32, spec.localShape,
                            part.data(), error),
                 error);
  }
  std::ofstream(shardDescriptorPath(dir))
      << formatShardDescriptor(spec, tpSize);
}

void testShardSets() {
  test::context() = "shard sets";
  TP_CHECK(isShardSetPath("k.shards") && isShardSetPath("a/k.shards/"));
  TP_CHECK(!isShardSetPath(".shards") && !isShardSetPath("k.npy") &&
           !isShardSetPath("k.shards.npy"));
  char base[] = "/tmp/tp-shardset-XXXXXX";
  TP_CHECK(mkdtemp(base) != nullptr);
  std::string root = base;

  // [2][4][3] split on dim 1 over 2 ranks.
  std::vector<float> full(24);
  for (int i = 0; i < 24; ++i)
    full[i] = float(i);
  TensorSpec split =
      makeSpec(TP_F32, {2, 4, 3}, {2, 2, 3}, ShardKind::Split, 1);
  std::string dir = root + "/k.shards";
  writeShardSet(dir, split, 2, full);

  // The descriptor round-trips.
  TensorSpec parsed;
  int64_t tp = 0;
  std::string error;
  TP_CHECK_MSG(
      parseShardDescriptor(formatShardDescriptor(split, 2), parsed, tp, error),
      error);
  TP_CHECK(tp == 2 && parsed.globalShape == split.globalShape &&
           parsed.localShape == split.localShape &&
           parsed.sharding == split.sharding);

  ShardSet set;
  TP_CHECK_MSG(set.open(dir, error), error);
  TP_CHECK(set.matches(split, 2) && !set.matches(split, 4));
  // Same sharding: the rank's own part.
  std::vector<float> got(12), want(12);
  TP_CHECK_MSG(set.readShard(split, 2, 1, got.data(), error), error);
  extractShard(full.data(), TP_F32, split, 1, want.data());
  TP_CHECK(got == want);
  // Another tp size and another split: cut from the whole.
  TensorSpec four = makeSpec(TP_F32, {2, 4, 3}, {2, 1, 3}, ShardKind::Split, 1);
  std::vector<float> got4(6), want4(6);
  TP_CHECK_MSG(set.readShard(four, 4, 3, got4.data(), error), error);
  extractShard(full.data(), TP_F32, four, 3, want4.data());
  TP_CHECK(got4 == want4);
  TensorSpec rows = makeSpec(TP_F32, {2, 4, 3}, {1, 4, 3}, ShardKind::Split, 0);
  TP_CHECK_MSG(set.readShard(rows, 2, 1, got.data(), error), error);
  TP_CHECK(std::memcmp(got.data(), full.data() + 12, 12 * sizeof(float)) == 0);
  // The whole (the unsharded reference's input).
  std::vector<unsigned char> whole;
  TP_CHECK_MSG(set.assemble(whole, error), error);
  TP_CHECK(whole.size() == 96 &&
           std::memcmp(whole.data(), full.data(), 96) == 0);

  // A padded split ([5] over 2 ranks: 3 + 3 with one padding row) and a
  // segmented one ([2][8] in segments [4, 4] over 2 ranks) assemble back.
  std::vector<float> five = {1, 2, 3, 4, 5};
  TensorSpec padded = makeSpec(TP_F32, {5}, {3}, ShardKind::Split, 0);
  writeShardSet(root + "/p.shards", padded, 2, five);
  ShardSet pset;
  TP_CHECK_MSG(pset.open(root + "/p.shards", error), error);
  TP_CHECK_MSG(pset.assemble(whole, error), error);
  TP_CHECK(whole.size() == 20 &&
           std::memcmp(whole.data(), five.data(), 20) == 0);
  std::vector<float> fused(16);
  for (int i = 0; i < 16; ++i)
    fused[i] = float(i);
  TensorSpec seg = makeSpec(TP_F32, {2, 8}, {2, 4}, ShardKind::Split, 1);
  seg.sharding.segments = {4, 4};
  writeShardSet(root + "/s.shards", seg, 2, fused);
  ShardSet sset;
  TP_CHECK_MSG(sset.open(root + "/s.shards", error), error);
  TP_CHECK_MSG(sset.assemble(whole, error), error);
  TP_CHECK(std::memcmp(whole.data(), fused.data(), 64) == 0);

  // A replicated set has rank 0's file only and serves any tp size.
  TensorSpec repl =
      makeSpec(TP_F32, {2, 4, 3}, {2, 4, 3}, ShardKind::Replicated);
  writeShardSet(root + "/r.shards", repl, 4, full);
  TP_CHECK(access((root + "/r.shards/rank1.npy").c_str(), F_OK) != 0);
  ShardSet rset;
  TP_CHECK_MSG(rset.open(root + "/r.shards", error), error);
  TP_CHECK(rset.matches(repl, 2));
  TP_CHECK_MSG(rset.readShard(split, 2, 1, got.data(), error), error);
  extractShard(full.data(), TP_F32, split, 1, want.data());
  TP_CHECK(got == want);

  // Errors name what is wrong.
  ShardSet bad;
  TP_CHECK(!bad.open(root + "/missing.shards", error));
  TP_CHECK_CONTAINS(error, "not a shard set folder");
  TP_CHECK(std::system(("mkdir " + root + "/empty.shards").c_str()) == 0);
  TP_CHECK(!bad.open(root + "/empty.shards", error));
  TP_CHECK_CONTAINS(error, "without shards.json");
  std::ofstream(root + "/empty.shards/shards.json") << "{\"format\": 1";
  TP_CHECK(!bad.open(root + "/empty.shards", error));
  TP_CHECK_CONTAINS(error, "malformed JSON");
  TensorSpec partial = makeSpec(TP_F32, {2}, {2}, ShardKind::Partial);
  TP_CHECK(!parseShardDescriptor(formatShardDescriptor(partial, 2), parsed, tp,
                                 error));
  TP_CHECK_CONTAINS(error, "no partial tensor");
  TensorSpec other =
      makeSpec(TP_F32, {2, 4, 4}, {2, 2, 4}, ShardKind::Split, 1);
  TP_CHECK_CONTAINS(set.incompatibility(other),
                    "shape [2, 4, 3], expected [2, 4, 4]");
  TP_CHECK(!set.readShard(other, 2, 0, got.data(), error));
  TensorSpec ints = makeSpec(TP_I32, {2, 4, 3}, {2, 2, 3}, ShardKind::Split, 1);
  TP_CHECK_CONTAINS(set.incompatibility(ints), "holds f32, expected i32");
  // A part with the wrong shape.
  float two[2] = {0, 0};
  TP_CHECK(npy::write(shardFilePath(dir, 1), TP_F32, {2}, two, error));
  TP_CHECK(!set.readShard(split, 2, 1, got.data(), error));
  TP_CHECK_CONTAINS(error,
                    "rank1.npy: shape [2], but shards.json says [2, 2, 3]");
  TP_CHECK(!set.assemble(whole, error));
  std::system(("rm -rf " + root).c_str());
}
} // namespace

/// A packed input of 40 f32 elements cut into two pieces: argument 0, the
/// [4, 3] view at element 2 with strides [6, 2] (split on dim 1 over 3 ranks),
/// and argument 1, the [2, 4] rows at element 24 (split on dim 0 over 3
/// ranks: padded); argument 2 is a second input, whole.
const char *packedManifest = R"({"format": "tp-manifest", "version": 2,
  "entry": "f", "tp_size": 3, "target": "cpu",
  "args": [
    {"dtype": "f32", "global_shape": [4, 3], "local_shape": [4, 1],
     "sharding": {"kind": "split", "dim": 1}},
    {"dtype": "f32", "global_shape": [2, 4], "local_shape": [1, 4],
     "sharding": {"kind": "split", "dim": 0}},
    {"dtype": "i64", "global_shape": [2], "local_shape": [2],
     "sharding": {"kind": "replicated"}}],
  "results": [
    {"dtype": "f32", "global_shape": [2], "local_shape": [2],
     "sharding": {"kind": "replicated"}}],
  "inputs": [
    {"dtype": "f32", "shape": [40], "pieces": [
      {"arg": 0, "offset": 2, "strides": [6, 2]},
      {"arg": 1, "offset": 24, "strides": [4, 1]}]},
    {"dtype": "i64", "shape": [2], "arg": 2}]})";

void testPackedInputs() {
  test::context() = "packed inputs";
  Manifest m;
  std::string error;
  TP_CHECK_MSG(parseManifest(packedManifest, m, error), error);
  TP_CHECK(m.inputs.size() == 2 && m.inputs[0].isPacked() &&
           !m.inputs[1].isPacked() && m.hasPackedInputs());
  TP_CHECK(m.sourceOf(1) == std::make_pair(size_t(0), 1));
  TP_CHECK(m.sourceOf(2) == std::make_pair(size_t(1), -1));
  // A version 1 manifest: every argument whole, in order.
  Manifest plain;
  TP_CHECK_MSG(parseManifest(exampleManifest, plain, error), error);
  TP_CHECK(plain.inputs.size() == 4 && !plain.hasPackedInputs() &&
           plain.sourceOf(3) == std::make_pair(size_t(3), -1));

  // Each rank's shard of each piece, against the view element by element.
  float input[40];
  for (int i = 0; i < 40; ++i)
    input[i] = float(i);
  for (int rank = 0; rank < 3; ++rank) {
    float shard0[4], shard1[4];
    int64_t read0 =
        extractViewShard(input, TP_F32, 2, {6, 2}, m.args[0], rank, shard0);
    for (int i = 0; i < 4; ++i)
      TP_CHECK(shard0[i] == float(2 + 6 * i + 2 * rank));
    TP_CHECK(read0 == 4);
    int64_t read1 =
        extractViewShard(input, TP_F32, 24, {4, 1}, m.args[1], rank, shard1);
    for (int j = 0; j < 4; ++j)
      TP_CHECK(shard1[j] == (rank < 2 ? float(24 + 4 * rank + j) : 0.0f));
    TP_CHECK(read1 == (rank < 2 ? 4 : 0));
  }
  // bf16 arguments from f32 data, and a view whose rows wrap (a run that
  // crosses rows of the view).
  TensorSpec bf16 = makeSpec(TP_BF16, {2, 3}, {2, 3}, ShardKind::Replicated);
  uint16_t halves[6];
  TP_CHECK(extractViewShard(input, TP_F32, 1, {10, 3}, bf16, 0, halves) == 6);
  float back[6];
  TP_CHECK(convertElements(halves, TP_BF16, back, TP_F32, 6));
  const float expected[6] = {1, 4, 7, 11, 14, 17};
  TP_CHECK(std::memcmp(back, expected, sizeof(back)) == 0);

  auto expectError = [](std::string from, std::string to, const char *part) {
    std::string text = packedManifest;
    size_t at = text.find(from);
    TP_CHECK_MSG(at != std::string::npos, "test bug: " + from);
    text.replace(at, from.size(), to);
    Manifest manifest;
    std::string message;
    TP_CHECK_MSG(!parseManifest(text, manifest, message), text);
    TP_CHECK_CONTAINS(message, part);
  };
  expectError("\"offset\": 24", "\"offset\": 33",
              "inputs[0].pieces[1]: the view of argument 1 reaches outside "
              "the input's 40 elements");
  expectError("\"strides\": [6, 2]", "\"strides\": [6]",
              "inputs[0].pieces[0].strides: expected one stride per dimension");
  expectError("{\"arg\": 1, \"offset\"", "{\"arg\": 0, \"offset\"",
              "inputs[0].pieces[1].arg: argument 0 is fed twice");
  expectError("\"shape\": [2], \"arg\": 2", "\"shape\": [3], \"arg\": 2",
              "inputs[1]: differs from argument 2's dtype and global_shape");
  expectError(", \"arg\": 2}", ", \"arg\": 7}",
              "inputs[1].arg: argument index 7 is out of range");
  expectError("\"version\": 2", "\"version\": 1",
              "inputs: needs manifest version 2");
  expectError(",\n    {\"dtype\": \"i64\", \"shape\": [2], \"arg\": 2}", "",
              "inputs: argument 2 is fed by no input");
}

namespace {

/// The sharding arithmetic the compiler's local types and tp-launch's
/// shards share (tp/runtime/sharding.h), on every split kind the compiler
/// emits: even, padded (uneven=pad), padded in granules, segmented, and
/// segmented with replicated segments. Every case also checks that the
/// ranks' rows cover the dimension exactly once (replicated segments once
/// per rank).
struct SplitCase {
  const char *name;
  int64_t global, tpSize, granule;
  std::vector<int64_t> segments, replicated;
  int64_t local;                  // rows per rank
  std::vector<int64_t> firstRows; // rank r's first global row (plain)
  std::vector<int64_t> validRows; // rank r's rows that exist (plain)
};

void testShardingArithmetic() {
  using namespace tp::sharding;
  const std::vector<SplitCase> cases = {
      {"even", 12, 4, 1, {}, {}, 3, {0, 3, 6, 9}, {3, 3, 3, 3}},
      {"padded", 7, 4, 1, {}, {}, 2, {0, 2, 4, 6}, {2, 2, 2, 1}},
      {"padded, last ranks empty",
       5,
       4,
       1,
       {},
       {},
       2,
       {0, 2, 4, 6},
       {2, 2, 1, 0}},
      {"granule (12 heads of 64 on 8 ranks)",
       768,
       8,
       64,
       {},
       {},
       128,
       {0, 128, 256, 384, 512, 640, 768, 896},
       {128, 128, 128, 128, 128, 128, 0, 0}},
      {"granule, even",
       256,
       4,
       32,
       {},
       {},
       64,
       {0, 64, 128, 192},
       {64, 64, 64, 64}},
      {"segments (fused QKV)", 24, 2, 1, {8, 8, 8}, {}, 12, {}, {}},
      {"segments (GQA)", 32, 4, 1, {16, 8, 8}, {}, 8, {}, {}},
      {"segments, K and V replicated",
       32,
       4,
       1,
       {16, 8, 8},
       {1, 2},
       20,
       {},
       {}},
  };
  for (const SplitCase &c : cases) {
    test::context() = c.name;
    auto replicated = [&](size_t j) {
      return std::find(c.replicated.begin(), c.replicated.end(), int64_t(j)) !=
             c.replicated.end();
    };
    std::vector<int> held(size_t(c.global), 0);
    if (c.segments.empty()) {
      TP_CHECK(localExtent(c.global, c.tpSize, c.granule) == c.local);
      TP_CHECK(c.local * c.tpSize >= c.global && c.local % c.granule == 0);
      for (int64_t r = 0; r < c.tpSize; ++r) {
        RowRun run = splitRows(c.global, c.local, r);
        TP_CHECK(run.globalStart == c.firstRows[r] && run.localStart == 0 &&
                 run.count == c.validRows[r]);
        for (int64_t i = 0; i < run.count; ++i)
          ++held[size_t(run.globalStart + i)];
      }
    } else {
      TP_CHECK(segmentedLocalExtent(c.segments, replicated, c.tpSize) ==
               c.local);
      for (int64_t r = 0; r < c.tpSize; ++r) {
        std::vector<RowRun> runs =
            segmentRows(c.segments, replicated, c.tpSize, r);
        TP_CHECK(runs.size() == c.segments.size());
        int64_t localRows = 0, start = 0;
        for (size_t j = 0; j < runs.size(); ++j) {
          // Local rows follow one another in segment order; a split
          // segment's slice is rank r's r-th, a replicated one is whole.
          TP_CHECK(runs[j].localStart == localRows);
          int64_t slice =
              replicated(j) ? c.segments[j] : c.segments[j] / c.tpSize;
          TP_CHECK(runs[j].count == slice &&
                   localSegmentExtent(c.segments[j], replicated(j), c.tpSize) ==
                       slice);
          TP_CHECK(runs[j].globalStart ==
                   start + (replicated(j) ? 0 : r * slice));
          localRows += runs[j].count;
          start += c.segments[j];
          if (!replicated(j) || r == 0)
            for (int64_t i = 0; i < runs[j].count; ++i)
              ++held[size_t(runs[j].globalStart + i)];
        }
        TP_CHECK(localRows == c.local);
      }
    }
    TP_CHECK(
        std::all_of(held.begin(), held.end(), [](int n) { return n == 1; }));
  }
  test::context().clear();
}

} // namespace

int main() {
  testBf16();
  testF16();
  testDTypeNames();
  testTransposeBlocks();
  testJson();
  testManifest();
  testHostLayout();
  testPackedInputs();
  testShardSets();
  testShardingArithmetic();
  return test::testResult("runtime unit tests");
}
