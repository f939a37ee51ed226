//===- ExitCode.h - Exit codes that always read as failure ------*- C++ -*-===//
//
// A process's exit status keeps only the low 8 bits of the code given to
// exit() / _exit() / MPI_Abort: exit(256) reads as success. Every path that
// ends a process because something failed (tp_abort, an abort forwarded by a
// peer, a model that calls exit(n) inside tp_entry) goes through
// failureExitCode, so that a failure is never reported as 0.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_COMMON_EXITCODE_H
#define TP_RUNTIME_COMMON_EXITCODE_H

namespace tp::rt {

/// The exit status a failing process reports for `code`: its low 8 bits, or
/// 1 when those are 0 (0, 256, 512, ...).
inline int failureExitCode(int code) {
  int low = code & 0xff;
  return low != 0 ? low : 1;
}

} // namespace tp::rt

#endif // TP_RUNTIME_COMMON_EXITCODE_H
