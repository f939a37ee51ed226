//===- Environment.cpp - Where this process sits in the job ---------------===//

#include "Bootstrap/Environment.h"

#include <cerrno>
#include <climits>
#include <cstdlib>

namespace tp::boot {

GetEnv processEnvironment() {
  return [](const char *name) -> const char * { return std::getenv(name); };
}

bool parseInt(const char *text, int &value) {
  if (!text || !*text)
    return false;
  errno = 0;
  char *end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (errno != 0 || *end != '\0' || v < INT_MIN || v > INT_MAX ||
      text[0] == ' ' || text[0] == '\t')
    return false;
  value = int(v);
  return true;
}

namespace {

struct Family {
  const char *rank;
  const char *size;
  const char *localRank;
};

constexpr Family families[] = {
    {"TP_RANK", "TP_WORLD_SIZE", "TP_LOCAL_RANK"},
    {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE",
     "OMPI_COMM_WORLD_LOCAL_RANK"},
    {"PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID"},
    {"SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"},
};

bool readInt(const GetEnv &env, const char *name, int &value,
             std::string &error) {
  const char *text = env(name);
  if (!parseInt(text, value)) {
    error =
        std::string(name) + "='" + (text ? text : "") + "' is not an integer";
    return false;
  }
  return true;
}

} // namespace

bool detectPlacement(const GetEnv &env, Placement &placement,
                     std::string &error) {
  placement = Placement();
  for (const Family &family : families) {
    const char *rankText = env(family.rank);
    const char *sizeText = env(family.size);
    if (!rankText && !sizeText)
      continue;
    if (!rankText || !sizeText) {
      error = std::string(rankText ? family.rank : family.size) +
              " is set but " + (rankText ? family.size : family.rank) +
              " is not (set both, or neither)";
      return false;
    }
    int rank = 0, size = 0;
    if (!readInt(env, family.rank, rank, error) ||
        !readInt(env, family.size, size, error))
      return false;
    if (size < 1) {
      error = std::string(family.size) + "=" + sizeText + " must be at least 1";
      return false;
    }
    if (rank < 0 || rank >= size) {
      error = std::string(family.rank) + "=" + rankText + " is outside [0, " +
              std::to_string(size) + ") (" + family.size + "=" + sizeText + ")";
      return false;
    }
    placement.rank = rank;
    placement.size = size;
    placement.localRank = rank;
    placement.source = std::string(family.rank) + "/" + family.size;
    // The family's own local rank first, then the generic ones.
    for (const char *name : {family.localRank, "TP_LOCAL_RANK", "LOCAL_RANK"}) {
      if (!env(name))
        continue;
      int local = 0;
      if (!readInt(env, name, local, error))
        return false;
      if (local < 0) {
        error = std::string(name) + " must not be negative";
        return false;
      }
      placement.localRank = local;
      break;
    }
    return true;
  }
  return true;
}

int chooseDevice(const GetEnv &env, const Placement &placement, int deviceCount,
                 std::string &error) {
  if (deviceCount < 1) {
    error = "no CUDA device is visible (check CUDA_VISIBLE_DEVICES and "
            "nvidia-smi)";
    return -1;
  }
  if (const char *text = env("TP_DEVICE")) {
    int device = 0;
    if (!parseInt(text, device) || device < 0 || device >= deviceCount) {
      error = std::string("TP_DEVICE='") + text +
              "' is not a device number in [0, " + std::to_string(deviceCount) +
              ")";
      return -1;
    }
    return device;
  }
  return placement.localRank % deviceCount;
}

bool masterAddress(const GetEnv &env, const Placement &placement,
                   MasterAddress &address, std::string &error) {
  address = MasterAddress();
  if (const char *text = env("TP_RENDEZVOUS_TIMEOUT")) {
    char *end = nullptr;
    double seconds = std::strtod(text, &end);
    if (!*text || *end != '\0' || !(seconds > 0) || seconds > 1e6) {
      error = std::string("TP_RENDEZVOUS_TIMEOUT='") + text +
              "' is not a positive number of seconds";
      return false;
    }
    address.timeoutSeconds = seconds;
  }
  if (const char *text = env("TP_RENDEZVOUS_FD")) {
    int fd = -1;
    if (!parseInt(text, fd) || fd < 0) {
      error = std::string("TP_RENDEZVOUS_FD='") + text +
              "' is not a file descriptor";
      return false;
    }
    if (placement.rank == 0)
      address.listenFd = fd;
  }
  if (const char *secret = env("TP_RENDEZVOUS_SECRET"))
    address.secret = secret;
  if (address.secret.size() > 512) {
    error = "TP_RENDEZVOUS_SECRET is longer than 512 bytes";
    return false;
  }
  if (placement.size == 1) {
    address.host = "127.0.0.1";
    return true;
  }
  const char *host = env("TP_MASTER_ADDR");
  const char *port = env("TP_MASTER_PORT");
  if (!host || !*host || !port) {
    error = "a job of " + std::to_string(placement.size) + " ranks (from " +
            placement.source +
            ") needs TP_MASTER_ADDR and TP_MASTER_PORT: the host name of "
            "rank 0 and a free TCP port there, the same on every rank (or "
            "start the ranks with tp-launch --spawn on one node)";
    return false;
  }
  address.host = host;
  int value = 0;
  if (!parseInt(port, value) || value < 1 || value > 65535) {
    error = std::string("TP_MASTER_PORT='") + port +
            "' is not a TCP port (1..65535)";
    return false;
  }
  address.port = value;
  return true;
}

} // namespace tp::boot
