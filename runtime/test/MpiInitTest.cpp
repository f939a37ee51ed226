//===- MpiInitTest.cpp - tp_init's communicator, made once and freed ------===//
//
// Run as `mpiexec -n N tp_runtime_mpi_init_test MODE`. The program owns MPI
// (as in AdoptMpiTest.c) and counts the communicators duplicated from
// MPI_COMM_WORLD and freed again, through an attribute on MPI_COMM_WORLD
// whose copy and delete callbacks MPI_Comm_dup and MPI_Comm_free call.
//
//   mismatch  TP_RANK / TP_WORLD_SIZE name a job size that MPI does not
//             have: tp_init fails after its MPI_Comm_dup, frees that
//             communicator, and leaves nothing initialized (the
//             collectives say tp_init failed, and why); a second
//             tp_init, with the variables gone, fails the same way at once
//             (no second MPI_Comm_dup). MPI still works for the program.
//   match     the variables agree with MPI: tp_init succeeds with one
//             communicator, which tp_finalize frees.
//
//===----------------------------------------------------------------------===//

#include "TestUtil.h"
#include "tp/runtime/tp_runtime.h"

#include <mpi.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int dups = 0;
int frees = 0;

int countDup(MPI_Comm, int, void *, void *valueIn, void *valueOut,
             int *copied) {
  ++dups;
  *static_cast<void **>(valueOut) = valueIn;
  *copied = 1;
  return MPI_SUCCESS;
}

int countFree(MPI_Comm comm, int, void *, void *) {
  if (comm != MPI_COMM_WORLD)
    ++frees;
  return MPI_SUCCESS;
}

/// What the callbacks counted, for the checks' messages.
std::string counted() {
  return "communicators made " + std::to_string(dups) + ", freed " +
         std::to_string(frees);
}

void setPlacement(int rank, int size) {
  setenv("TP_RANK", std::to_string(rank).c_str(), 1);
  setenv("TP_WORLD_SIZE", std::to_string(size).c_str(), 1);
}

void mismatch(int rank, int size) {
  setPlacement(rank, size + 1);
  const tp_status first = tp_init(nullptr, nullptr);
  const std::string firstError = tp_last_error();
  TP_CHECK(first == TP_ERR_INVALID_ARGUMENT);
  const std::string r = std::to_string(rank);
  TP_CHECK_CONTAINS(firstError,
                    "tp_init: TP_RANK=" + r +
                        " and TP_WORLD_SIZE=" + std::to_string(size + 1) +
                        ", but MPI has this process as rank " + r + " of " +
                        std::to_string(size));
  TP_CHECK_MSG(dups == 1 && frees == 1, counted());
  TP_CHECK(tp_rank() == -1 && tp_size() == -1);
  // The collectives, tp_barrier and tp_finalize are refused, saying why.
  const std::string notInitialized =
      "tp_init failed: " + firstError.substr(std::strlen("tp_init: ")) +
      "; the runtime is not initialized";
  float x = 1, y = 0;
  TP_CHECK(tp_all_reduce(&x, &y, 1, TP_F32, TP_SUM) == TP_ERR_STATE);
  TP_CHECK_CONTAINS(tp_last_error(), "tp_all_reduce: " + notInitialized);
  TP_CHECK(tp_barrier() == TP_ERR_STATE);
  TP_CHECK_CONTAINS(tp_last_error(), "tp_barrier: " + notInitialized);
  TP_CHECK(tp_finalize() == TP_ERR_STATE);
  TP_CHECK_CONTAINS(tp_last_error(), "tp_finalize: " + notInitialized);

  // Even with the cause gone, no second MPI_Comm_dup: a rank whose peers had
  // succeeded would wait in it forever.
  unsetenv("TP_RANK");
  unsetenv("TP_WORLD_SIZE");
  const tp_status second = tp_init(nullptr, nullptr);
  const std::string secondError = tp_last_error();
  TP_CHECK(second == first);
  TP_CHECK_MSG(secondError.rfind(firstError, 0) == 0, secondError);
  TP_CHECK_CONTAINS(secondError, "after the collective MPI_Comm_dup of "
                                 "MPI_COMM_WORLD, which runs once per "
                                 "process, tp_init cannot be retried");
  TP_CHECK_MSG(dups == 1 && frees == 1, "after the retry: " + counted());
  TP_CHECK(tp_rank() == -1 && tp_size() == -1);
  TP_CHECK(tp_all_reduce(&x, &y, 1, TP_F32, TP_SUM) == TP_ERR_STATE);
  TP_CHECK_CONTAINS(tp_last_error(), "tp_all_reduce: " + notInitialized);

  int one = 1, total = 0;
  TP_CHECK(MPI_Allreduce(&one, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD) ==
               MPI_SUCCESS &&
           total == size);
}

void match(int rank, int size) {
  setPlacement(rank, size);
  TP_CHECK(tp_init(nullptr, nullptr) == TP_OK);
  TP_CHECK(tp_rank() == rank && tp_size() == size);
  TP_CHECK_MSG(dups == 1 && frees == 0, counted());
  TP_CHECK(tp_finalize() == TP_OK);
  TP_CHECK_MSG(dups == 1 && frees == 1, "after tp_finalize: " + counted());
}

} // namespace

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank = -1, size = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int keyval = MPI_KEYVAL_INVALID;
  static int value = 0;
  MPI_Comm_create_keyval(countDup, countFree, &keyval, nullptr);
  MPI_Comm_set_attr(MPI_COMM_WORLD, keyval, &value);

  const std::string mode = argc > 1 ? argv[1] : "";
  tp::test::context() = "rank " + std::to_string(rank) + ", " + mode;
  if (mode == "mismatch")
    mismatch(rank, size);
  else if (mode == "match")
    match(rank, size);
  else
    TP_CHECK_MSG(false, "usage: tp_runtime_mpi_init_test mismatch|match");

  MPI_Comm_delete_attr(MPI_COMM_WORLD, keyval);
  MPI_Comm_free_keyval(&keyval);
  MPI_Finalize();
  return tp::test::testResult("tp_runtime_mpi_init_test");
}
