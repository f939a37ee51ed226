//===- MappedFile.cpp - A whole file mapped read-only ---------------------===//

#include "Launch/MappedFile.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tp::launch {

namespace {

/// "a directory", "a FIFO", ... for a file that is not a regular one.
const char *fileKind(mode_t mode) {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISCHR(mode) || S_ISBLK(mode))
    return "a device";
  return "a special file";
}

} // namespace

void Unmap::operator()(void *base) const { munmap(base, bytes); }

bool MappedFile::open(const std::string &path, std::string &error) {
  return map(path, O_RDONLY | O_CLOEXEC, nullptr, error);
}

bool MappedFile::openRegular(const std::string &path, const char *what,
                             std::string &error) {
  return map(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, what, error);
}

bool MappedFile::map(const std::string &path, int flags,
                     const char *regularWhat, std::string &error) {
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) {
    error = std::string("cannot open file: ") + std::strerror(errno);
    return false;
  }
  struct stat info;
  if (fstat(fd, &info) != 0) {
    error = std::string("cannot stat file: ") + std::strerror(errno);
    ::close(fd);
    return false;
  }
  if (regularWhat && !S_ISREG(info.st_mode)) {
    error =
        std::string("it is ") + fileKind(info.st_mode) + ", not " + regularWhat;
    ::close(fd);
    return false;
  }
  const size_t bytes = size_t(info.st_size);
  void *base =
      bytes > 0 ? mmap(nullptr, bytes, PROT_READ, MAP_PRIVATE, fd, 0) : nullptr;
  int savedErrno = errno;
  ::close(fd);
  if (base == MAP_FAILED) {
    error = std::string("cannot map file: ") + std::strerror(savedErrno);
    return false;
  }
  mapping = std::unique_ptr<void, Unmap>(base, Unmap{bytes});
  return true;
}

} // namespace tp::launch
