/*===- AdoptMpiTest.c - tp_init inside a program that owns MPI ------------===*\
|*                                                                            *|
|* A host program that initialized MPI itself: tp_init must adopt it, and     *|
|* tp_finalize must leave it initialized for the host to finalize. Written in *|
|* C, so it also checks that tp_runtime.h is usable from C.                   *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "tp/runtime/tp_runtime.h"

#include <mpi.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: FAILED: %s (last error: %s)\n", __FILE__,        \
              __LINE__, #cond, tp_last_error());                               \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int worldRank = -1, worldSize = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &worldRank);
  MPI_Comm_size(MPI_COMM_WORLD, &worldSize);

  CHECK(strcmp(tp_last_error(), "") == 0);
  CHECK(tp_init(NULL, NULL) == TP_OK);
  CHECK(tp_rank() == worldRank && tp_size() == worldSize);

  double mine = worldRank + 1, sum = 0;
  CHECK(tp_all_reduce(&mine, &sum, 1, TP_F64, TP_SUM) == TP_OK);
  CHECK(sum == worldSize * (worldSize + 1) / 2.0);

  CHECK(tp_finalize() == TP_OK);
  int finalized = 1;
  MPI_Finalized(&finalized);
  CHECK(!finalized);

  /* MPI still works for the host after tp_finalize. */
  int one = 1, total = 0;
  MPI_Allreduce(&one, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  CHECK(total == worldSize);
  MPI_Finalize();
  if (failures == 0 && worldRank == 0)
    printf("adopt MPI: all checks passed\n");
  return failures ? 1 : 0;
}
