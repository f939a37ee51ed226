/*===- FixtureModel.c - A hand-written "compiled model" for tp-launch -----===*\
|*                                                                            *|
|* Stands in for a model compiled by tp-mlir, built once per tp size          *|
|* (-DTP_FIXTURE_SIZE=N and the local sizes). It exports tp_manifest and
tp_entry and calls the   *|
|* tp_rt_* entry points, which stay undefined here and resolve against the    *|
|* runtime library tp-launch loaded, exactly as generated code does.          *|
|*                                                                            *|
|* args:    0 x    f32  [3, 4] replicated                                     *|
|*          1 a    f32  [12, 3] split dim 0 (even at 1, 2, 3, 4 ranks) *|
|*          2 b    f32  [2, 7] split dim 1 (padded at 2, 3, 4 ranks) *|
|*          3 mode i32  []     replicated: 0 normal; on rank 1 only: *|
|*                             1 exit(3), 2 abort(), 3 hang, 4 bad collective,
*|
|*                             5 segfault, 6 exit(256) *|
|*          4 h    bf16 [5]    split dim 0, padded (fed from f32 data) *|
|*          5 g    f16  [4]    replicated (fed from f32 data) *|
|* results: 0 y0   f32  [3, 4]  partial(sum): rank r returns x * (r + 1)      *|
|*          1 y1   f32  [12, 3] split dim 0: 2 * a, returned through a        *|
|*                              transposed (non-contiguous) layout            *|
|*          2 y2   f32  [2, 7]  split dim 1: b + 1 (padding must be dropped)  *|
|*          3 y3   f32  []      replicated: sum(a) via tp_rt_all_reduce, NaN  *|
|*                              if tp_rt_all_gather / reduce_scatter / size   *|
|*                              misbehave                                     *|
|*          4 y4   bf16 [5]     split dim 0: 2 * h                            *|
|*          5 y5   i32  []      replicated: the `mode` argument itself        *|
|*          6 y6   i64  [3]     partial(max): rank * 10 + k                   *|
|*          7 y7   f16  [4]     partial(sum): g on every rank                 *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "tp/runtime/tp_runtime.h"

#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Local sizes come from the build as plain numbers so that they can be
 * spliced into the manifest text: A_L = 12 / P, B_L = ceil(7 / P),
 * H_L = ceil(5 / P). */
#if !defined(TP_FIXTURE_SIZE) || !defined(A_L) || !defined(B_L) || !defined(H_L)
#error "build with -DTP_FIXTURE_SIZE=N -DA_L=.. -DB_L=.. -DH_L=.."
#endif

#define P TP_FIXTURE_SIZE

#define STR_(x) #x
#define STR(x) STR_(x)

#define EXPORT __attribute__((visibility("default")))

/* clang-format off */
#ifdef TP_FIXTURE_BAD_MANIFEST
EXPORT const char tp_manifest[] =
    "{\"format\": \"tp-manifest\", \"version\": 1, \"entry\": \"fixture\", "
    "\"tp_size\": " STR(P) ", \"target\": \"cpu\", \"args\": [{\"dtype\": "
    "\"f32\", \"global_shape\": [3, 4]";
#else
#define TENSOR(dtype, global, local, sharding)                                 \
  "  {\"dtype\": \"" dtype "\", \"global_shape\": " global                     \
  ", \"local_shape\": " local ", \"sharding\": " sharding "}"
#define REPLICATED "{\"kind\": \"replicated\"}"
#define SPLIT(d) "{\"kind\": \"split\", \"dim\": " #d "}"
#define PARTIAL(r) "{\"kind\": \"partial\", \"reduction\": \"" r "\"}"
EXPORT const char tp_manifest[] =
    "{\"format\": \"tp-manifest\", \"version\": 1, \"entry\": \"fixture\",\n"
    " \"tp_size\": " STR(P) ", \"target\": \"cpu\",\n"
    " \"args\": [\n"
    TENSOR("f32", "[3, 4]", "[3, 4]", REPLICATED) ",\n"
    TENSOR("f32", "[12, 3]", "[" STR(A_L) ", 3]", SPLIT(0)) ",\n"
    TENSOR("f32", "[2, 7]", "[2, " STR(B_L) "]", SPLIT(1)) ",\n"
    TENSOR("i32", "[]", "[]", REPLICATED) ",\n"
    TENSOR("bf16", "[5]", "[" STR(H_L) "]", SPLIT(0)) ",\n"
    TENSOR("f16", "[4]", "[4]", REPLICATED) "],\n"
    " \"results\": [\n"
    TENSOR("f32", "[3, 4]", "[3, 4]", PARTIAL("sum")) ",\n"
    TENSOR("f32", "[12, 3]", "[" STR(A_L) ", 3]", SPLIT(0)) ",\n"
    TENSOR("f32", "[2, 7]", "[2, " STR(B_L) "]", SPLIT(1)) ",\n"
    TENSOR("f32", "[]", "[]", REPLICATED) ",\n"
    TENSOR("bf16", "[5]", "[" STR(H_L) "]", SPLIT(0)) ",\n"
    TENSOR("i32", "[]", "[]", REPLICATED) ",\n"
    TENSOR("i64", "[3]", "[3]", PARTIAL("max")) ",\n"
    TENSOR("f16", "[4]", "[4]", PARTIAL("sum")) "]}\n";
#endif
/* clang-format on */

/* Memref descriptors as MLIR's LLVM lowering lays them out. */
typedef struct {
  void *allocated, *aligned;
  int64_t offset;
} Memref0;
typedef struct {
  void *allocated, *aligned;
  int64_t offset, sizes[1], strides[1];
} Memref1;
typedef struct {
  void *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} Memref2;

typedef struct {
  Memref2 y0, y1, y2;
  Memref0 y3;
  Memref1 y4;
  Memref0 y5;
  Memref1 y6, y7;
} Results;

static float bf16ToFloat(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  float f;
  memcpy(&f, &u, 4);
  return f;
}

/* Exact for the fixture's values (they fit bf16). */
static uint16_t floatToBf16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return (uint16_t)(u >> 16);
}

static void *allocate(size_t bytes) { return malloc(bytes ? bytes : 1); }

static void set2(Memref2 *m, void *buffer, int64_t s0, int64_t s1, int64_t t0,
                 int64_t t1) {
  m->allocated = m->aligned = buffer;
  m->offset = 0;
  m->sizes[0] = s0;
  m->sizes[1] = s1;
  m->strides[0] = t0;
  m->strides[1] = t1;
}

static void set1(Memref1 *m, void *buffer, int64_t s0) {
  m->allocated = m->aligned = buffer;
  m->offset = 0;
  m->sizes[0] = s0;
  m->strides[0] = 1;
}

static void misbehave(int mode) {
  switch (mode) {
  case 1:
    exit(3);
  case 2:
    abort();
  case 3:
    for (;;)
      sleep(1);
  case 4: {
    float v = 1, w;
    tp_rt_all_reduce(&v, &w, 1, 99, TP_SUM); /* bad dtype */
    break;
  }
  case 5:
    raise(SIGSEGV);
    break;
  case 6:
    exit(256); /* an exit status of 0 if taken at face value */
  default:
    break;
  }
}

EXPORT void tp_entry(void **args) {
  Results *out = (Results *)args[0];
  const Memref2 *x = (const Memref2 *)args[1];
  const Memref2 *a = (const Memref2 *)args[2];
  const Memref2 *b = (const Memref2 *)args[3];
  const Memref0 *mode = (const Memref0 *)args[4];
  const Memref1 *h = (const Memref1 *)args[5];
  const Memref1 *g = (const Memref1 *)args[6];
  const int rank = tp_rt_rank();
  const float *xs = (const float *)x->aligned + x->offset;
  const float *as = (const float *)a->aligned + a->offset;
  const float *bs = (const float *)b->aligned + b->offset;
  const uint16_t *hs = (const uint16_t *)h->aligned + h->offset;
  int modeValue = *((const int32_t *)mode->aligned + mode->offset);

  if (rank == 1)
    misbehave(modeValue);
  /* For the test of a failed output write: rank 0 removes the (empty)
   * output folder it is told, after tp-launch checked it. */
  const char *doomed = getenv("TP_FIXTURE_REMOVE_DIR");
  if (rank == 0 && doomed)
    rmdir(doomed);

  /* y0 = x * (rank + 1), partial sum. */
  float *y0 = allocate(12 * sizeof(float));
  for (int i = 0; i < 12; ++i)
    y0[i] = xs[i] * (float)(rank + 1);
  set2(&out->y0, y0, 3, 4, 4, 1);

  /* y1 = 2 * a, stored column-major: element (i, j) at j * A_L + i. */
  float *y1 = allocate(A_L * 3 * sizeof(float));
  for (int i = 0; i < A_L; ++i)
    for (int j = 0; j < 3; ++j)
      y1[j * A_L + i] = 2 * as[i * 3 + j];
  set2(&out->y1, y1, A_L, 3, 1, A_L);

  /* y2 = b + 1 on the local [2][B_L] block, padding included. */
  float *y2 = allocate(2 * B_L * sizeof(float));
  for (int i = 0; i < 2 * B_L; ++i)
    y2[i] = bs[i] + 1;
  set2(&out->y2, y2, 2, B_L, B_L, 1);

  /* y3 = sum(a) over all ranks, checked against the other entry points. */
  float local = 0, total = 0;
  for (int i = 0; i < A_L * 3; ++i)
    local += as[i];
  tp_rt_all_reduce(&local, &total, 1, TP_F32, TP_SUM);
  int32_t me[2] = {rank, 100 + rank}, all[2 * P];
  tp_rt_all_gather(me, all, 2, 1, TP_I32);
  double ones[2 * P], reduced[2];
  for (int i = 0; i < 2 * P; ++i)
    ones[i] = 1;
  tp_rt_reduce_scatter(ones, reduced, 1, 2, TP_F64, TP_SUM);
  int ok = tp_rt_size() == P && reduced[0] == P && reduced[1] == P;
  for (int r = 0; r < P; ++r)
    ok = ok && all[r] == r && all[P + r] == 100 + r;
  float *y3 = allocate(sizeof(float));
  *y3 = ok ? total : NAN;
  out->y3.allocated = out->y3.aligned = y3;
  out->y3.offset = 0;

  /* y4 = 2 * h (bf16). */
  uint16_t *y4 = allocate(H_L * sizeof(uint16_t));
  for (int i = 0; i < H_L; ++i)
    y4[i] = floatToBf16(2 * bf16ToFloat(hs[i]));
  set1(&out->y4, y4, H_L);

  /* y5: return the argument itself (the launcher must not free it). */
  out->y5 = *mode;

  /* y6 = rank * 10 + k, partial max. */
  int64_t *y6 = allocate(3 * sizeof(int64_t));
  for (int k = 0; k < 3; ++k)
    y6[k] = rank * 10 + k;
  set1(&out->y6, y6, 3);

  /* y7 = g, partial sum (returned through a fresh buffer). */
  uint16_t *y7 = allocate(4 * sizeof(uint16_t));
  memcpy(y7, (const uint16_t *)g->aligned + g->offset, 4 * sizeof(uint16_t));
  set1(&out->y7, y7, 4);
}
