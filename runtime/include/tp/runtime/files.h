//===- files.h - Output files and file lists -------------------*- C++ -*-===//
//
// How tp-launch (and tp-run, for --check) write their outputs:
//
// - A path that does not exist, or is a regular file, is written through a
//   new temporary file in the same folder, created with O_EXCL and a random
//   name (mkostemp: a planted symlink or file is never followed or reused),
//   then renamed over the path once every output is complete. A file that
//   existed keeps its mode (and owner, when allowed); a new one gets
//   0666 & ~umask, as any other tool would create it.
// - A symbolic link is replaced by the new file; its target is not touched.
// - A character device (/dev/null, /dev/full) or a FIFO is written in place:
//   never replaced (renaming over /dev/null as root would turn it into a
//   regular file), so that output is not atomic. A FIFO with no reader is an
//   error rather than a hang.
// - A directory, a socket or a block device is refused with a message.
//
// File lists on the command line are comma-separated; "\," is a comma inside
// a name and "\\" a backslash (a backslash before anything else stays as
// is), so any file name can be passed.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_FILES_H
#define TP_RUNTIME_FILES_H

#include <string>
#include <vector>

namespace tp::files {

/// Whether `path` can be an output (see above), before anything is written:
/// its folder exists (and is writable when the path will be replaced), and
/// it is not a directory, socket or block device. False with a message that
/// does not repeat the path.
bool checkOutputPath(const std::string &path, std::string &error);

/// One output being written. Destroying it without commit() removes the
/// temporary file.
class OutputFile {
public:
  OutputFile() = default;
  OutputFile(const OutputFile &) = delete;
  OutputFile &operator=(const OutputFile &) = delete;
  OutputFile(OutputFile &&other) noexcept;
  ~OutputFile();

  /// Creates the temporary (or opens the device or FIFO).
  bool open(const std::string &path, std::string &error);
  /// The descriptor to write to (valid between open() and finish()).
  int fd() const { return descriptor; }
  /// Flushes (fsync) and closes: a full disk or an I/O error shows here.
  bool finish(std::string &error);
  /// Renames the temporary over the path (nothing to do for a device or a
  /// FIFO). Refuses if the path became something that must not be replaced.
  bool commit(std::string &error);
  /// Removes the temporary, if any.
  void discard();

  /// The temporary's path ("" when written in place).
  const std::string &temporaryPath() const { return temporary; }
  bool inPlace() const { return direct; }

private:
  std::string path;
  std::string temporary;
  int descriptor = -1;
  bool direct = false;
  bool committed = false;
};

/// Splits a comma-separated list of file names ("\," and "\\" escaped).
/// False when a name is empty.
bool splitList(const std::string &text, std::vector<std::string> &items);

/// The list that splitList turns back into `items`.
std::string joinList(const std::vector<std::string> &items);

/// The folder of `path` ("." for a bare name) and its last component.
std::string directoryOf(const std::string &path);
std::string baseNameOf(const std::string &path);

} // namespace tp::files

#endif // TP_RUNTIME_FILES_H
