//===- NpyTest.cpp - The .npy reader and writer ---------------------------===//

#include "tp/runtime/npy.h"
#include "TestUtil.h"

#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

using namespace tp;

namespace {

std::string directory;

std::string pathFor(const std::string &name) { return directory + "/" + name; }

void writeBytes(const std::string &path, const std::string &bytes) {
  FILE *f = std::fopen(path.c_str(), "wb");
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

std::string readBytes(const std::string &path) {
  std::string bytes;
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f)
    return bytes;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), f)) > 0)
    bytes.append(buffer, n);
  std::fclose(f);
  return bytes;
}

/// A hand-made .npy file: magic, version, header (padded to 64), data.
std::string makeNpy(int major, const std::string &dict,
                    const std::string &data) {
  size_t lengthBytes = major == 1 ? 2 : 4;
  std::string header = dict;
  size_t total = 8 + lengthBytes + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out = "\x93NUMPY";
  out += char(major);
  out += char(0);
  for (size_t i = 0; i < lengthBytes; ++i)
    out += char((header.size() >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string floats(std::initializer_list<float> values) {
  std::string s;
  for (float v : values)
    s.append(reinterpret_cast<const char *>(&v), sizeof(v));
  return s;
}

template <typename T>
void roundTrip(tp_dtype dtype, std::vector<int64_t> shape,
               std::vector<T> values) {
  test::context() = "round trip " + npy::formatShape(shape);
  std::string path = pathFor("roundtrip.npy"), error;
  TP_CHECK_MSG(npy::write(path, dtype, shape, values.data(), error), error);
  std::string bytes = readBytes(path);
  // Data starts at a multiple of 64, as numpy writes it.
  TP_CHECK((bytes.size() - values.size() * sizeof(T)) % 64 == 0);
  npy::Array array;
  TP_CHECK_MSG(npy::read(path, array, error), error);
  TP_CHECK(array.dtype == dtype);
  TP_CHECK(array.shape == shape);
  TP_CHECK(array.data.size() == values.size() * sizeof(T));
  TP_CHECK(values.empty() || std::memcmp(array.data.data(), values.data(),
                                         array.data.size()) == 0);
}

void expectReadError(const std::string &name, const std::string &bytes,
                     const char *part) {
  test::context() = name;
  std::string path = pathFor(name), error;
  writeBytes(path, bytes);
  npy::Array array;
  TP_CHECK(!npy::read(path, array, error));
  TP_CHECK_CONTAINS(error, part);
  npy::Header header;
  TP_CHECK(!npy::readHeader(path, header, error));
  TP_CHECK_CONTAINS(error, part);
}

} // namespace

int main(int argc, char **argv) {
  directory = argc > 1 ? argv[1] : ".";

  roundTrip<float>(TP_F32, {2, 3}, {1, 2, 3, 4, 5, -6.5f});
  roundTrip<double>(TP_F64, {4}, {1e300, -2, 0.5, 3});
  roundTrip<int32_t>(TP_I32, {}, {42});
  roundTrip<int64_t>(TP_I64, {1, 1, 3}, {INT64_MIN, 0, INT64_MAX});
  roundTrip<uint16_t>(TP_F16, {2}, {0x3c00, 0xc000});
  roundTrip<float>(TP_F32, {0, 3}, {});

  // Header text as numpy writes it.
  {
    test::context() = "header text";
    std::string error;
    std::vector<float> v = {1, 2, 3};
    TP_CHECK(npy::write(pathFor("text.npy"), TP_F32, {3}, v.data(), error));
    TP_CHECK_CONTAINS(
        readBytes(pathFor("text.npy")),
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }");
    TP_CHECK(!npy::write(pathFor("bf16.npy"), TP_BF16, {1}, v.data(), error));
    TP_CHECK_CONTAINS(error, "bf16 has no .npy representation");
    TP_CHECK(!npy::write(pathFor("no-such-dir/x.npy"), TP_F32, {1}, v.data(),
                         error));
    TP_CHECK_CONTAINS(error, "cannot create file: No such file or directory");
  }

  // Versions 2 and 3, an old 16-byte-aligned header, Python 2 longs.
  {
    const std::string dict =
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
    for (int major : {2, 3}) {
      test::context() = "version " + std::to_string(major);
      std::string path = pathFor("v" + std::to_string(major) + ".npy"), error;
      writeBytes(path, makeNpy(major, dict, floats({1.5f, -2})));
      npy::Array array;
      TP_CHECK_MSG(npy::read(path, array, error), error);
      npy::Header header;
      TP_CHECK(npy::readHeader(path, header, error) && header.version == major);
      TP_CHECK(array.shape == std::vector<int64_t>{2} &&
               std::memcmp(array.data.data(), floats({1.5f, -2}).data(), 8) ==
                   0);
    }
    test::context() = "old header";
    std::string old = "\x93NUMPY\x01";
    old += '\0';
    std::string text = "{\"descr\": \"<i8\", \"fortran_order\": False, "
                       "\"shape\": (1L, 2L)}   \n";
    old += char(text.size());
    old += '\0';
    old += text;
    old += std::string(16, '\0');
    writeBytes(pathFor("old.npy"), old);
    npy::Array array;
    std::string error;
    TP_CHECK_MSG(npy::read(pathFor("old.npy"), array, error), error);
    TP_CHECK(array.dtype == TP_I64 &&
             array.shape == (std::vector<int64_t>{1, 2}));
  }

  const std::string goodDict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }";
  expectReadError("truncated.npy", makeNpy(1, goodDict, floats({1, 2})),
                  "truncated data: shape [3] needs 12 bytes but the file "
                  "holds 8");
  expectReadError("trailing.npy", makeNpy(1, goodDict, floats({1, 2, 3, 4})),
                  "4 bytes after the data");
  expectReadError("truncated-header.npy",
                  makeNpy(1, goodDict, "").substr(0, 30),
                  "truncated .npy header");
  expectReadError("big-endian.npy",
                  makeNpy(1,
                          "{'descr': '>f4', 'fortran_order': False, "
                          "'shape': (1,), }",
                          floats({1})),
                  "big-endian data ('>f4') is not supported");
  expectReadError("fortran.npy",
                  makeNpy(1,
                          "{'descr': '<f4', 'fortran_order': True, "
                          "'shape': (1, 1), }",
                          floats({1})),
                  "Fortran-order arrays are not supported");
  expectReadError("object.npy",
                  makeNpy(1,
                          "{'descr': '|O', 'fortran_order': False, "
                          "'shape': (1,), }",
                          std::string(8, '\0')),
                  "object arrays ('|O') are not supported");
  expectReadError("uint16.npy",
                  makeNpy(1,
                          "{'descr': '<u2', 'fortran_order': False, "
                          "'shape': (1,), }",
                          std::string(2, '\0')),
                  "unsupported dtype '<u2'");
  expectReadError("structured.npy",
                  makeNpy(1,
                          "{'descr': [('a', '<f4')], 'fortran_order': "
                          "False, 'shape': (1,), }",
                          floats({1})),
                  "structured dtypes are not supported");
  expectReadError("no-shape.npy",
                  makeNpy(1, "{'descr': '<f4', 'fortran_order': False}", ""),
                  "header lacks the 'shape' key");
  expectReadError("bad-shape.npy",
                  makeNpy(1,
                          "{'descr': '<f4', 'fortran_order': False, "
                          "'shape': (-1,), }",
                          ""),
                  "'shape' is not a tuple");
  expectReadError("bad-magic.npy", "PK\x03\x04 this is a zip file",
                  "not a .npy file (bad magic)");
  expectReadError("version9.npy",
                  makeNpy(1, goodDict, "").replace(6, 1, "\x09"),
                  "unsupported .npy format version 9.0");

  {
    test::context() = "missing file";
    npy::Array array;
    std::string error;
    TP_CHECK(!npy::read(pathFor("does-not-exist.npy"), array, error));
    TP_CHECK_CONTAINS(error, "cannot open file: No such file or directory");
  }
  {
    test::context() = "parseHeader";
    std::string bytes = makeNpy(1, goodDict, "");
    npy::Header header;
    std::string error;
    TP_CHECK(npy::parseHeader(bytes.data(), bytes.size(), header, error));
    TP_CHECK(header.dataOffset == bytes.size() && header.dataOffset % 64 == 0 &&
             header.dataBytes == 12);
    TP_CHECK(npy::formatShape({}) == "[]" &&
             npy::formatShape({2, 3}) == "[2, 3]");
  }
  return test::testResult("npy");
}
