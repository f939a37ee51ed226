//===- CollectivesTest.cpp - The collective ABI on 1..N MPI ranks ---------===//
//
// Run as `mpiexec -n N tp_runtime_collectives_test`. Every rank fills its
// buffers with a value that depends on (rank, index), calls the collective and
// compares with what it computes locally for all ranks. Values are small
// integers, exact in every dtype, so results must match exactly. Counts and
// chunks include sizes that do not divide by the rank count.
//
//===----------------------------------------------------------------------===//

#include "Common/DType.h"
#include "TestUtil.h"
#include "tp/runtime/tp_runtime.h"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

using namespace tp;

namespace {

const tp_dtype allDTypes[] = {TP_F32, TP_F64, TP_F16, TP_BF16, TP_I32, TP_I64};
const tp_reduce_op allOps[] = {TP_SUM, TP_MAX, TP_MIN};

/// The value rank `rank` contributes at flat index `i`: an integer in [-5, 5].
double valueAt(int rank, int64_t i) {
  return double((rank * 7 + i * 3) % 11) - 5;
}

void store(tp_dtype dtype, void *buffer, int64_t i, double v) {
  switch (dtype) {
  case TP_F32:
    static_cast<float *>(buffer)[i] = float(v);
    break;
  case TP_F64:
    static_cast<double *>(buffer)[i] = v;
    break;
  case TP_F16:
  case TP_BF16:
    static_cast<uint16_t *>(buffer)[i] = rt::storeHalf(dtype, float(v));
    break;
  case TP_I32:
    static_cast<int32_t *>(buffer)[i] = int32_t(v);
    break;
  case TP_I64:
    static_cast<int64_t *>(buffer)[i] = int64_t(v);
    break;
  }
}

double load(tp_dtype dtype, const void *buffer, int64_t i) {
  switch (dtype) {
  case TP_F32:
    return static_cast<const float *>(buffer)[i];
  case TP_F64:
    return static_cast<const double *>(buffer)[i];
  case TP_F16:
  case TP_BF16:
    return rt::loadHalf(dtype, static_cast<const uint16_t *>(buffer), i);
  case TP_I32:
    return static_cast<const int32_t *>(buffer)[i];
  case TP_I64:
    return double(static_cast<const int64_t *>(buffer)[i]);
  }
  return NAN;
}

std::vector<unsigned char> makeBuffer(tp_dtype dtype, int64_t count) {
  // Non-empty even for count 0, so data() is never null.
  return std::vector<unsigned char>(size_t(count + 1) * rt::dtypeSize(dtype),
                                    0xab);
}

double combine(tp_reduce_op op, double a, double b) {
  return op == TP_SUM   ? a + b
         : op == TP_MAX ? std::fmax(a, b)
                        : std::fmin(a, b);
}

double reduceOverRanks(tp_reduce_op op, int size, int64_t i) {
  double r = valueAt(0, i);
  for (int k = 1; k < size; ++k)
    r = combine(op, r, valueAt(k, i));
  return r;
}

std::string describe(const char *what, tp_dtype dtype, int64_t a, int64_t b,
                     int op = -1) {
  std::string s = std::string(what) + " " + rt::dtypeName(dtype) + " " +
                  std::to_string(a) + "x" + std::to_string(b);
  if (op >= 0)
    s += std::string(" ") + rt::reduceOpName(op);
  return s;
}

void testAllReduce(int rank, int size, tp_dtype dtype, tp_reduce_op op,
                   int64_t count, bool inPlace) {
  test::context() = describe(inPlace ? "all_reduce(in place)" : "all_reduce",
                             dtype, count, 1, op);
  auto src = makeBuffer(dtype, count), dst = makeBuffer(dtype, count);
  for (int64_t i = 0; i < count; ++i)
    store(dtype, src.data(), i, valueAt(rank, i));
  void *out = inPlace ? src.data() : dst.data();
  TP_CHECK_MSG(tp_all_reduce(src.data(), out, count, dtype, op) == TP_OK,
               tp_last_error());
  int bad = 0;
  for (int64_t i = 0; i < count; ++i)
    bad += load(dtype, out, i) != reduceOverRanks(op, size, i);
  TP_CHECK_MSG(bad == 0, std::to_string(bad) + " wrong elements");
}

void testAllGather(int rank, int size, tp_dtype dtype, int64_t outer,
                   int64_t chunk) {
  test::context() = describe("all_gather", dtype, outer, chunk);
  auto src = makeBuffer(dtype, outer * chunk);
  auto dst = makeBuffer(dtype, outer * size * chunk);
  for (int64_t i = 0; i < outer * chunk; ++i)
    store(dtype, src.data(), i, valueAt(rank, i));
  TP_CHECK_MSG(tp_all_gather(src.data(), dst.data(), outer, chunk, dtype) ==
                   TP_OK,
               tp_last_error());
  int bad = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int r = 0; r < size; ++r)
      for (int64_t c = 0; c < chunk; ++c)
        bad += load(dtype, dst.data(), (o * size + r) * chunk + c) !=
               valueAt(r, o * chunk + c);
  TP_CHECK_MSG(bad == 0, std::to_string(bad) + " wrong elements");
}

void testReduceScatter(int rank, int size, tp_dtype dtype, tp_reduce_op op,
                       int64_t outer, int64_t chunk) {
  test::context() = describe("reduce_scatter", dtype, outer, chunk, op);
  auto src = makeBuffer(dtype, outer * size * chunk);
  auto dst = makeBuffer(dtype, outer * chunk);
  for (int64_t i = 0; i < outer * size * chunk; ++i)
    store(dtype, src.data(), i, valueAt(rank, i));
  TP_CHECK_MSG(tp_reduce_scatter(src.data(), dst.data(), outer, chunk, dtype,
                                 op) == TP_OK,
               tp_last_error());
  int bad = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < chunk; ++c)
      bad += load(dtype, dst.data(), o * chunk + c) !=
             reduceOverRanks(op, size, (o * size + rank) * chunk + c);
  TP_CHECK_MSG(bad == 0, std::to_string(bad) + " wrong elements");
}

/// Local argument errors: the same on every rank, no communication.
void testArgumentErrors() {
  test::context() = "argument errors";
  float a[8] = {0}, b[8] = {0};
  auto expectInvalid = [](tp_status status, const char *part) {
    TP_CHECK(status == TP_ERR_INVALID_ARGUMENT);
    TP_CHECK_CONTAINS(tp_last_error(), part);
  };
  expectInvalid(tp_all_reduce(nullptr, b, 4, TP_F32, TP_SUM),
                "tp_all_reduce: src is null");
  expectInvalid(tp_all_reduce(a, nullptr, 4, TP_F32, TP_SUM), "dst is null");
  expectInvalid(tp_all_reduce(a, b, -1, TP_F32, TP_SUM), "count is negative");
  expectInvalid(tp_all_reduce(a, b, 4, static_cast<tp_dtype>(99), TP_SUM),
                "unknown dtype 99");
  expectInvalid(tp_all_reduce(a, b, 4, TP_F32, static_cast<tp_reduce_op>(7)),
                "unknown reduction op 7");
  expectInvalid(tp_all_reduce(a, a + 1, 4, TP_F32, TP_SUM), "overlap");
  expectInvalid(tp_all_gather(nullptr, b, 1, 1, TP_F32),
                "tp_all_gather: src is null");
  expectInvalid(tp_all_gather(a, b, -2, 1, TP_F32), "outer is negative");
  expectInvalid(tp_all_gather(a, b, 1, 1, static_cast<tp_dtype>(-1)),
                "unknown dtype -1");
  expectInvalid(tp_all_gather(a, a, 1, 1, TP_F32), "overlap");
  expectInvalid(tp_all_gather(a, b, INT64_MAX, 4, TP_F32), "overflows");
  expectInvalid(tp_reduce_scatter(a, nullptr, 1, 1, TP_F32, TP_SUM),
                "tp_reduce_scatter: dst is null");
  expectInvalid(tp_reduce_scatter(a, b, 1, -3, TP_F32, TP_SUM),
                "chunk is negative");
  expectInvalid(
      tp_reduce_scatter(a, b, 1, 1, TP_F32, static_cast<tp_reduce_op>(-1)),
      "unknown reduction op -1");
  // Null is fine when nothing is addressed.
  TP_CHECK(tp_all_reduce(nullptr, nullptr, 0, TP_F32, TP_SUM) == TP_OK);
  TP_CHECK(tp_all_gather(nullptr, nullptr, 0, 5, TP_I64) == TP_OK);
  TP_CHECK(tp_reduce_scatter(nullptr, nullptr, 3, 0, TP_BF16, TP_MAX) == TP_OK);
}

/// The entry points of compiled code, on their success path.
void testCompiledCodeEntryPoints(int rank, int size) {
  test::context() = "tp_rt_*";
  TP_CHECK(tp_rt_rank() == rank);
  TP_CHECK(tp_rt_size() == size);
  int64_t one = 1, total = 0;
  tp_rt_all_reduce(&one, &total, 1, TP_I64, TP_SUM);
  TP_CHECK(total == size);
  std::vector<int32_t> ranks(size_t(size) * 2, -1);
  int32_t mine[2] = {rank, rank * 10};
  tp_rt_all_gather(mine, ranks.data(), 2, 1, TP_I32);
  for (int r = 0; r < size; ++r) {
    TP_CHECK(ranks[size_t(r)] == r);
    TP_CHECK(ranks[size_t(size + r)] == r * 10);
  }
  std::vector<double> ones(size_t(size) * 3, 1.0);
  double got[3] = {0, 0, 0};
  tp_rt_reduce_scatter(ones.data(), got, 1, 3, TP_F64, TP_SUM);
  for (double g : got)
    TP_CHECK(g == size);
}

} // namespace

int main(int argc, char **argv) {
  // Before tp_init.
  float x = 1, y = 0;
  TP_CHECK(tp_rank() == -1 && tp_size() == -1);
  TP_CHECK(tp_all_reduce(&x, &y, 1, TP_F32, TP_SUM) == TP_ERR_STATE);
  TP_CHECK_CONTAINS(tp_last_error(), "tp_init has not been called");
  TP_CHECK(tp_finalize() == TP_ERR_STATE);
  TP_CHECK(tp_init(&argc, nullptr) == TP_ERR_INVALID_ARGUMENT);

  if (tp_init(&argc, &argv) != TP_OK) {
    std::fprintf(stderr, "tp_init failed: %s\n", tp_last_error());
    return 1;
  }
  TP_CHECK(tp_init(&argc, &argv) == TP_OK); // idempotent
  TP_CHECK(std::string(tp_backend_name()) == "mpi");
  const int rank = tp_rank(), size = tp_size();
  TP_CHECK(size >= 1 && rank >= 0 && rank < size);

  for (tp_dtype dtype : allDTypes)
    for (tp_reduce_op op : allOps)
      for (int64_t count : {0, 1, 7, 13, 1000})
        testAllReduce(rank, size, dtype, op, count, /*inPlace=*/count == 13);

  for (tp_dtype dtype : allDTypes)
    for (int64_t outer : {1, 3})
      for (int64_t chunk : {0, 1, 5})
        testAllGather(rank, size, dtype, outer, chunk);

  for (tp_dtype dtype : allDTypes)
    for (tp_reduce_op op : allOps)
      for (int64_t outer : {1, 3})
        for (int64_t chunk : {1, 5})
          testReduceScatter(rank, size, dtype, op, outer, chunk);

  testArgumentErrors();
  testCompiledCodeEntryPoints(rank, size);
  test::context().clear();
  TP_CHECK_MSG(tp_barrier() == TP_OK, tp_last_error());

  TP_CHECK(tp_finalize() == TP_OK);
  TP_CHECK(tp_rank() == -1);
  TP_CHECK(tp_barrier() == TP_ERR_STATE);
  TP_CHECK_CONTAINS(tp_last_error(), "finalized");
  TP_CHECK(tp_init(&argc, &argv) == TP_ERR_STATE);

  std::string name = "collectives (rank " + std::to_string(rank) + " of " +
                     std::to_string(size) + ")";
  return test::testResult(name.c_str());
}
