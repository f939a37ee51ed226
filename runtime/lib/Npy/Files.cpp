//===- Files.cpp - Output files and file lists for tp-launch / tp-run -----===//

#include "tp/runtime/files.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tp::files {

namespace {

std::string errnoText(int e) { return std::strerror(e); }

/// What kind of file `mode` is, for messages.
const char *kindOf(mode_t mode) {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISSOCK(mode))
    return "a socket";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISLNK(mode))
    return "a symbolic link";
  return "a regular file";
}

bool writtenInPlace(mode_t mode) { return S_ISCHR(mode) || S_ISFIFO(mode); }

bool replaceable(mode_t mode) { return S_ISREG(mode) || S_ISLNK(mode); }

mode_t currentUmask() {
  mode_t mask = umask(0);
  umask(mask);
  return mask;
}

} // namespace

std::string directoryOf(const std::string &path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string baseNameOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool checkOutputPath(const std::string &path, std::string &error) {
  if (path.empty() || path.back() == '/') {
    error = "not a file name";
    return false;
  }
  struct stat info;
  if (lstat(path.c_str(), &info) == 0) {
    if (writtenInPlace(info.st_mode))
      return true;
    if (!replaceable(info.st_mode)) {
      error = std::string("it is ") + kindOf(info.st_mode) +
              "; name a regular file (or a character device such as "
              "/dev/null, or a FIFO)";
      return false;
    }
  } else if (errno != ENOENT) {
    error = "cannot inspect it: " + errnoText(errno);
    return false;
  }
  std::string dir = directoryOf(path);
  if (stat(dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    error = "directory '" + dir + "' does not exist";
    return false;
  }
  if (access(dir.c_str(), W_OK) != 0) {
    error = "directory '" + dir + "' is not writable";
    return false;
  }
  return true;
}

OutputFile::OutputFile(OutputFile &&other) noexcept
    : path(std::move(other.path)), temporary(std::move(other.temporary)),
      descriptor(other.descriptor), direct(other.direct),
      committed(other.committed) {
  other.descriptor = -1;
  other.temporary.clear();
}

OutputFile::~OutputFile() { discard(); }

bool OutputFile::open(const std::string &target, std::string &error) {
  path = target;
  struct stat existing;
  bool exists = lstat(path.c_str(), &existing) == 0;
  if (exists && writtenInPlace(existing.st_mode)) {
    // No O_CREAT / O_TRUNC: this writes into the device or FIFO that is
    // there. O_NONBLOCK makes opening a FIFO without a reader fail (ENXIO)
    // instead of waiting for one.
    direct = true;
    descriptor = ::open(path.c_str(), O_WRONLY | O_NOCTTY | O_NOFOLLOW |
                                          O_CLOEXEC | O_NONBLOCK);
    if (descriptor < 0) {
      error = errno == ENXIO ? "no process is reading the FIFO"
                             : "cannot open it: " + errnoText(errno);
      return false;
    }
    int flags = fcntl(descriptor, F_GETFL);
    if (flags >= 0)
      fcntl(descriptor, F_SETFL, flags & ~O_NONBLOCK);
    return true;
  }
  if (exists && !replaceable(existing.st_mode)) {
    error = std::string("it is ") + kindOf(existing.st_mode) +
            "; name a regular file (or a character device such as "
            "/dev/null, or a FIFO)";
    return false;
  }
  std::string dir = directoryOf(path);
  std::string name = dir + "/." + baseNameOf(path) + ".tmp.XXXXXX";
  std::vector<char> buffer(name.begin(), name.end());
  buffer.push_back('\0');
  // mkostemp: O_CREAT | O_EXCL with a random name, mode 0600.
  descriptor = mkostemp(buffer.data(), O_CLOEXEC);
  if (descriptor < 0) {
    error = "cannot create a temporary file in '" + dir +
            "': " + errnoText(errno);
    return false;
  }
  temporary = buffer.data();
  mode_t mode = 0666 & ~currentUmask();
  if (exists && S_ISREG(existing.st_mode)) {
    mode = existing.st_mode & 07777;
    // Keep the owner where allowed (root rewriting a user's file); failing
    // to is not an error.
    if (fchown(descriptor, existing.st_uid, existing.st_gid) != 0) {
      // the new file keeps our own owner
    }
  }
  if (fchmod(descriptor, mode) != 0) {
    error = "cannot set the mode of '" + temporary + "': " + errnoText(errno);
    discard();
    return false;
  }
  return true;
}

bool OutputFile::finish(std::string &error) {
  if (descriptor < 0)
    return true;
  int fd = descriptor;
  descriptor = -1;
  bool ok = true;
  if (!direct && fsync(fd) != 0) {
    error = "cannot write file: " + errnoText(errno);
    ok = false;
  }
  if (::close(fd) != 0 && ok) {
    error = "cannot write file: " + errnoText(errno);
    ok = false;
  }
  return ok;
}

bool OutputFile::commit(std::string &error) {
  if (direct || committed) {
    committed = true;
    return true;
  }
  if (temporary.empty()) {
    error = "nothing was written";
    return false;
  }
  struct stat now;
  if (lstat(path.c_str(), &now) == 0 && !replaceable(now.st_mode)) {
    error = std::string("it became ") + kindOf(now.st_mode) +
            " while the job ran; it was not replaced";
    return false;
  }
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    error = "cannot rename the finished file into place: " + errnoText(errno);
    return false;
  }
  committed = true;
  temporary.clear();
  return true;
}

void OutputFile::discard() {
  if (descriptor >= 0) {
    ::close(descriptor);
    descriptor = -1;
  }
  if (!temporary.empty() && !committed)
    unlink(temporary.c_str());
  temporary.clear();
}

bool splitList(const std::string &text, std::vector<std::string> &items) {
  items.clear();
  if (text.empty())
    return true;
  std::string item;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == ',') {
      if (item.empty())
        return false;
      items.push_back(item);
      item.clear();
      continue;
    }
    if (text[i] == '\\' && i + 1 < text.size() &&
        (text[i + 1] == ',' || text[i + 1] == '\\')) {
      item += text[++i];
      continue;
    }
    item += text[i];
  }
  return true;
}

std::string joinList(const std::vector<std::string> &items) {
  std::string text;
  for (size_t k = 0; k < items.size(); ++k) {
    if (k)
      text += ',';
    for (char c : items[k]) {
      if (c == ',' || c == '\\')
        text += '\\';
      text += c;
    }
  }
  return text;
}

} // namespace tp::files
