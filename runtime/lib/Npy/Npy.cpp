//===- Npy.cpp - Reading and writing NumPy .npy files ---------------------===//
//
// Format (numpy/lib/format.py documents it): the magic "\x93NUMPY", a major and
// minor version byte, the header length (uint16 little-endian for 1.x, uint32
// for 2.x / 3.x), then a Python dict literal padded with spaces and ended by
// '\n', e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }.
// The data follows, and the header is padded so that it starts at a multiple
// of 64 bytes (16 in old files; we accept any offset).
//
//===----------------------------------------------------------------------===//

#include "tp/runtime/npy.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tp::npy {

namespace {

constexpr char magic[] = "\x93NUMPY";
constexpr size_t magicSize = 6;

size_t elementSize(tp_dtype dtype) {
  switch (dtype) {
  case TP_F16:
  case TP_BF16:
    return 2;
  case TP_F32:
  case TP_I32:
    return 4;
  default:
    return 8;
  }
}

const char *descrOf(tp_dtype dtype) {
  switch (dtype) {
  case TP_F16:
    return "<f2";
  case TP_F32:
    return "<f4";
  case TP_F64:
    return "<f8";
  case TP_I32:
    return "<i4";
  case TP_I64:
    return "<i8";
  default:
    return nullptr;
  }
}

/// Maps a descr string such as '<f4' to a dtype, explaining rejections.
bool parseDescr(const std::string &descr, tp_dtype &dtype, std::string &error) {
  if (descr.size() < 2) {
    error = "unsupported dtype '" + descr + "'";
    return false;
  }
  char order = descr[0];
  std::string kind = descr.substr(1);
  if (kind == "O") {
    error = "object arrays ('" + descr + "') are not supported";
    return false;
  }
  if (order == '>' && kind != "i1" && kind != "u1" && kind != "b1") {
    error = "big-endian data ('" + descr +
            "') is not supported; save the array as little-endian "
            "(arr.astype(arr.dtype.newbyteorder('<')))";
    return false;
  }
  if (order == '<' || order == '=' || order == '|') {
    static const struct {
      const char *kind;
      tp_dtype dtype;
    } known[] = {{"f2", TP_F16},
                 {"f4", TP_F32},
                 {"f8", TP_F64},
                 {"i4", TP_I32},
                 {"i8", TP_I64}};
    for (const auto &k : known) {
      if (kind == k.kind) {
        dtype = k.dtype;
        return true;
      }
    }
  }
  error = "unsupported dtype '" + descr +
          "' (supported: little-endian f2, f4, f8, i4, i8)";
  return false;
}

/// Parser for the Python dict literal of a .npy header.
class HeaderParser {
public:
  explicit HeaderParser(std::string_view text) : text(text) {}

  bool parse(Header &header, std::string &error) {
    bool haveDescr = false, haveOrder = false, haveShape = false;
    bool fortran = false;
    std::string descr;
    skipSpace();
    if (!consume('{'))
      return fail("header is not a dict", error);
    for (;;) {
      skipSpace();
      if (consume('}'))
        break;
      std::string key;
      if (!parseString(key))
        return fail("expected a quoted key in the header dict", error);
      skipSpace();
      if (!consume(':'))
        return fail("expected ':' after '" + key + "' in the header", error);
      skipSpace();
      if (key == "descr") {
        if (peek() == '[')
          return fail("structured dtypes are not supported", error);
        if (!parseString(descr))
          return fail("'descr' is not a string", error);
        haveDescr = true;
      } else if (key == "fortran_order") {
        if (!parseBool(fortran))
          return fail("'fortran_order' is not True or False", error);
        haveOrder = true;
      } else if (key == "shape") {
        if (!parseShape(header.shape))
          return fail("'shape' is not a tuple of non-negative integers", error);
        haveShape = true;
      } else {
        return fail("unexpected key '" + key + "' in the header", error);
      }
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (consume('}'))
        break;
      return fail("expected ',' or '}' in the header dict", error);
    }
    if (!haveDescr || !haveOrder || !haveShape)
      return fail(std::string("header lacks the '") +
                      (!haveDescr   ? "descr"
                       : !haveOrder ? "fortran_order"
                                    : "shape") +
                      "' key",
                  error);
    if (fortran) {
      error = "Fortran-order arrays are not supported; save a C-contiguous "
              "array (np.ascontiguousarray)";
      return false;
    }
    if (!parseDescr(descr, header.dtype, error))
      return false;
    if (numElements(header.shape) < 0)
      return fail("shape " + formatShape(header.shape) + " is too large",
                  error);
    return true;
  }

private:
  std::string_view text;
  size_t pos = 0;

  bool fail(const std::string &message, std::string &error) {
    error = "malformed .npy header: " + message;
    return false;
  }
  char peek() const { return pos < text.size() ? text[pos] : '\0'; }
  bool consume(char c) {
    if (peek() != c)
      return false;
    ++pos;
    return true;
  }
  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' ||
                                 text[pos] == '\n' || text[pos] == '\r'))
      ++pos;
  }
  bool parseString(std::string &out) {
    char quote = peek();
    if (quote != '\'' && quote != '"')
      return false;
    size_t end = text.find(quote, pos + 1);
    if (end == std::string_view::npos)
      return false;
    out = std::string(text.substr(pos + 1, end - pos - 1));
    pos = end + 1;
    return true;
  }
  bool parseBool(bool &out) {
    if (text.substr(pos, 4) == "True") {
      pos += 4;
      out = true;
      return true;
    }
    if (text.substr(pos, 5) == "False") {
      pos += 5;
      out = false;
      return true;
    }
    return false;
  }
  bool parseShape(std::vector<int64_t> &shape) {
    shape.clear();
    if (!consume('('))
      return false;
    for (;;) {
      skipSpace();
      if (consume(')'))
        return true;
      if (peek() < '0' || peek() > '9')
        return false;
      int64_t value = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (__builtin_mul_overflow(value, 10, &value) ||
            __builtin_add_overflow(value, peek() - '0', &value))
          return false;
        ++pos;
      }
      consume('L'); // Python 2 longs in old files
      shape.push_back(value);
      skipSpace();
      if (consume(','))
        continue;
      skipSpace();
      if (!consume(')'))
        return false;
      return true;
    }
  }
};

struct FileCloser {
  void operator()(FILE *f) const {
    if (f)
      std::fclose(f);
  }
};
using File = std::unique_ptr<FILE, FileCloser>;

uint32_t readLittleEndian(const unsigned char *p, int bytes) {
  uint32_t value = 0;
  for (int i = bytes - 1; i >= 0; --i)
    value = (value << 8) | p[i];
  return value;
}

/// Opens `path` and parses its header; leaves the stream anywhere.
bool openAndParse(const std::string &path, File &file, Header &header,
                  uint64_t &fileSize, std::string &error) {
  file.reset(std::fopen(path.c_str(), "rb"));
  if (!file) {
    error = std::string("cannot open file: ") + std::strerror(errno);
    return false;
  }
  struct stat info;
  if (fstat(fileno(file.get()), &info) != 0 || !S_ISREG(info.st_mode)) {
    error = "not a regular file";
    return false;
  }
  fileSize = uint64_t(info.st_size);
  unsigned char prefix[12];
  size_t got = std::fread(prefix, 1, sizeof(prefix), file.get());
  if (got < 10 || std::memcmp(prefix, magic, magicSize) != 0) {
    error = "not a .npy file (bad magic)";
    return false;
  }
  int lengthBytes = prefix[6] == 1 ? 2 : 4;
  if (prefix[6] < 1 || prefix[6] > 3) {
    error = "unsupported .npy format version " + std::to_string(prefix[6]) +
            "." + std::to_string(prefix[7]);
    return false;
  }
  if (got < size_t(8 + lengthBytes)) {
    error = "truncated .npy header";
    return false;
  }
  uint64_t headerSize = readLittleEndian(prefix + 8, lengthBytes);
  uint64_t start = 8 + lengthBytes;
  if (start + headerSize > fileSize) {
    error = "truncated .npy header (the file ends before the header does)";
    return false;
  }
  std::vector<unsigned char> whole(start + headerSize);
  std::rewind(file.get());
  if (std::fread(whole.data(), 1, whole.size(), file.get()) != whole.size()) {
    error = "cannot read the .npy header";
    return false;
  }
  return parseHeader(whole.data(), whole.size(), header, error);
}

} // namespace

int64_t numElements(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    if (d < 0 || __builtin_mul_overflow(n, d, &n))
      return -1;
  return n;
}

int64_t Header::numElements() const { return npy::numElements(shape); }
int64_t Array::numElements() const { return npy::numElements(shape); }

std::string formatShape(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

bool parseHeader(const void *bytes, size_t size, Header &header,
                 std::string &error) {
  const auto *p = static_cast<const unsigned char *>(bytes);
  if (size < 10 || std::memcmp(p, magic, magicSize) != 0) {
    error = "not a .npy file (bad magic)";
    return false;
  }
  int major = p[6];
  if (major < 1 || major > 3) {
    error = "unsupported .npy format version " + std::to_string(major) + "." +
            std::to_string(p[7]);
    return false;
  }
  int lengthBytes = major == 1 ? 2 : 4;
  if (size < size_t(8 + lengthBytes)) {
    error = "truncated .npy header";
    return false;
  }
  uint64_t headerSize = readLittleEndian(p + 8, lengthBytes);
  uint64_t start = 8 + lengthBytes;
  if (start + headerSize > size) {
    error = "truncated .npy header";
    return false;
  }
  std::string_view text(reinterpret_cast<const char *>(p + start), headerSize);
  Header parsed;
  parsed.version = major;
  HeaderParser parser(text);
  if (!parser.parse(parsed, error))
    return false;
  parsed.dataOffset = start + headerSize;
  uint64_t bytesTotal;
  if (__builtin_mul_overflow(uint64_t(parsed.numElements()),
                             uint64_t(elementSize(parsed.dtype)),
                             &bytesTotal)) {
    error = "shape " + formatShape(parsed.shape) + " is too large";
    return false;
  }
  parsed.dataBytes = bytesTotal;
  header = std::move(parsed);
  return true;
}

bool readHeader(const std::string &path, Header &header, std::string &error) {
  File file;
  uint64_t fileSize = 0;
  if (!openAndParse(path, file, header, fileSize, error))
    return false;
  uint64_t available = fileSize - header.dataOffset;
  if (available < header.dataBytes) {
    error = "truncated data: shape " + formatShape(header.shape) + " needs " +
            std::to_string(header.dataBytes) + " bytes but the file holds " +
            std::to_string(available);
    return false;
  }
  if (available > header.dataBytes) {
    error = "the file holds " + std::to_string(available - header.dataBytes) +
            " bytes after the data of shape " + formatShape(header.shape);
    return false;
  }
  return true;
}

bool read(const std::string &path, Array &array, std::string &error) {
  Header header;
  if (!readHeader(path, header, error))
    return false;
  File file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    error = std::string("cannot open file: ") + std::strerror(errno);
    return false;
  }
  std::vector<unsigned char> data(header.dataBytes);
  if (std::fseek(file.get(), long(header.dataOffset), SEEK_SET) != 0 ||
      std::fread(data.data(), 1, data.size(), file.get()) != data.size()) {
    error = "cannot read the data (truncated file?)";
    return false;
  }
  array.dtype = header.dtype;
  array.shape = std::move(header.shape);
  array.data = std::move(data);
  return true;
}

bool formatHeader(tp_dtype dtype, const std::vector<int64_t> &shape,
                  std::string &bytes, std::string &error) {
  const char *descr = descrOf(dtype);
  if (!descr) {
    error = dtype == TP_BF16
                ? "bf16 has no .npy representation; convert to f32 first"
                : "cannot write dtype " + std::to_string(int(dtype));
    return false;
  }
  int64_t count = numElements(shape);
  if (count < 0 || uint64_t(count) > UINT64_MAX / elementSize(dtype)) {
    error = "invalid shape " + formatShape(shape);
    return false;
  }
  std::string dict = std::string("{'descr': '") + descr +
                     "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i)
    dict += std::to_string(shape[i]) + (shape.size() == 1      ? ","
                                        : i + 1 < shape.size() ? ", "
                                                               : "");
  dict += "), }";
  // Pad with spaces so that the data starts at a multiple of 64, end with \n.
  int version = dict.size() + 1 + 10 > 65535 ? 2 : 1;
  size_t prefixSize = version == 1 ? 10 : 12;
  size_t total = (prefixSize + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - prefixSize - dict.size() - 1, ' ');
  dict += '\n';

  bytes.assign(magic, magicSize);
  bytes += char(version);
  bytes += char(0);
  uint32_t length = uint32_t(dict.size());
  for (size_t i = 0; i < prefixSize - 8; ++i)
    bytes += char((length >> (8 * i)) & 0xff);
  bytes += dict;
  return true;
}

namespace {

bool writeAll(int fd, const void *data, size_t bytes, std::string &error) {
  const char *p = static_cast<const char *>(data);
  while (bytes > 0) {
    const size_t chunk = size_t(1) << 30;
    ssize_t n = ::write(fd, p, bytes < chunk ? bytes : chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      error = std::string("cannot write file: ") +
              std::strerror(n < 0 ? errno : EIO);
      return false;
    }
    p += n;
    bytes -= size_t(n);
  }
  return true;
}

} // namespace

bool write(int fd, tp_dtype dtype, const std::vector<int64_t> &shape,
           const void *data, std::string &error) {
  std::string header;
  if (!formatHeader(dtype, shape, header, error))
    return false;
  size_t dataBytes = size_t(numElements(shape)) * elementSize(dtype);
  if (dataBytes > 0 && !data) {
    error = "no data to write";
    return false;
  }
  return writeAll(fd, header.data(), header.size(), error) &&
         writeAll(fd, data, dataBytes, error);
}

bool write(const std::string &path, tp_dtype dtype,
           const std::vector<int64_t> &shape, const void *data,
           std::string &error) {
  std::string header;
  if (!formatHeader(dtype, shape, header, error))
    return false;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    error = std::string("cannot create file: ") + std::strerror(errno);
    return false;
  }
  bool ok = write(fd, dtype, shape, data, error);
  if (::close(fd) != 0 && ok) {
    error = std::string("cannot write file: ") + std::strerror(errno);
    ok = false;
  }
  return ok;
}

} // namespace tp::npy
