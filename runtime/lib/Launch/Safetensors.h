//===- Safetensors.h - Reading weights from .safetensors files --*- C++ -*-===//
//
// A .safetensors file is an 8-byte little-endian header size N, then N bytes
// of JSON (an object: tensor name -> {"dtype", "shape", "data_offsets":
// [begin, end]}, plus an optional "__metadata__" object of strings), then
// the data; offsets are relative to the first byte after the header.
//
// parseHeader validates everything a rank relies on before it touches the
// data: the sizes, the JSON, every field's type, known dtypes, byte lengths
// that match dtype and shape, offsets inside the file, and no two tensors
// sharing a byte. SafetensorsFile maps the file read-only and cuts a rank's
// shard of a tensor out of it, touching only the bytes of that shard.
// No LLVM, no MPI.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_LAUNCH_SAFETENSORS_H
#define TP_RUNTIME_LAUNCH_SAFETENSORS_H

#include "Launch/Manifest.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tp::launch::safetensors {

/// The largest header accepted (the reference implementation's limit).
constexpr uint64_t maxHeaderBytes = 100u << 20;

struct TensorInfo {
  std::string name;
  std::string dtypeName;   ///< as written: "F32", "BF16", "I8", ...
  bool haveDType = false;  ///< dtypeName is one tp-mlir runs (dtype is set)
  tp_dtype dtype = TP_F32; ///< valid when haveDType
  size_t elementSize = 0;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0; ///< byte offsets into the data section
};

struct Header {
  uint64_t dataOffset = 0; ///< 8 + header size: where the data section starts
  uint64_t dataBytes = 0;  ///< the file size minus dataOffset
  std::vector<TensorInfo> tensors; ///< in file order
  std::map<std::string, std::string> metadata;

  const TensorInfo *find(const std::string &name) const;
};

/// Parses and validates the header of a file of `fileSize` bytes whose first
/// bytes are `bytes[0, available)` (available >= min(fileSize, 8 + header
/// size) is enough). Messages do not repeat the file name.
bool parseHeader(const unsigned char *bytes, size_t available,
                 uint64_t fileSize, Header &header, std::string &error);

/// "tensor 'w' has dtype BF16 and shape [4, 8], but argument 2 wants f32
/// [8, 4]"-style check of a tensor against what a manifest argument needs
/// (`what` names the argument in the message). f32 tensors feed f16 / bf16
/// arguments, as .npy inputs do.
bool checkTensor(const TensorInfo &tensor, const TensorSpec &spec,
                 const std::string &what, std::string &error);

/// A .safetensors file, mapped read-only.
class SafetensorsFile {
public:
  SafetensorsFile() = default;
  SafetensorsFile(const SafetensorsFile &) = delete;
  SafetensorsFile &operator=(const SafetensorsFile &) = delete;
  ~SafetensorsFile();

  /// Maps the file and parses its header.
  bool open(const std::string &path, std::string &error);
  const Header &header() const { return parsed; }
  const std::string &path() const { return filePath; }

  /// Writes rank `rank`'s shard of `tensor` for `spec` (checked with
  /// checkTensor first) to dst, as extractShard does, reading only the
  /// bytes of the shard. Returns the number of bytes read from the file.
  uint64_t readShard(const TensorInfo &tensor, const TensorSpec &spec, int rank,
                     void *dst) const;

  /// readShard for a piece of `tensor`: the strided view at element
  /// `offset` with spec.globalShape and these element strides (see
  /// extractViewShard). Returns the number of bytes read from the file.
  uint64_t readViewShard(const TensorInfo &tensor, int64_t offset,
                         const std::vector<int64_t> &strides,
                         const TensorSpec &spec, int rank, void *dst) const;

private:
  /// Drops the pages of `tensor` from this process's resident memory.
  void dropPages(const TensorInfo &tensor) const;
  std::string filePath;
  Header parsed;
  void *base = nullptr;
  size_t size = 0;
};

/// readShard on a data section already in memory (`dataSection` is the
/// file's byte dataOffset).
uint64_t readShardFrom(const unsigned char *dataSection,
                       const TensorInfo &tensor, const TensorSpec &spec,
                       int rank, void *dst);

/// Writes `tensors` (name, dtype, shape, data) as a .safetensors file to the
/// open descriptor fd, with `metadata`; tensors in the given order, the
/// header padded with spaces to a multiple of 8 bytes.
struct TensorData {
  std::string name;
  tp_dtype dtype = TP_F32;
  std::vector<int64_t> shape;
  const void *data = nullptr;
};
bool write(int fd, const std::vector<TensorData> &tensors,
           const std::map<std::string, std::string> &metadata,
           std::string &error);

} // namespace tp::launch::safetensors

#endif // TP_RUNTIME_LAUNCH_SAFETENSORS_H
