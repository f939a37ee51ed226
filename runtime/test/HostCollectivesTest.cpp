//===- HostCollectivesTest.cpp - Collectives over host memory, no GPU -----===//
//
// runtime.host_collectives: the code behind tp-launch --collectives host
// (GPU/HostCollectives.h) with real processes on a real shared-memory
// segment and host buffers in place of device memory (HostStaging): every
// collective, dtype and op at 1..4 ranks, counts and chunks not divisible by
// the rank count, in-place all_reduce, pieces larger than a slot (64-byte
// slots: many pieces per call) and one piece; NaN in MAX; f16 / bf16 summed
// once in f32; the barrier's timeout; segment errors; the shared-device
// message. Rank 0 is this process, ranks 1.. are forked children whose exit
// code is their failure count.
//
//===----------------------------------------------------------------------===//

#include "GPU/HostCollectives.h"
#include "Common/DType.h"
#include "TestUtil.h"

#include <cmath>
#include <cstring>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace tp;
using namespace tp::gpu;

namespace {

const int64_t allDTypes[] = {TP_F32, TP_F64, TP_F16, TP_BF16, TP_I32, TP_I64};

/// A small exact value for rank r, element i (exact in every dtype, and so
/// are sums of up to 4 of them).
double value(int r, int64_t i) { return double((r + 1) * 3 + (i % 11)) - 7; }

void store(int64_t dtype, std::vector<char> &buffer, int64_t i, double v) {
  char *p = buffer.data() + size_t(i) * rt::dtypeSize(dtype);
  switch (dtype) {
  case TP_F32: {
    float f = float(v);
    std::memcpy(p, &f, 4);
    break;
  }
  case TP_F64:
    std::memcpy(p, &v, 8);
    break;
  case TP_I32: {
    int32_t x = int32_t(v);
    std::memcpy(p, &x, 4);
    break;
  }
  case TP_I64: {
    int64_t x = int64_t(v);
    std::memcpy(p, &x, 8);
    break;
  }
  default: {
    uint16_t h = rt::storeHalf(dtype, float(v));
    std::memcpy(p, &h, 2);
  }
  }
}

double load(int64_t dtype, const std::vector<char> &buffer, int64_t i) {
  const char *p = buffer.data() + size_t(i) * rt::dtypeSize(dtype);
  switch (dtype) {
  case TP_F32: {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  case TP_F64: {
    double d;
    std::memcpy(&d, p, 8);
    return d;
  }
  case TP_I32: {
    int32_t x;
    std::memcpy(&x, p, 4);
    return x;
  }
  case TP_I64: {
    int64_t x;
    std::memcpy(&x, p, 8);
    return double(x);
  }
  default: {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return rt::loadHalf(dtype, &h, 0);
  }
  }
}

double reduced(int64_t op, int size, int64_t i) {
  double acc = value(0, i);
  for (int r = 1; r < size; ++r) {
    double v = value(r, i);
    acc = op == TP_SUM   ? acc + v
          : op == TP_MAX ? std::max(acc, v)
                         : std::min(acc, v);
  }
  return acc;
}

std::vector<char> buffer(int64_t dtype, int64_t count) {
  return std::vector<char>(size_t(count) * rt::dtypeSize(dtype) + 1, 0x5a);
}

/// Every collective, dtype and op on this rank of `team`.
void runCollectives(HostTeam &team) {
  HostStaging staging;
  const int me = team.rank(), p = team.size();
  std::string error;
  for (int64_t dtype : allDTypes) {
    const std::string name = rt::dtypeName(dtype);
    for (int64_t op : {TP_SUM, TP_MAX, TP_MIN}) {
      for (int64_t count :
           {int64_t(0), int64_t(1), int64_t(7), int64_t(1000)}) {
        test::context() = "all_reduce " + name + " op " + std::to_string(op) +
                          " count " + std::to_string(count) + " rank " +
                          std::to_string(me) + "/" + std::to_string(p);
        std::vector<char> src = buffer(dtype, count),
                          dst = buffer(dtype, count);
        for (int64_t i = 0; i < count; ++i)
          store(dtype, src, i, value(me, i));
        TP_CHECK_MSG(hostAllReduce(team, staging, src.data(), dst.data(), count,
                                   dtype, op, error),
                     error);
        for (int64_t i = 0; i < count; ++i)
          TP_CHECK(load(dtype, dst, i) == reduced(op, p, i));
        TP_CHECK(dst.back() == 0x5a); // nothing written past the end
        // In place.
        TP_CHECK_MSG(hostAllReduce(team, staging, src.data(), src.data(), count,
                                   dtype, op, error),
                     error);
        for (int64_t i = 0; i < count; ++i)
          TP_CHECK(load(dtype, src, i) == reduced(op, p, i));
      }
    }
    for (int64_t outer : {int64_t(1), int64_t(3)})
      for (int64_t chunk : {int64_t(0), int64_t(1), int64_t(5), int64_t(37)}) {
        test::context() = "all_gather " + name + " outer " +
                          std::to_string(outer) + " chunk " +
                          std::to_string(chunk) + " rank " +
                          std::to_string(me) + "/" + std::to_string(p);
        const int64_t per = outer * chunk;
        std::vector<char> src = buffer(dtype, per),
                          dst = buffer(dtype, per * p);
        for (int64_t e = 0; e < per; ++e)
          store(dtype, src, e, value(me, e));
        TP_CHECK_MSG(hostAllGather(team, staging, src.data(), dst.data(), outer,
                                   chunk, dtype, error),
                     error);
        for (int64_t o = 0; o < outer; ++o)
          for (int r = 0; r < p; ++r)
            for (int64_t c = 0; c < chunk; ++c)
              TP_CHECK(load(dtype, dst, (o * p + r) * chunk + c) ==
                       value(r, o * chunk + c));
        TP_CHECK(dst.back() == 0x5a);

        test::context() = "reduce_scatter " + name + " outer " +
                          std::to_string(outer) + " chunk " +
                          std::to_string(chunk) + " rank " +
                          std::to_string(me) + "/" + std::to_string(p);
        for (int64_t op : {TP_SUM, TP_MAX}) {
          std::vector<char> whole = buffer(dtype, per * p),
                            part = buffer(dtype, per);
          for (int64_t e = 0; e < per * p; ++e)
            store(dtype, whole, e, value(me, e));
          TP_CHECK_MSG(hostReduceScatter(team, staging, whole.data(),
                                         part.data(), outer, chunk, dtype, op,
                                         error),
                       error);
          for (int64_t o = 0; o < outer; ++o)
            for (int64_t c = 0; c < chunk; ++c)
              TP_CHECK(load(dtype, part, o * chunk + c) ==
                       reduced(op, p, (o * p + me) * chunk + c));
          TP_CHECK(part.back() == 0x5a);
        }
      }
  }
  // MAX propagates a NaN from any rank; f32 sums are in rank order.
  test::context() = "nan rank " + std::to_string(me);
  std::vector<char> src = buffer(TP_F32, 2), dst = buffer(TP_F32, 2);
  store(TP_F32, src, 0, me == p - 1 ? std::nan("") : 1.0);
  store(TP_F32, src, 1, 2.0);
  TP_CHECK_MSG(hostAllReduce(team, staging, src.data(), dst.data(), 2, TP_F32,
                             TP_MAX, error),
               error);
  TP_CHECK(std::isnan(load(TP_F32, dst, 0)));
  TP_CHECK(load(TP_F32, dst, 1) == 2.0);
  test::context().clear();
}

/// Runs `size` ranks on a fresh segment with `slotBytes` slots.
void runTeam(int size, size_t slotBytes) {
  const std::string name = ShmTeam::uniqueName();
  std::string error;
  std::unique_ptr<ShmTeam> team =
      ShmTeam::create(name, 0, size, slotBytes, 60, error);
  TP_CHECK_MSG(team != nullptr, error);
  if (!team)
    return;
  std::vector<pid_t> children;
  for (int r = 1; r < size; ++r) {
    pid_t pid = fork();
    if (pid == 0) {
      std::string childError;
      std::unique_ptr<ShmTeam> mine =
          ShmTeam::create(name, r, size, slotBytes, 60, childError);
      if (!mine) {
        std::fprintf(stderr, "rank %d: %s\n", r, childError.c_str());
        _exit(100);
      }
      runCollectives(*mine);
      _exit(std::min(test::failureCount(), 99));
    }
    children.push_back(pid);
  }
  runCollectives(*team);
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    TP_CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                 "a child rank failed (team of " + std::to_string(size) +
                     ", slot " + std::to_string(slotBytes) + ")");
  }
  // Rank 0 removed the name at the first barrier.
  std::unique_ptr<ShmTeam> late =
      ShmTeam::create(name, 1, size, slotBytes, 1, error);
  TP_CHECK(late == nullptr || size == 1);
}

void testErrors() {
  std::string error;
  // A peer that never arrives: the barrier times out with a message.
  std::unique_ptr<ShmTeam> alone =
      ShmTeam::create(ShmTeam::uniqueName(), 0, 2, 256, 0.3, error);
  TP_CHECK(alone != nullptr);
  if (alone) {
    TP_CHECK(!alone->barrier(error));
    TP_CHECK_CONTAINS(error, "timed out after");
    TP_CHECK_CONTAINS(error, "1 of 2 arrived");
  }
  // Opening a segment nobody created, a bad name, bad geometry.
  error.clear();
  TP_CHECK(!ShmTeam::create("/tp-host-missing-segment", 1, 2, 256, 1, error));
  TP_CHECK_CONTAINS(error, "cannot open shared memory");
  error.clear();
  TP_CHECK(!ShmTeam::create("no-slash", 0, 2, 256, 1, error));
  TP_CHECK_CONTAINS(error, "bad shared-memory name");
  error.clear();
  TP_CHECK(!ShmTeam::create("/tp-x", 2, 2, 256, 1, error));
  TP_CHECK_CONTAINS(error, "bad team geometry");
  // The name goes as soon as the last rank has mapped the segment.
  {
    const std::string pair = ShmTeam::uniqueName();
    std::unique_ptr<ShmTeam> first = ShmTeam::create(pair, 0, 2, 256, 1, error);
    TP_CHECK(first != nullptr);
    // (Linux keeps POSIX shared memory in /dev/shm.)
    TP_CHECK(access("/dev/shm", F_OK) != 0 ||
             access(("/dev/shm" + pair).c_str(), F_OK) == 0);
    std::unique_ptr<ShmTeam> second =
        ShmTeam::create(pair, 1, 2, 256, 1, error);
    TP_CHECK(second != nullptr);
    error.clear();
    TP_CHECK(!ShmTeam::create(pair, 1, 2, 256, 1, error));
    TP_CHECK_CONTAINS(error, "cannot open shared memory");
  }
  // Ranks that disagree on the team.
  const std::string name = ShmTeam::uniqueName();
  std::unique_ptr<ShmTeam> owner = ShmTeam::create(name, 0, 2, 256, 1, error);
  TP_CHECK(owner != nullptr);
  error.clear();
  TP_CHECK(!ShmTeam::create(name, 1, 2, 128, 1, error));
  TP_CHECK_CONTAINS(error, "128");
  error.clear();
  TP_CHECK(!ShmTeam::create(name, 1, 4, 256, 1, error));
  TP_CHECK_CONTAINS(error, "smaller than this team needs");
}

void testSharedDevice() {
  TP_CHECK(sharedDeviceProblem(0, 0, 1, -1, false).empty());
  TP_CHECK(sharedDeviceProblem(3, 3, 8, -1, false).empty());
  TP_CHECK(sharedDeviceProblem(1, 1, 1, 0, false).empty()); // TP_DEVICE
  // CUDA_VISIBLE_DEVICES may give each rank its own GPU as device 0.
  TP_CHECK(sharedDeviceProblem(1, 1, 1, -1, true).empty());
  std::string message = sharedDeviceProblem(1, 1, 1, -1, false);
  TP_CHECK_CONTAINS(message, "rank 1 (local rank 1) would share device 0");
  TP_CHECK_CONTAINS(message, "--collectives host");
  TP_CHECK_CONTAINS(sharedDeviceProblem(5, 5, 4, -1, false), "share device 1");
}

void testCombine() {
  // bf16: 1 + 2^-8 + 2^-8 rounds once (1.0078125 is exact in bf16), where
  // pairwise rounding would lose both small terms.
  uint16_t one = rt::f32ToBf16(1.0f), tiny = rt::f32ToBf16(1.0f / 256);
  const char *inputs[3] = {reinterpret_cast<const char *>(&one),
                           reinterpret_cast<const char *>(&tiny),
                           reinterpret_cast<const char *>(&tiny)};
  uint16_t out = 0;
  combineElements(TP_BF16, TP_SUM, inputs, 3, 1,
                  reinterpret_cast<char *>(&out));
  TP_CHECK(rt::bf16ToF32(out) == 1.0078125f);
  // i32 sums wrap instead of overflowing.
  int32_t big = INT32_MAX, two = 2, sum = 0;
  const char *ints[2] = {reinterpret_cast<const char *>(&big),
                         reinterpret_cast<const char *>(&two)};
  combineElements(TP_I32, TP_SUM, ints, 2, 1, reinterpret_cast<char *>(&sum));
  TP_CHECK(sum == INT32_MIN + 1);
}

} // namespace

int main() {
  testCombine();
  testSharedDevice();
  testErrors();
  for (int size : {1, 2, 3, 4})
    for (size_t slot : {size_t(8), size_t(1) << 16})
      runTeam(size, slot);
  return test::testResult("host_collectives");
}
