//===- HostCollectives.h - Collectives over host memory ---------*- C++ -*-===//
//
// Sharded programs on ONE GPU (tp-launch --collectives host): NCCL needs one
// device per rank, so ranks that share a device move their collectives'
// data through host memory instead. The ranks are processes on one node; they
// share a POSIX shared-memory segment (ShmTeam) with one slot per rank and a
// barrier. A collective stages each rank's piece from its (device) buffer
// into its slot, meets at the barrier, and every rank combines the slots it
// needs -- in rank order, in f32 for f16 / bf16 -- and stages the result back
// (Staging). Data larger than a slot goes piece by piece.
//
// Everything here is plain host code: the GPU backend plugs in a Staging
// that copies device <-> host on the persistent stream; the unit test
// (runtime.host_collectives) plugs in memcpy and runs real processes on a
// real segment. This is for correctness runs, not speed: every collective
// waits for the stream and copies through the host.
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_GPU_HOSTCOLLECTIVES_H
#define TP_RUNTIME_GPU_HOSTCOLLECTIVES_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace tp::gpu {

/// Moves a rank's data between its own buffers (device memory on the GPU)
/// and host memory. Both calls return only when the copy has finished.
class Staging {
public:
  virtual ~Staging() = default;
  virtual bool toHost(void *host, const void *src, size_t bytes,
                      std::string &error) = 0;
  virtual bool toDevice(void *dst, const void *host, size_t bytes,
                        std::string &error) = 0;
};

/// Staging for host buffers (tests; also what a CPU caller would use).
class HostStaging : public Staging {
public:
  bool toHost(void *host, const void *src, size_t bytes,
              std::string &error) override;
  bool toDevice(void *dst, const void *host, size_t bytes,
                std::string &error) override;
};

/// The processes of one job on one node and the memory they share: one slot
/// of slotBytes() per rank, and a barrier.
class HostTeam {
public:
  virtual ~HostTeam() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual size_t slotBytes() const = 0;
  virtual char *slot(int rank) = 0;
  /// Every rank waits until all have arrived; false with `error` after the
  /// team's timeout (a peer that never comes).
  virtual bool barrier(std::string &error) = 0;
};

/// A HostTeam on a POSIX shared-memory segment (shm_open + mmap). Rank 0
/// creates it (O_EXCL: never someone else's) before telling the others its
/// name; every other rank opens it; the last rank to map it removes the
/// name (rank 0 too, if the team never forms), so no name outlives the
/// job's start.
class ShmTeam : public HostTeam {
public:
  /// `name` starts with '/' (shm_open); `timeoutSeconds` bounds each barrier.
  static std::unique_ptr<ShmTeam> create(const std::string &name, int rank,
                                         int size, size_t slotBytes,
                                         double timeoutSeconds,
                                         std::string &error);
  ~ShmTeam() override;
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  size_t slotBytes() const override { return slotBytes_; }
  char *slot(int rank) override;
  bool barrier(std::string &error) override;

  /// A fresh segment name for this job: "/tp-host-<pid>-<random>".
  static std::string uniqueName();

private:
  ShmTeam() = default;
  std::string name_;
  int rank_ = 0, size_ = 0;
  size_t slotBytes_ = 0, mappedBytes_ = 0;
  double timeoutSeconds_ = 0;
  void *base_ = nullptr;
  bool unlinked_ = false;
};

/// The collectives of tp_runtime.h on a team (same semantics and layouts;
/// arguments are assumed checked by the caller). Counts are elements;
/// `dtype` / `op` are tp_dtype / tp_reduce_op values. f16 / bf16 are summed
/// in f32 in rank order and rounded once; MAX / MIN propagate NaN.
bool hostAllReduce(HostTeam &team, Staging &staging, const void *src, void *dst,
                   int64_t count, int64_t dtype, int64_t op,
                   std::string &error);
/// src [outer][chunk] -> dst [outer][size][chunk].
bool hostAllGather(HostTeam &team, Staging &staging, const void *src, void *dst,
                   int64_t outer, int64_t chunk, int64_t dtype,
                   std::string &error);
/// src [outer][size][chunk] -> dst [outer][chunk] (block `rank`, reduced).
bool hostReduceScatter(HostTeam &team, Staging &staging, const void *src,
                       void *dst, int64_t outer, int64_t chunk, int64_t dtype,
                       int64_t op, std::string &error);

/// Combines `count` elements of `inputs` arrays element-wise, in order,
/// into `out` (out may alias none of them). Exposed for the unit test.
void combineElements(int64_t dtype, int64_t op, const char *const *inputs,
                     int n, int64_t count, char *out);

/// NCCL needs one device per rank. Returns "" when a rank with `localRank`
/// on a node with `deviceCount` visible devices gets a device of its own,
/// else the message that says so and what to do. Only certain when every
/// rank of the node sees the same devices: an explicit TP_DEVICE
/// (`explicitDevice` >= 0) or a CUDA_VISIBLE_DEVICES (`visibleDevicesSet`:
/// a launcher may give each rank its own GPU as device 0) is not
/// second-guessed.
std::string sharedDeviceProblem(int rank, int localRank, int deviceCount,
                                int explicitDevice, bool visibleDevicesSet);

} // namespace tp::gpu

#endif // TP_RUNTIME_GPU_HOSTCOLLECTIVES_H
