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

#include <string>

namespace tp::launch {

/// The NUL-terminated string `symbol` points to in the shared object at
/// `path` (default: tp_manifest). False with `error` if the file is not an
/// ELF64 LE shared object, has no such dynamic symbol, or the symbol's bytes
/// are not in the file.
bool readElfString(const std::string &path, std::string &text,
                   std::string &error, const char *symbol = "tp_manifest");

/// The manifest's "target" field, found with a light scan (no validation):
/// "cpu", "gpu", or "" if absent.
std::string manifestTarget(const std::string &manifest);

} // namespace tp::launch

#endif // TP_RUNTIME_LAUNCH_ELFMANIFEST_H
