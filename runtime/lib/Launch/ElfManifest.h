//===- ElfManifest.h - Read tp_manifest without loading the model -*- C++
//-*-===//
//
// tp-launch picks its backend (MPI for target "cpu", NCCL for "gpu") before
// it may dlopen the model: a GPU model's constructors already call mgpu*
// functions, which must resolve against the backend loaded first. So the
// manifest is read straight from the file: the `tp_manifest` symbol in the
// ELF dynamic symbol table, then its bytes from the section holding it.
// ELF64 little-endian (x86-64, aarch64) only.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_LAUNCH_ELFMANIFEST_H
#define TP_RUNTIME_LAUNCH_ELFMANIFEST_H

#include <cstddef>
#include <string>

namespace tp::launch {

/// The NUL-terminated string `symbol` points to in the shared object at
/// `path` (default: tp_manifest). False with `error` if the file is not a
/// regular file (a directory, a FIFO, a device: refused without reading, so
/// that /dev/zero or a FIFO cannot hang the caller), not a complete ELF64 LE
/// shared object (a segment or section that extends past the end of the
/// file: a truncated copy, which dlopen would map and then fault on), has no
/// such dynamic symbol, or the symbol's bytes are not in the file.
bool readElfString(const std::string &path, std::string &text,
                   std::string &error, const char *symbol = "tp_manifest");

/// The same on a file already in memory (for tests and fuzzing).
bool readElfStringFromMemory(const unsigned char *file, size_t size,
                             std::string &text, std::string &error,
                             const char *symbol = "tp_manifest");

/// Whether `path` is something dlopen can safely map: a regular file holding
/// a complete ELF64 LE shared object. False with `error` ("is a directory",
/// "truncated ELF file: ...") otherwise.
bool checkSharedObject(const std::string &path, std::string &error);

/// The manifest's "target" field, found with a light scan (no validation):
/// "cpu", "gpu", or "" if absent.
std::string manifestTarget(const std::string &manifest);

} // namespace tp::launch

#endif // TP_RUNTIME_LAUNCH_ELFMANIFEST_H
