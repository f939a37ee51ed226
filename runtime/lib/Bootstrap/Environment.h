//===- Environment.h - Where this process sits in the job -------*- C++ -*-===//
//
// Runtime configuration read from the environment by the NCCL backend (never
// by the compiler): this process's rank, the world size, its rank on its
// node (which picks the GPU), and where the id exchange happens. Pure
// functions of an environment lookup, so that they are unit-tested without a
// GPU. The MPI backend reads only TP_RANK / TP_WORLD_SIZE, to check them
// against MPI.
//
// Rank and size, first complete family wins:
//   TP_RANK / TP_WORLD_SIZE                 (tp-launch --spawn, or by hand)
//   OMPI_COMM_WORLD_RANK / OMPI_COMM_WORLD_SIZE      (Open MPI's mpirun)
//   PMI_RANK / PMI_SIZE                     (MPICH / Intel MPI hydra)
//   SLURM_PROCID / SLURM_NTASKS             (srun)
//   none of them: rank 0 of 1.
// Local rank (GPU choice): TP_LOCAL_RANK, OMPI_COMM_WORLD_LOCAL_RANK,
// MPI_LOCALRANKID, SLURM_LOCALID, LOCAL_RANK, else the rank itself.
// Device: TP_DEVICE if set, else local rank % visible device count.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_BOOTSTRAP_ENVIRONMENT_H
#define TP_RUNTIME_BOOTSTRAP_ENVIRONMENT_H

#include <functional>
#include <string>

namespace tp::boot {

/// Looks a variable up; null when unset. std::getenv in production, a map in
/// the tests.
using GetEnv = std::function<const char *(const char *)>;

/// The process environment.
GetEnv processEnvironment();

struct Placement {
  int rank = 0;
  int size = 1;
  int localRank = 0;
  /// Which variables gave rank and size ("TP_RANK/TP_WORLD_SIZE", ...), or
  /// "default" when none was set.
  std::string source = "default";
};

/// Reads rank, size and local rank. False with a message naming the variable
/// for a malformed or inconsistent family (one variable of a pair set, a
/// non-integer, rank outside [0, size)).
bool detectPlacement(const GetEnv &env, Placement &placement,
                     std::string &error);

/// The GPU this process uses: TP_DEVICE if set (must be < deviceCount), else
/// localRank % deviceCount. -1 with `error` set when there is no device or
/// TP_DEVICE is bad.
int chooseDevice(const GetEnv &env, const Placement &placement, int deviceCount,
                 std::string &error);

/// Where rank 0 serves the NCCL unique id.
struct MasterAddress {
  std::string host; ///< TP_MASTER_ADDR (default 127.0.0.1 when size == 1)
  int port = 0;     ///< TP_MASTER_PORT
  /// TP_RENDEZVOUS_FD: a listening socket inherited from tp-launch --spawn
  /// (rank 0 only), -1 if none.
  int listenFd = -1;
  /// TP_RENDEZVOUS_TIMEOUT in seconds (default 120): how long ranks wait for
  /// each other during the exchange.
  double timeoutSeconds = 120;
  /// TP_RENDEZVOUS_SECRET: every rank's hello carries it and rank 0 accepts
  /// only peers that know it ("" when unset: any peer is accepted).
  /// tp-launch --spawn makes a random one per job.
  std::string secret;
};

/// Reads the TP_MASTER_* variables; needed only when size > 1. False with a
/// message that says what to set.
bool masterAddress(const GetEnv &env, const Placement &placement,
                   MasterAddress &address, std::string &error);

/// Strict decimal integer parse (optional sign, no spaces, in int range).
bool parseInt(const char *text, int &value);

} // namespace tp::boot

#endif // TP_RUNTIME_BOOTSTRAP_ENVIRONMENT_H
