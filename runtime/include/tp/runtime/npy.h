//===- npy.h - Reading and writing NumPy .npy files -------------*- C++ -*-===//
//
// A small, dependency-free reader / writer for the NumPy .npy format
// (versions 1.0, 2.0 and 3.0), used by tp-launch for inputs and outputs and by
// tp-run to compare results. Supported element types: little-endian f2, f4,
// f8, i4, i8 (TP_F16, TP_F32, TP_F64, TP_I32, TP_I64), C order only.
//
// Functions return false with a message in `error` and never throw on bad
// input. Messages do not repeat the file name: callers prefix it
// ("argument 1 (a.npy): " + error).
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_NPY_H
#define TP_RUNTIME_NPY_H

#include "tp/runtime/tp_runtime.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tp::npy {

/// What the header of a .npy file says, checked against the file's size.
struct Header {
  tp_dtype dtype = TP_F32;
  std::vector<int64_t> shape; ///< [] for a scalar
  int version = 1;            ///< format major version: 1, 2 or 3
  uint64_t dataOffset = 0;    ///< where the element data starts in the file
  uint64_t dataBytes = 0;     ///< numElements * element size
  int64_t numElements() const;
};

/// A whole array in memory (row-major, little-endian elements).
struct Array {
  tp_dtype dtype = TP_F32;
  std::vector<int64_t> shape;
  std::vector<unsigned char> data;
  int64_t numElements() const;
};

/// Parses a header from the first `size` bytes of a file (all of the header
/// must be there). Does not check the data length.
bool parseHeader(const void *bytes, size_t size, Header &header,
                 std::string &error);

/// Reads and validates the header of `path`, including that the file holds
/// exactly `dataBytes` bytes of data after it (truncated files fail here).
bool readHeader(const std::string &path, Header &header, std::string &error);

/// Reads a whole file.
bool read(const std::string &path, Array &array, std::string &error);

/// Writes `data` (row-major, numElements(shape) elements of `dtype`) as a
/// version 1.0 file (2.0 if the header needs it). dtype: f16, f32, f64, i32,
/// i64; bf16 has no .npy spelling and is rejected (convert to f32 first).
/// On failure the file may be partially written: write to a temporary name
/// and rename it when a partial file matters.
bool write(const std::string &path, tp_dtype dtype,
           const std::vector<int64_t> &shape, const void *data,
           std::string &error);

/// The same into an open file descriptor (header, then the data).
bool write(int fd, tp_dtype dtype, const std::vector<int64_t> &shape,
           const void *data, std::string &error);

/// The header bytes (magic, version, dictionary, padding) of a file holding
/// `shape` elements of `dtype`; the data follows them.
bool formatHeader(tp_dtype dtype, const std::vector<int64_t> &shape,
                  std::string &bytes, std::string &error);

/// "[2, 3]" ("[]" for a scalar).
std::string formatShape(const std::vector<int64_t> &shape);

/// Number of elements of `shape`, or -1 if the product overflows int64.
int64_t numElements(const std::vector<int64_t> &shape);

} // namespace tp::npy

#endif // TP_RUNTIME_NPY_H
