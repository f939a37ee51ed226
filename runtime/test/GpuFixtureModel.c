/*===- GpuFixtureModel.c - A hand-written "compiled GPU model" ------------===*\
|*                                                                            *|
|* Stands in for a model compiled by tp-mlir for target "gpu", built once per *|
|* tp size (-DTP_FIXTURE_SIZE=N -DW_L=12/N). Like generated code it gets      *|
|* DEVICE memref descriptors, allocates its results with mgpuMemAlloc, uses  *|
|* the stream MLIR's lowering creates around each step, and calls tp_rt_gemm *|
|* and tp_rt_all_reduce, all left undefined here and resolved against        *|
|* libtp_runtime_nccl.so, which tp-launch loaded.                            *|
|*                                                                            *|
|* A Megatron MLP on small integers (exact in f32, no TF32):                 *|
|* args:    0 x  f32 [8, 16]  replicated                                     *|
|*          1 w  f32 [16, 12] split dim 1 (column parallel)                  *|
|*          2 b  f32 [12]     split dim 0 (its bias)                         *|
|*          3 v  f32 [12, 8]  split dim 0 (row parallel)                     *|
|* results: 0 y  f32 [8, 8]   replicated: all_reduce(relu(x w + b) v)        *|
|*          1 h  f32 [8, 12]  split dim 1: relu(x w + b)                     *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include <stddef.h>
#include <stdint.h>

#if !defined(TP_FIXTURE_SIZE) || !defined(W_L)
#error "build with -DTP_FIXTURE_SIZE=N -DW_L=12/N"
#endif

#define STR_(x) #x
#define STR(x) STR_(x)
#define EXPORT __attribute__((visibility("default")))

/* clang-format off */
#define TENSOR(global, local, sharding)                                        \
  "  {\"dtype\": \"f32\", \"global_shape\": " global ", \"local_shape\": "     \
  local ", \"sharding\": " sharding "}"
EXPORT const char tp_manifest[] =
    "{\"format\": \"tp-manifest\", \"version\": 1, \"entry\": \"gpu_mlp\",\n"
    " \"tp_size\": " STR(TP_FIXTURE_SIZE) ", \"target\": \"gpu\",\n"
    " \"args\": [\n"
    TENSOR("[8, 16]", "[8, 16]", "{\"kind\": \"replicated\"}") ",\n"
    TENSOR("[16, 12]", "[16, " STR(W_L) "]", "{\"kind\": \"split\", \"dim\": 1}") ",\n"
    TENSOR("[12]", "[" STR(W_L) "]", "{\"kind\": \"split\", \"dim\": 0}") ",\n"
    TENSOR("[12, 8]", "[" STR(W_L) ", 8]", "{\"kind\": \"split\", \"dim\": 0}") "],\n"
    " \"results\": [\n"
    TENSOR("[8, 8]", "[8, 8]", "{\"kind\": \"replicated\"}") ",\n"
    TENSOR("[8, 12]", "[8, " STR(W_L) "]", "{\"kind\": \"split\", \"dim\": 1}") "]}\n";
/* clang-format on */

/* The runtime (libtp_runtime_nccl.so). */
void *mgpuStreamCreate(void);
void mgpuStreamSynchronize(void *stream);
void mgpuStreamDestroy(void *stream);
void *mgpuMemAlloc(uint64_t bytes, void *stream, _Bool hostShared);
void mgpuMemset32(void *dst, unsigned value, size_t count, void *stream);
void tp_rt_gemm(int32_t dtype, int32_t trans_a, int32_t trans_b, int64_t batch,
                int64_t m, int64_t n, int64_t k, const void *a, int64_t lda,
                int64_t stride_a, const void *b, int64_t ldb, int64_t stride_b,
                void *c, int64_t ldc, int64_t stride_c, const void *bias,
                int32_t epilogue, float beta);
void tp_rt_all_reduce(const void *src, void *dst, int64_t count, int32_t dtype,
                      int32_t op);

typedef struct {
  float *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} Memref2;
typedef struct {
  float *allocated, *aligned;
  int64_t offset, sizes[1], strides[1];
} Memref1;
typedef struct {
  Memref2 y, h;
} Results;

static void setResult(Memref2 *r, float *p, int64_t rows, int64_t cols) {
  r->allocated = r->aligned = p;
  r->offset = 0;
  r->sizes[0] = rows;
  r->sizes[1] = cols;
  r->strides[0] = cols;
  r->strides[1] = 1;
}

EXPORT void tp_entry(void **args) {
  Results *results = (Results *)args[0];
  const Memref2 *x = (const Memref2 *)args[1];
  const Memref2 *w = (const Memref2 *)args[2];
  const Memref1 *b = (const Memref1 *)args[3];
  const Memref2 *v = (const Memref2 *)args[4];
  /* What MLIR emits around a synchronous step: create, work, sync, destroy. */
  void *s = mgpuStreamCreate();
  float *h = (float *)mgpuMemAlloc(8 * W_L * sizeof(float), s, 0);
  float *y = (float *)mgpuMemAlloc(8 * 8 * sizeof(float), s, 0);
  mgpuMemset32(y, 0x7fc00000u /* NaN: must be overwritten */, 64, s);
  mgpuStreamSynchronize(s);
  mgpuStreamDestroy(s);
  /* h = relu(x w + b): [8, 16] x [16, W_L] */
  tp_rt_gemm(0, 0, 0, 1, 8, W_L, 16, x->aligned, 16, 0, w->aligned, W_L, 0, h,
             W_L, 0, b->aligned, 5 /* bias + relu */, 0.0f);
  /* y = h v: [8, W_L] x [W_L, 8], a partial sum */
  tp_rt_gemm(0, 0, 0, 1, 8, 8, W_L, h, W_L, 0, v->aligned, 8, 0, y, 8, 0, 0, 0,
             0.0f);
  tp_rt_all_reduce(y, y, 64, 0 /* f32 */, 0 /* sum */);
  setResult(&results->y, y, 8, 8);
  setResult(&results->h, h, 8, W_L);
}
