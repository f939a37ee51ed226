//===- MappedFile.h - A whole file mapped read-only -------------*- C++ -*-===//
//
// The launcher reads model files and .npy inputs through a read-only
// mapping: only the pages a rank touches are read, and they go with the
// mapping.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_LAUNCH_MAPPEDFILE_H
#define TP_RUNTIME_LAUNCH_MAPPEDFILE_H

#include <cstddef>
#include <memory>
#include <string>

namespace tp::launch {

/// munmap of a whole mapping of `bytes` bytes.
struct Unmap {
  size_t bytes = 0;
  void operator()(void *base) const;
};

/// A read-only mapping of a whole file (nothing is mapped for an empty one),
/// unmapped when it goes.
class MappedFile {
public:
  /// Maps `path`. False with `error` ("cannot open file: ...", "cannot stat
  /// file: ...", "cannot map file: ...").
  bool open(const std::string &path, std::string &error);
  /// The same for a file that must be a regular file holding `what` ("a
  /// shared object"): opened without blocking (a FIFO), and anything else
  /// refused before reading ("it is a FIFO, not a shared object"), so that
  /// /dev/zero or a FIFO cannot hang the caller.
  bool openRegular(const std::string &path, const char *what,
                   std::string &error);

  const unsigned char *data() const {
    return static_cast<const unsigned char *>(mapping.get());
  }
  size_t size() const { return mapping.get_deleter().bytes; }

private:
  /// open(2) with `flags`, then mmap; `regularWhat` as openRegular's `what`,
  /// or null to map whatever the file is.
  bool map(const std::string &path, int flags, const char *regularWhat,
           std::string &error);

  std::unique_ptr<void, Unmap> mapping;
};

} // namespace tp::launch

#endif // TP_RUNTIME_LAUNCH_MAPPEDFILE_H
