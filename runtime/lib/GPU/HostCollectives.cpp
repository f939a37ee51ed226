//===- HostCollectives.cpp - Collectives over host memory -----------------===//

#include "GPU/HostCollectives.h"

#include "Common/DType.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <sys/mman.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace tp::gpu {

namespace {

/// The segment's first page; the slots follow it.
struct Header {
  std::atomic<uint32_t> attached; // ranks that mapped the segment
  std::atomic<uint32_t> arrived;
  std::atomic<uint32_t> generation;
  uint32_t size;
  uint64_t slotBytes;
};
static_assert(std::atomic<uint32_t>::is_always_lock_free,
              "the barrier needs lock-free atomics in shared memory");

constexpr size_t headerBytes = 4096;

size_t roundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

Header *header(void *base) { return static_cast<Header *>(base); }

template <typename T> T combineTwo(int64_t op, T x, T y) {
  if (op == TP_SUM)
    return x + y;
  if constexpr (std::is_floating_point_v<T>)
    if (std::isnan(x) || std::isnan(y))
      return std::isnan(x) ? x : y;
  if (op == TP_MAX)
    return x > y ? x : y;
  return x < y ? x : y;
}

template <typename T>
void combineTyped(int64_t op, const char *const *inputs, int n, int64_t count,
                  char *out) {
  for (int64_t i = 0; i < count; ++i) {
    T acc;
    std::memcpy(&acc, inputs[0] + i * sizeof(T), sizeof(T));
    for (int r = 1; r < n; ++r) {
      T x;
      std::memcpy(&x, inputs[r] + i * sizeof(T), sizeof(T));
      acc = combineTwo(op, acc, x);
    }
    std::memcpy(out + i * sizeof(T), &acc, sizeof(T));
  }
}

/// Integer sums wrap (as NCCL's and MPI's do) instead of overflowing.
template <typename T, typename U>
void combineInteger(int64_t op, const char *const *inputs, int n, int64_t count,
                    char *out) {
  if (op != TP_SUM)
    return combineTyped<T>(op, inputs, n, count, out);
  for (int64_t i = 0; i < count; ++i) {
    U acc = 0;
    for (int r = 0; r < n; ++r) {
      T x;
      std::memcpy(&x, inputs[r] + i * sizeof(T), sizeof(T));
      acc += U(x);
    }
    T result = T(acc);
    std::memcpy(out + i * sizeof(T), &result, sizeof(T));
  }
}

void combineHalf(int64_t dtype, int64_t op, const char *const *inputs, int n,
                 int64_t count, char *out) {
  for (int64_t i = 0; i < count; ++i) {
    auto load = [&](int r) {
      uint16_t h;
      std::memcpy(&h, inputs[r] + i * 2, 2);
      return rt::loadHalf(dtype, &h, 0);
    };
    float acc = load(0);
    for (int r = 1; r < n; ++r)
      acc = combineTwo(op, acc, load(r));
    uint16_t h = rt::storeHalf(dtype, acc);
    std::memcpy(out + i * 2, &h, 2);
  }
}

/// Elements of one piece: what fits in a slot (at least one).
int64_t pieceElements(const HostTeam &team, size_t elementSize) {
  return std::max<int64_t>(1, int64_t(team.slotBytes() / elementSize));
}

} // namespace

//===----------------------------------------------------------------------===//
// Staging and the shared segment
//===----------------------------------------------------------------------===//

bool HostStaging::toHost(void *host, const void *src, size_t bytes,
                         std::string &) {
  if (bytes)
    std::memmove(host, src, bytes);
  return true;
}

bool HostStaging::toDevice(void *dst, const void *host, size_t bytes,
                           std::string &) {
  if (bytes)
    std::memmove(dst, host, bytes);
  return true;
}

std::string ShmTeam::uniqueName() {
  std::random_device device;
  char name[64];
  std::snprintf(name, sizeof(name), "/tp-host-%d-%08x%08x", int(getpid()),
                unsigned(device()), unsigned(device()));
  return name;
}

namespace {

/// Opens the team's segment: rank 0 (`creator`) creates it, the others
/// open it; -1 with `error` set on failure.
int openSegment(const std::string &name, bool creator, std::string &error) {
  int fd = creator ? shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600)
                   : shm_open(name.c_str(), O_RDWR, 0);
  if (fd < 0)
    error = "host collectives: cannot " +
            std::string(creator ? "create" : "open") + " shared memory " +
            name + ": " + std::strerror(errno) +
            (creator ? "" : " (rank 0 creates it; is /dev/shm mounted?)");
  return fd;
}

/// The creator reserves the segment's `bytes` now: a /dev/shm too small for
/// the team (containers often have 64 MiB) is a clear error here, not a
/// SIGBUS mid-collective. Another rank checks that the segment is as large.
/// On failure closes `fd` (the creator also removes the name).
bool sizeSegment(int fd, const std::string &name, bool creator, size_t bytes,
                 std::string &error) {
  if (creator) {
    int rc = ftruncate(fd, off_t(bytes)) != 0
                 ? errno
                 : posix_fallocate(fd, 0, off_t(bytes));
    if (rc != 0) {
      error = "host collectives: cannot reserve " + std::to_string(bytes) +
              " bytes of shared memory (" + name + "): " + std::strerror(rc) +
              " (is /dev/shm large enough?)";
      close(fd);
      shm_unlink(name.c_str());
      return false;
    }
    return true;
  }
  struct stat info;
  if (fstat(fd, &info) != 0 || size_t(info.st_size) < bytes) {
    error = "host collectives: shared memory " + name +
            " is smaller than this team needs (ranks disagree on the "
            "size or slot)";
    close(fd);
    return false;
  }
  return true;
}

/// Maps `bytes` of the segment and closes `fd`; null with `error` set (and
/// the name removed by the creator) on failure.
void *mapSegment(int fd, const std::string &name, bool creator, size_t bytes,
                 std::string &error) {
  void *base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (base != MAP_FAILED)
    return base;
  error = "host collectives: cannot map shared memory " + name + ": " +
          std::strerror(errno);
  if (creator)
    shm_unlink(name.c_str());
  return nullptr;
}

/// The creator writes the team's geometry into the header; another rank
/// checks that it agrees with its own.
bool attachHeader(Header *h, const std::string &name, bool creator, int size,
                  size_t slotBytes, std::string &error) {
  if (creator) {
    // ftruncate zero-fills: arrived = generation = 0 already.
    h->size = uint32_t(size);
    h->slotBytes = slotBytes;
    h->attached.store(1, std::memory_order_release);
    return true;
  }
  // Rank 0 wrote these before it sent the name (the rendezvous orders it).
  if (h->size != uint32_t(size) || h->slotBytes != slotBytes) {
    error = "host collectives: shared memory " + name + " is for " +
            std::to_string(h->size) + " ranks with " +
            std::to_string(h->slotBytes) + "-byte slots, this rank expects " +
            std::to_string(size) + " and " + std::to_string(slotBytes);
    return false;
  }
  return true;
}

} // namespace

std::unique_ptr<ShmTeam> ShmTeam::create(const std::string &name, int rank,
                                         int size, size_t slotBytes,
                                         double timeoutSeconds,
                                         std::string &error) {
  if (name.size() < 2 || name[0] != '/' ||
      name.find('/', 1) != std::string::npos) {
    error = "host collectives: bad shared-memory name '" + name + "'";
    return nullptr;
  }
  if (size < 1 || rank < 0 || rank >= size || slotBytes < 8) {
    error = "host collectives: bad team geometry (rank " +
            std::to_string(rank) + " of " + std::to_string(size) + ", slot " +
            std::to_string(slotBytes) + " bytes)";
    return nullptr;
  }
  std::unique_ptr<ShmTeam> team(new ShmTeam);
  team->name_ = name;
  team->rank_ = rank;
  team->size_ = size;
  team->slotBytes_ = roundUp(slotBytes, 64);
  team->timeoutSeconds_ = timeoutSeconds;
  team->mappedBytes_ = headerBytes + team->slotBytes_ * size_t(size);
  const bool creator = rank == 0;
  int fd = openSegment(name, creator, error);
  if (fd < 0 || !sizeSegment(fd, name, creator, team->mappedBytes_, error))
    return nullptr;
  void *base = mapSegment(fd, name, creator, team->mappedBytes_, error);
  if (!base)
    return nullptr;
  team->base_ = base;
  Header *h = header(base);
  if (!attachHeader(h, name, creator, size, team->slotBytes_, error))
    return nullptr;
  // The last rank to map the segment removes its name: every rank has it
  // open, and nothing is left in /dev/shm however the job ends from here.
  if (h->attached.fetch_add(creator ? 0 : 1, std::memory_order_acq_rel) +
          (creator ? 0 : 1) ==
      uint32_t(size)) {
    shm_unlink(name.c_str());
    team->unlinked_ = true;
  }
  return team;
}

ShmTeam::~ShmTeam() {
  if (base_)
    munmap(base_, mappedBytes_);
  if (rank_ == 0 && !unlinked_)
    shm_unlink(name_.c_str());
}

char *ShmTeam::slot(int rank) {
  return static_cast<char *>(base_) + headerBytes + size_t(rank) * slotBytes_;
}

bool ShmTeam::barrier(std::string &error) {
  Header *h = header(base_);
  const uint32_t generation = h->generation.load(std::memory_order_acquire);
  if (h->arrived.fetch_add(1, std::memory_order_acq_rel) + 1 ==
      uint32_t(size_)) {
    h->arrived.store(0, std::memory_order_relaxed);
    h->generation.fetch_add(1, std::memory_order_acq_rel);
  } else {
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    for (int spins = 0;
         h->generation.load(std::memory_order_acquire) == generation; ++spins) {
      if (spins < 1000) {
        std::this_thread::yield();
        continue;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      if (timeoutSeconds_ > 0 &&
          std::chrono::duration<double>(Clock::now() - start).count() >
              timeoutSeconds_) {
        error = "host collectives: timed out after " +
                std::to_string(int(timeoutSeconds_)) +
                " s waiting for the other ranks at a barrier (" +
                std::to_string(h->arrived.load()) + " of " +
                std::to_string(size_) + " arrived)";
        return false;
      }
    }
  }
  return true;
}

//===----------------------------------------------------------------------===//
// The collectives
//===----------------------------------------------------------------------===//

void combineElements(int64_t dtype, int64_t op, const char *const *inputs,
                     int n, int64_t count, char *out) {
  switch (dtype) {
  case TP_F32:
    return combineTyped<float>(op, inputs, n, count, out);
  case TP_F64:
    return combineTyped<double>(op, inputs, n, count, out);
  case TP_I32:
    return combineInteger<int32_t, uint32_t>(op, inputs, n, count, out);
  case TP_I64:
    return combineInteger<int64_t, uint64_t>(op, inputs, n, count, out);
  default:
    return combineHalf(dtype, op, inputs, n, count, out);
  }
}

bool hostAllReduce(HostTeam &team, Staging &staging, const void *src, void *dst,
                   int64_t count, int64_t dtype, int64_t op,
                   std::string &error) {
  const size_t es = rt::dtypeSize(dtype);
  const int64_t piece = pieceElements(team, es);
  const int p = team.size();
  std::vector<const char *> inputs(p);
  for (int r = 0; r < p; ++r)
    inputs[r] = team.slot(r);
  std::vector<char> out(size_t(std::min(piece, count)) * es);
  for (int64_t at = 0; at < count; at += piece) {
    const int64_t n = std::min(piece, count - at);
    const size_t bytes = size_t(n) * es;
    if (!staging.toHost(team.slot(team.rank()),
                        static_cast<const char *>(src) + at * es, bytes,
                        error) ||
        !team.barrier(error))
      return false;
    combineElements(dtype, op, inputs.data(), p, n, out.data());
    // The slots are read: the next piece may overwrite them.
    if (!team.barrier(error) ||
        !staging.toDevice(static_cast<char *>(dst) + at * es, out.data(), bytes,
                          error))
      return false;
  }
  return true;
}

bool hostAllGather(HostTeam &team, Staging &staging, const void *src, void *dst,
                   int64_t outer, int64_t chunk, int64_t dtype,
                   std::string &error) {
  const size_t es = rt::dtypeSize(dtype);
  const int p = team.size();
  const int64_t perRank = outer * chunk;
  const int64_t piece = pieceElements(team, es);
  std::vector<char> full(size_t(perRank) * size_t(p) * es);
  for (int64_t at = 0; at < perRank; at += piece) {
    const int64_t n = std::min(piece, perRank - at);
    if (!staging.toHost(team.slot(team.rank()),
                        static_cast<const char *>(src) + at * es,
                        size_t(n) * es, error) ||
        !team.barrier(error))
      return false;
    // Element e of rank r's [outer][chunk] goes to [e / chunk][r][e % chunk].
    for (int r = 0; r < p; ++r)
      for (int64_t e = at; e < at + n;) {
        const int64_t o = e / chunk, c = e % chunk;
        const int64_t run = std::min(chunk - c, at + n - e);
        std::memcpy(full.data() + size_t((o * p + r) * chunk + c) * es,
                    team.slot(r) + size_t(e - at) * es, size_t(run) * es);
        e += run;
      }
    if (!team.barrier(error))
      return false;
  }
  return staging.toDevice(dst, full.data(), full.size(), error);
}

bool hostReduceScatter(HostTeam &team, Staging &staging, const void *src,
                       void *dst, int64_t outer, int64_t chunk, int64_t dtype,
                       int64_t op, std::string &error) {
  const size_t es = rt::dtypeSize(dtype);
  const int p = team.size(), me = team.rank();
  const int64_t total = outer * p * chunk;
  const int64_t piece = pieceElements(team, es);
  std::vector<char> out(size_t(outer * chunk) * es);
  std::vector<const char *> inputs(p);
  for (int64_t at = 0; at < total; at += piece) {
    const int64_t n = std::min(piece, total - at);
    if (!staging.toHost(team.slot(me), static_cast<const char *>(src) + at * es,
                        size_t(n) * es, error) ||
        !team.barrier(error))
      return false;
    // The runs of [at, at + n) that lie in block `me` of some row.
    for (int64_t e = at; e < at + n;) {
      const int64_t o = e / (p * chunk), within = e % (p * chunk);
      const int64_t block = within / chunk, c = within % chunk;
      const int64_t run = std::min(chunk - c, at + n - e);
      if (block == me) {
        for (int r = 0; r < p; ++r)
          inputs[r] = team.slot(r) + size_t(e - at) * es;
        combineElements(dtype, op, inputs.data(), p, run,
                        out.data() + size_t(o * chunk + c) * es);
      }
      e += run;
    }
    if (!team.barrier(error))
      return false;
  }
  return staging.toDevice(dst, out.data(), out.size(), error);
}

std::string sharedDeviceProblem(int rank, int localRank, int deviceCount,
                                int explicitDevice, bool visibleDevicesSet) {
  if (explicitDevice >= 0 || visibleDevicesSet || deviceCount <= 0 ||
      localRank < deviceCount)
    return "";
  return "rank " + std::to_string(rank) + " (local rank " +
         std::to_string(localRank) + ") would share device " +
         std::to_string(localRank % deviceCount) + " with local rank " +
         std::to_string(localRank % deviceCount) + ": this node has " +
         std::to_string(deviceCount) +
         " visible device(s) and NCCL needs one device per rank; run at "
         "most " +
         std::to_string(deviceCount) +
         " rank(s) per node, or run tp-launch with --collectives host to "
         "share a device (collectives through host memory, for correctness "
         "runs)";
}

} // namespace tp::gpu
