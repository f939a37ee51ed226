//===- Safetensors.cpp - Reading weights from .safetensors files ----------===//

#include "Launch/Safetensors.h"
#include "Common/DType.h"
#include "Launch/HostLayout.h"
#include "Launch/Json.h"
#include "tp/runtime/npy.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tp::launch::safetensors {

namespace {

struct KnownDType {
  const char *name;
  size_t size;
  bool runs; ///< one tp-mlir runs (tp_dtype below)
  tp_dtype dtype;
};

// The safetensors dtypes; those tp-mlir has no arguments of are still
// parsed (their sizes check the offsets), and refused only when an argument
// reads them.
const KnownDType knownDTypes[] = {
    {"F64", 8, true, TP_F64},      {"F32", 4, true, TP_F32},
    {"F16", 2, true, TP_F16},      {"BF16", 2, true, TP_BF16},
    {"I64", 8, true, TP_I64},      {"I32", 4, true, TP_I32},
    {"I16", 2, false, TP_F32},     {"I8", 1, false, TP_F32},
    {"U64", 8, false, TP_F32},     {"U32", 4, false, TP_F32},
    {"U16", 2, false, TP_F32},     {"U8", 1, false, TP_F32},
    {"BOOL", 1, false, TP_F32},    {"F8_E4M3", 1, false, TP_F32},
    {"F8_E5M2", 1, false, TP_F32}, {"F8_E8M0", 1, false, TP_F32},
    {"C64", 8, false, TP_F32}};

const char *safetensorsName(tp_dtype dtype) {
  for (const KnownDType &known : knownDTypes)
    if (known.runs && known.dtype == dtype)
      return known.name;
  return "?";
}

uint64_t readLittleEndian64(const unsigned char *bytes) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i)
    value = (value << 8) | bytes[i];
  return value;
}

bool fail(std::string &error, std::string message) {
  error = std::move(message);
  return false;
}

/// A non-negative integer that fits in int64 (JSON numbers like 1.0 or 1e3
/// are not offsets or sizes).
bool asCount(const JsonValue &value, int64_t &out) {
  if (value.kind != JsonValue::Kind::Number || !value.isInteger ||
      value.integer < 0)
    return false;
  out = value.integer;
  return true;
}

bool parseTensor(const std::string &name, const JsonValue &value,
                 uint64_t dataBytes, TensorInfo &tensor, std::string &error) {
  const std::string where = "tensor '" + name + "': ";
  if (value.kind != JsonValue::Kind::Object)
    return fail(error, where + "expected an object, got " + value.kindName());
  tensor.name = name;
  const JsonValue *dtype = value.find("dtype");
  if (!dtype || dtype->kind != JsonValue::Kind::String)
    return fail(error, where + (dtype ? "\"dtype\" must be a string"
                                      : "missing field \"dtype\""));
  tensor.dtypeName = dtype->string;
  const KnownDType *known = nullptr;
  for (const KnownDType &k : knownDTypes)
    if (tensor.dtypeName == k.name)
      known = &k;
  if (!known)
    return fail(error, where + "unknown dtype '" + tensor.dtypeName + "'");
  tensor.elementSize = known->size;
  tensor.haveDType = known->runs;
  tensor.dtype = known->dtype;

  const JsonValue *shape = value.find("shape");
  if (!shape || shape->kind != JsonValue::Kind::Array)
    return fail(error, where + (shape ? "\"shape\" must be an array"
                                      : "missing field \"shape\""));
  // The element count, kept below 2^62 so that byte counts cannot wrap.
  uint64_t elements = 1;
  for (const JsonValue &dim : shape->array) {
    int64_t d = 0;
    if (!asCount(dim, d))
      return fail(error, where + "\"shape\" must hold non-negative integers");
    tensor.shape.push_back(d);
    if (d != 0 && elements > (uint64_t(1) << 62) / uint64_t(d))
      return fail(error, where + "shape " + npy::formatShape(tensor.shape) +
                             " is too large");
    elements *= uint64_t(d);
  }
  if (elements > (uint64_t(1) << 62) / tensor.elementSize)
    return fail(error, where + "shape is too large");

  const JsonValue *offsets = value.find("data_offsets");
  if (!offsets || offsets->kind != JsonValue::Kind::Array)
    return fail(error, where + (offsets ? "\"data_offsets\" must be an array"
                                        : "missing field \"data_offsets\""));
  int64_t begin = 0, end = 0;
  if (offsets->array.size() != 2 || !asCount(offsets->array[0], begin) ||
      !asCount(offsets->array[1], end))
    return fail(error, where + "\"data_offsets\" must be [begin, end], two "
                               "non-negative integers");
  if (begin > end)
    return fail(error, where + "data_offsets [" + std::to_string(begin) + ", " +
                           std::to_string(end) +
                           "] end before they "
                           "begin");
  tensor.begin = uint64_t(begin);
  tensor.end = uint64_t(end);
  const uint64_t bytes = elements * tensor.elementSize;
  if (tensor.end - tensor.begin != bytes)
    return fail(error, where + "data_offsets [" + std::to_string(begin) + ", " +
                           std::to_string(end) + "] hold " +
                           std::to_string(tensor.end - tensor.begin) +
                           " bytes, but " + tensor.dtypeName + " " +
                           npy::formatShape(tensor.shape) + " needs " +
                           std::to_string(bytes));
  if (tensor.end > dataBytes)
    return fail(error, where + "data_offsets [" + std::to_string(begin) + ", " +
                           std::to_string(end) +
                           "] go past the end of the data (" +
                           std::to_string(dataBytes) +
                           " bytes; is the file truncated?)");
  return true;
}

} // namespace

const TensorInfo *Header::find(const std::string &name) const {
  for (const TensorInfo &tensor : tensors)
    if (tensor.name == name)
      return &tensor;
  return nullptr;
}

bool parseHeader(const unsigned char *bytes, size_t available,
                 uint64_t fileSize, Header &header, std::string &error) {
  header = Header();
  if (fileSize < 8 || available < 8)
    return fail(error, "truncated file: " + std::to_string(fileSize) +
                           " bytes, less than the 8-byte header size");
  const uint64_t headerBytes = readLittleEndian64(bytes);
  if (headerBytes > maxHeaderBytes)
    return fail(error, "header size " + std::to_string(headerBytes) +
                           " is larger than the limit of " +
                           std::to_string(maxHeaderBytes) +
                           " bytes (not a .safetensors file?)");
  if (headerBytes > fileSize - 8 || headerBytes > available - 8)
    return fail(error, "truncated header: it needs " +
                           std::to_string(headerBytes) +
                           " bytes, the file "
                           "has " +
                           std::to_string(fileSize - 8) + " after the size");
  header.dataOffset = 8 + headerBytes;
  header.dataBytes = fileSize - header.dataOffset;
  std::string_view text(reinterpret_cast<const char *>(bytes + 8),
                        size_t(headerBytes));
  if (text.empty() || text.front() != '{')
    return fail(error, "the header is not a JSON object (it must start "
                       "with '{')");
  JsonValue root;
  std::string jsonError;
  if (!parseJson(text, root, jsonError))
    return fail(error, "malformed JSON header: " + jsonError);
  if (root.kind != JsonValue::Kind::Object)
    return fail(error, "the header is not a JSON object");
  for (const auto &[name, value] : root.object) {
    if (name == "__metadata__") {
      if (value.kind != JsonValue::Kind::Object)
        return fail(error, "\"__metadata__\" must be an object of strings");
      for (const auto &[key, entry] : value.object) {
        if (entry.kind != JsonValue::Kind::String)
          return fail(error,
                      "\"__metadata__\" entry '" + key + "' must be a string");
        header.metadata[key] = entry.string;
      }
      continue;
    }
    if (header.find(name))
      return fail(error, "tensor '" + name + "' appears twice in the header");
    TensorInfo tensor;
    if (!parseTensor(name, value, header.dataBytes, tensor, error))
      return false;
    header.tensors.push_back(std::move(tensor));
  }
  // No byte may belong to two tensors (empty tensors hold no byte).
  std::vector<const TensorInfo *> byOffset;
  for (const TensorInfo &tensor : header.tensors)
    if (tensor.end > tensor.begin)
      byOffset.push_back(&tensor);
  std::sort(byOffset.begin(), byOffset.end(),
            [](const TensorInfo *a, const TensorInfo *b) {
              return a->begin < b->begin;
            });
  for (size_t i = 1; i < byOffset.size(); ++i)
    if (byOffset[i]->begin < byOffset[i - 1]->end)
      return fail(error, "tensors '" + byOffset[i - 1]->name + "' and '" +
                             byOffset[i]->name + "' overlap (data_offsets [" +
                             std::to_string(byOffset[i - 1]->begin) + ", " +
                             std::to_string(byOffset[i - 1]->end) + "] and [" +
                             std::to_string(byOffset[i]->begin) + ", " +
                             std::to_string(byOffset[i]->end) + "])");
  return true;
}

bool checkTensor(const TensorInfo &tensor, const TensorSpec &spec,
                 const std::string &what, std::string &error) {
  const std::string where = what + ": tensor '" + tensor.name + "'";
  bool halfFromF32 =
      tensor.haveDType && tensor.dtype == TP_F32 && rt::isHalfDType(spec.dtype);
  if (!tensor.haveDType || (tensor.dtype != spec.dtype && !halfFromF32))
    return fail(error,
                where + " has dtype " + tensor.dtypeName +
                    ", but the argument is " + rt::dtypeName(spec.dtype) +
                    " (" + safetensorsName(spec.dtype) + ")" +
                    (rt::isHalfDType(spec.dtype) ? std::string(" or F32 data")
                                                 : std::string()));
  if (tensor.shape != spec.globalShape)
    return fail(error, where + " has shape " + npy::formatShape(tensor.shape) +
                           ", but the argument is " +
                           npy::formatShape(spec.globalShape));
  return true;
}

SafetensorsFile::~SafetensorsFile() {
  if (base)
    munmap(base, size);
}

bool SafetensorsFile::open(const std::string &path, std::string &error) {
  filePath = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(error,
                std::string("cannot open file: ") + std::strerror(errno));
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return fail(error, "not a regular file");
  }
  size = size_t(info.st_size);
  if (size > 0) {
    void *mapped = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (mapped == MAP_FAILED) {
      int saved = errno;
      ::close(fd);
      return fail(error,
                  std::string("cannot map file: ") + std::strerror(saved));
    }
    base = mapped;
  }
  ::close(fd);
  return parseHeader(static_cast<const unsigned char *>(base), size,
                     uint64_t(size), parsed, error);
}

uint64_t SafetensorsFile::readShard(const TensorInfo &tensor,
                                    const TensorSpec &spec, int rank,
                                    void *dst) const {
  uint64_t bytes = readShardFrom(static_cast<const unsigned char *>(base) +
                                     parsed.dataOffset,
                                 tensor, spec, rank, dst);
  dropPages(tensor);
  return bytes;
}

uint64_t SafetensorsFile::readViewShard(const TensorInfo &tensor,
                                        int64_t offset,
                                        const std::vector<int64_t> &strides,
                                        const TensorSpec &spec, int rank,
                                        void *dst) const {
  const unsigned char *data =
      static_cast<const unsigned char *>(base) + parsed.dataOffset;
  int64_t elements = extractViewShard(data + tensor.begin, tensor.dtype,
                                      offset, strides, spec, rank, dst);
  dropPages(tensor);
  return uint64_t(elements) * tensor.elementSize;
}

void SafetensorsFile::dropPages(const TensorInfo &tensor) const {
  // The file's pages this read touched count in the rank's resident memory
  // as long as they stay mapped: drop them now that the shard is copied, so
  // that the rank's peak is its shards plus one tensor's pages, not twice
  // its shards. (Other tensors' pages in the same span are read again from
  // the page cache if needed.)
  const uint64_t page = uint64_t(sysconf(_SC_PAGESIZE));
  uint64_t first = (parsed.dataOffset + tensor.begin) / page * page;
  uint64_t last = std::min<uint64_t>(parsed.dataOffset + tensor.end, size);
  if (base && last > first)
    madvise(static_cast<unsigned char *>(base) + first, size_t(last - first),
            MADV_DONTNEED);
}

uint64_t readShardFrom(const unsigned char *dataSection,
                       const TensorInfo &tensor, const TensorSpec &spec,
                       int rank, void *dst) {
  extractShard(dataSection + tensor.begin, tensor.dtype, spec, rank, dst);
  uint64_t elements = 0;
  for (const ShardPiece &piece : shardPieces(spec, rank))
    elements += uint64_t(piece.count);
  return elements * tensor.elementSize;
}

bool write(int fd, const std::vector<TensorData> &tensors,
           const std::map<std::string, std::string> &metadata,
           std::string &error) {
  // JSON strings: escape what JSON requires.
  auto quote = [](const std::string &text) {
    std::string out = "\"";
    for (unsigned char c : text) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += char(c);
      } else if (c < 0x20) {
        char buffer[8];
        std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
        out += buffer;
      } else {
        out += char(c);
      }
    }
    return out + "\"";
  };
  std::string json = "{";
  if (!metadata.empty()) {
    json += "\"__metadata__\":{";
    bool first = true;
    for (const auto &[key, value] : metadata) {
      json += (first ? "" : ",") + quote(key) + ":" + quote(value);
      first = false;
    }
    json += "}";
  }
  uint64_t offset = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorData &t = tensors[i];
    uint64_t bytes = rt::dtypeSize(t.dtype);
    std::string shape = "[";
    for (size_t d = 0; d < t.shape.size(); ++d) {
      shape += (d ? "," : "") + std::to_string(t.shape[d]);
      bytes *= uint64_t(t.shape[d]);
    }
    shape += "]";
    json += (i || !metadata.empty() ? "," : "") + quote(t.name) +
            ":{\"dtype\":\"" + safetensorsName(t.dtype) +
            "\",\"shape\":" + shape + ",\"data_offsets\":[" +
            std::to_string(offset) + "," + std::to_string(offset + bytes) +
            "]}";
    offset += bytes;
  }
  json += "}";
  while (json.size() % 8)
    json += ' ';
  unsigned char size[8];
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i)
    size[i] = (unsigned char)(n >> (8 * i));
  auto put = [&](const void *data, uint64_t bytes) {
    const auto *p = static_cast<const unsigned char *>(data);
    while (bytes > 0) {
      ssize_t written =
          ::write(fd, p, size_t(std::min<uint64_t>(bytes, uint64_t(1) << 30)));
      if (written < 0 && errno == EINTR)
        continue;
      if (written <= 0)
        return fail(error, std::string("cannot write file: ") +
                               std::strerror(written < 0 ? errno : EIO));
      p += written;
      bytes -= uint64_t(written);
    }
    return true;
  };
  if (!put(size, 8) || !put(json.data(), json.size()))
    return false;
  for (const TensorData &t : tensors) {
    uint64_t bytes = rt::dtypeSize(t.dtype);
    for (int64_t d : t.shape)
      bytes *= uint64_t(d);
    if (!put(t.data, bytes))
      return false;
  }
  return true;
}

} // namespace tp::launch::safetensors
