//===- Spawn.h - Start N ranks of a program on this node --------*- C++ -*-===//
//
// `tp-launch --spawn N` (and tp_gpu_selftest) start N copies of themselves,
// one per GPU, without mpiexec. The parent opens the rendezvous socket on
// 127.0.0.1 (an ephemeral port, so no race for a free port) and hands it to
// rank 0 as an inherited descriptor; the other ranks connect to it. Each
// child gets:
//   TP_RANK=r  TP_WORLD_SIZE=N  TP_LOCAL_RANK=r  (the runtime then uses
//   device r % device count)  TP_MASTER_ADDR=127.0.0.1  TP_MASTER_PORT=port
//   TP_RENDEZVOUS_SECRET=<128 random bits, new for every job> and, for
//   rank 0 only, TP_RENDEZVOUS_FD=fd.
// The parent waits for all; when one fails it gives the others a grace
// period to end on their own (the runtime's liveness channel makes them
// abort) and then kills them.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_BOOTSTRAP_SPAWN_H
#define TP_RUNTIME_BOOTSTRAP_SPAWN_H

#include <string>
#include <vector>

namespace tp::boot {

/// The environment of spawned rank `rank` of `size`: `base` without any
/// TP_RANK, TP_WORLD_SIZE, TP_LOCAL_RANK, TP_MASTER_ADDR, TP_MASTER_PORT,
/// TP_RENDEZVOUS_FD, TP_RENDEZVOUS_SECRET, plus the values above
/// (TP_RENDEZVOUS_FD only for rank 0, when listenFd >= 0;
/// TP_RENDEZVOUS_SECRET when `secret` is not empty).
std::vector<std::string> rankEnvironment(const std::vector<std::string> &base,
                                         int rank, int size, int port,
                                         int listenFd,
                                         const std::string &secret = "");

/// A new random secret for one job (32 hex digits from getrandom), or ""
/// with `error` if the system has no randomness to give.
std::string newJobSecret(std::string &error);

/// How one rank ended.
struct RankExit {
  int rank = 0;
  bool signaled = false;
  int code = 0; ///< exit status, or the signal number
  bool killedByUs = false;
};

/// The exit code of the whole job from the ranks' ends in the order they
/// were seen: 0 if all exited 0; else the first failure's exit code (for a
/// signal, the signal number, as mpiexec reports it). Ranks the parent
/// killed after another failed do not decide it.
int overallExitCode(const std::vector<RankExit> &exits);

struct SpawnConfig {
  std::string executable;             ///< path to exec
  std::vector<std::string> arguments; ///< argv of every child, argv[0] too
  int ranks = 1;
  /// Kill everything after this many seconds and return 124 (0: never).
  double backstopSeconds = 0;
  /// After a rank fails, how long the others get to end on their own.
  double graceSeconds = 10;
  /// Program name for the parent's own messages ("tp-launch").
  std::string name = "tp-launch";
};

/// Starts the ranks and waits for all of them. Returns the job's exit code
/// (see overallExitCode), or -1 with `error` if the ranks could not be
/// started. `exits` receives how each rank ended, in the order seen.
int spawnRanks(const SpawnConfig &config, std::string &error,
               std::vector<RankExit> *exits = nullptr);

} // namespace tp::boot

#endif // TP_RUNTIME_BOOTSTRAP_SPAWN_H
