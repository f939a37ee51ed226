//===- GpuSelfTest.cpp - Smoke test of the GPU runtime on a real GPU ------===//
//
//   tp_gpu_selftest [--ranks N] [--host-ranks N]   everything (on a GPU
//                                    machine; N: most ranks, default 4)
//   tp_gpu_selftest --expect-no-driver   (ctest here: must abort cleanly)
//   tp_gpu_selftest --expect-no-driver-watchdog, --expect-no-driver-bad-id
//                                    (ctest here: tp_init's failures after
//                                    a real rendezvous)
//
// Built everywhere, run only where there is a GPU (ctest skips it otherwise;
// scripts/gpu-check.sh runs it). In this process: the mgpu* entry points
// (alloc, memset, copies in every direction, managed and host-registered
// memory, events, a PTX kernel loaded with mgpuModuleLoad and
// mgpuModuleLoadJIT and launched with mgpuLaunchKernel) and tp_rt_gemm
// against a CPU reference (f32, bf16, f16; every transpose pair; every
// epilogue; batches; padded leading dimensions; beta 0 and 0.5). Then, for
// n = 1 .. min(N, GPUs), n spawned ranks check every collective on device
// memory against values computed on the host (exact small integers), the
// tp_rt_* entry points, tp_barrier and the argument errors, and a CUDA graph
// of a tp_rt_gemm + tp_rt_all_reduce step captured and replayed; then the
// collectives with 2 and 4 ranks SHARING the GPUs through host memory
// (tp_set_collectives("host"), tp-launch --collectives host).
// Ends with "N passed, M failed".
//
//===----------------------------------------------------------------------===//

#include "Bootstrap/Spawn.h"
#include "Common/DType.h"
#include "tp/runtime/tp_runtime.h"
#include "tp/runtime/tp_runtime_gpu.h"

#include <cuda_runtime_api.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

extern "C" {
void *mgpuModuleLoad(void *data, size_t size);
void *mgpuModuleLoadJIT(void *data, int optLevel);
void mgpuModuleUnload(void *module);
void *mgpuModuleGetFunction(void *module, const char *name);
void mgpuLaunchKernel(void *f, intptr_t gx, intptr_t gy, intptr_t gz,
                      intptr_t bx, intptr_t by, intptr_t bz, int32_t smem,
                      void *stream, void **params, void **extra, size_t n);
void *mgpuStreamCreate();
void mgpuStreamDestroy(void *);
void mgpuStreamSynchronize(void *);
void mgpuStreamWaitEvent(void *, void *);
void *mgpuEventCreate();
void mgpuEventDestroy(void *);
void mgpuEventSynchronize(void *);
void mgpuEventRecord(void *, void *);
void *mgpuMemAlloc(uint64_t, void *, bool);
void mgpuMemFree(void *, void *);
void mgpuMemcpy(void *, void *, size_t, void *);
void mgpuMemset32(void *, unsigned, size_t, void *);
void mgpuMemset16(void *, unsigned short, size_t, void *);
void mgpuMemHostRegisterMemRef(int64_t, void *, int64_t);
void mgpuMemHostUnregisterMemRef(int64_t, void *, int64_t);
}

namespace {

int passed = 0, failed = 0;
int myRank = 0;

void check(bool ok, const std::string &what) {
  if (ok) {
    ++passed;
    return;
  }
  ++failed;
  std::fprintf(stderr, "rank %d: FAILED: %s\n", myRank, what.c_str());
}

void toDevice(void *dst, const void *src, size_t bytes) {
  mgpuMemcpy(dst, const_cast<void *>(src), bytes, nullptr);
  tp_rt_sync();
}

void toHost(void *dst, const void *src, size_t bytes) {
  mgpuMemcpy(dst, const_cast<void *>(src), bytes, nullptr);
  tp_rt_sync();
}

//===----------------------------------------------------------------------===//
// mgpu*
//===----------------------------------------------------------------------===//

const char addOnePtx[] = R"(
.version 7.0
.target sm_70
.address_size 64
.visible .entry add_one(.param .u64 p, .param .u32 n)
{
  .reg .pred %p<2>;
  .reg .b32 %r<7>;
  .reg .b64 %rd<5>;
  ld.param.u64 %rd1, [p];
  ld.param.u32 %r1, [n];
  mov.u32 %r2, %ctaid.x;
  mov.u32 %r3, %ntid.x;
  mov.u32 %r4, %tid.x;
  mad.lo.s32 %r5, %r2, %r3, %r4;
  setp.ge.u32 %p1, %r5, %r1;
  @%p1 bra DONE;
  cvta.to.global.u64 %rd2, %rd1;
  mul.wide.u32 %rd3, %r5, 4;
  add.s64 %rd4, %rd2, %rd3;
  ld.global.u32 %r6, [%rd4];
  add.s32 %r6, %r6, 1;
  st.global.u32 [%rd4], %r6;
DONE:
  ret;
}
)";

void testMgpu() {
  const size_t n = 1 << 18;
  void *s = mgpuStreamCreate();
  check(s == tp_rt_stream(), "mgpuStreamCreate returns the persistent stream");
  check(mgpuMemAlloc(0, s, false) == nullptr, "mgpuMemAlloc(0) is null");
  auto *d = static_cast<uint32_t *>(mgpuMemAlloc(n * 4, s, false));
  auto *e = static_cast<uint32_t *>(mgpuMemAlloc(n * 4, s, false));
  check(d && e, "mgpuMemAlloc");
  mgpuMemset32(d, 0xdeadbeefu, n, s);
  mgpuMemcpy(e, d, n * 4, s); // device to device
  std::vector<uint32_t> host(n, 0);
  mgpuMemcpy(host.data(), e, n * 4, s); // device to host
  mgpuStreamSynchronize(s);             // must really wait (host copy)
  bool ok = true;
  for (uint32_t v : host)
    ok &= v == 0xdeadbeefu;
  check(ok, "mgpuMemset32 + mgpuMemcpy D2D + D2H");
  mgpuMemset16(d, 0x1234, 2 * n, s);
  toHost(host.data(), d, n * 4);
  check(host[7] == 0x12341234u, "mgpuMemset16");
  for (size_t i = 0; i < n; ++i)
    host[i] = uint32_t(i);
  mgpuMemcpy(d, host.data(), n * 4, s); // host to device

  // A kernel, from PTX through both loaders.
  for (int jit = 0; jit < 2; ++jit) {
    void *module =
        jit ? mgpuModuleLoadJIT(const_cast<char *>(addOnePtx), 2)
            : mgpuModuleLoad(const_cast<char *>(addOnePtx), sizeof(addOnePtx));
    void *f = mgpuModuleGetFunction(module, "add_one");
    void *pointer = d;
    uint32_t count = uint32_t(n);
    void *params[] = {&pointer, &count};
    mgpuLaunchKernel(f, intptr_t((n + 255) / 256), 1, 1, 256, 1, 1, 0, s,
                     params, nullptr, 2);
    mgpuStreamSynchronize(s);
    mgpuStreamDestroy(s); // no-op on the persistent stream
    mgpuModuleUnload(module);
  }
  toHost(host.data(), d, n * 4);
  ok = true;
  for (size_t i = 0; i < n; ++i)
    ok &= host[i] == uint32_t(i) + 2;
  check(ok, "PTX kernel via mgpuModuleLoad / mgpuModuleLoadJIT + "
            "mgpuLaunchKernel");

  // Events.
  void *event = mgpuEventCreate();
  mgpuMemset32(d, 7, n, s);
  mgpuEventRecord(event, s);
  mgpuStreamWaitEvent(s, event);
  mgpuEventSynchronize(event);
  mgpuEventDestroy(event);
  toHost(host.data(), d, 16);
  check(host[3] == 7, "events");

  // Managed memory (isHostShared): host writes, device copies, host reads.
  auto *managed = static_cast<uint32_t *>(mgpuMemAlloc(4096, s, true));
  for (int i = 0; i < 1024; ++i)
    managed[i] = uint32_t(3 * i);
  mgpuMemcpy(d, managed, 4096, s);
  mgpuMemset32(managed, 0, 1024, s);
  mgpuStreamSynchronize(s);
  check(managed[100] == 0, "managed memory written by the device");
  mgpuMemcpy(managed, d, 4096, s);
  mgpuStreamSynchronize(s);
  check(managed[100] == 300, "managed memory read back");
  mgpuMemFree(managed, s);

  // Host-registered memref.
  std::vector<float> pinned(64, 1.5f);
  int64_t descriptor[5] = {int64_t(intptr_t(pinned.data())),
                           int64_t(intptr_t(pinned.data())), 0, 64, 1};
  mgpuMemHostRegisterMemRef(1, descriptor, 4);
  mgpuMemcpy(d, pinned.data(), 256, s);
  mgpuMemset32(pinned.data(), 0, 64, s); // device writes host memory
  mgpuStreamSynchronize(s);
  check(pinned[10] == 0.0f, "host-registered memref");
  mgpuMemHostUnregisterMemRef(1, descriptor, 4);

  mgpuMemFree(d, s);
  mgpuMemFree(e, s);
  tp_rt_sync();
}

//===----------------------------------------------------------------------===//
// tp_rt_gemm against the CPU
//===----------------------------------------------------------------------===//

float gelu(float x) {
  return 0.5f * x *
         (1.0f + std::tanh(0.7978845608f * (x + 0.044715f * x * x * x)));
}

/// Rounds to what `dtype` can hold.
float roundTo(int dtype, float x) {
  if (dtype == TP_BF16)
    return tp::rt::bf16ToF32(tp::rt::f32ToBf16(x));
  if (dtype == TP_F16)
    return tp::rt::f16ToF32(tp::rt::f32ToF16(x));
  return x;
}

std::vector<unsigned char> pack(int dtype, const std::vector<float> &v) {
  size_t es = dtype == TP_F32 ? 4 : 2;
  std::vector<unsigned char> out(v.size() * es);
  for (size_t i = 0; i < v.size(); ++i) {
    if (dtype == TP_F32) {
      std::memcpy(&out[i * 4], &v[i], 4);
    } else {
      uint16_t h = tp::rt::storeHalf(dtype, v[i]);
      std::memcpy(&out[i * 2], &h, 2);
    }
  }
  return out;
}

std::vector<float> unpack(int dtype, const std::vector<unsigned char> &b) {
  size_t es = dtype == TP_F32 ? 4 : 2;
  std::vector<float> v(b.size() / es);
  for (size_t i = 0; i < v.size(); ++i) {
    if (dtype == TP_F32) {
      std::memcpy(&v[i], &b[i * 4], 4);
    } else {
      uint16_t h;
      std::memcpy(&h, &b[i * 2], 2);
      v[i] = tp::rt::loadHalf(dtype, &h, 0);
    }
  }
  return v;
}

unsigned rngState = 12345;
float randomValue() {
  rngState = rngState * 1664525u + 1013904223u;
  return float(int((rngState >> 8) % 2001) - 1000) / 1000.0f;
}

struct GemmCase {
  int dtype, ta, tb;
  int64_t batch, m, n, k, pad;
  int epilogue;
  float beta;
};

void runGemm(const GemmCase &t) {
  const int64_t lda = (t.ta ? t.m : t.k) + t.pad;
  const int64_t ldb = (t.tb ? t.k : t.n) + t.pad;
  const int64_t ldc = t.n + t.pad;
  const int64_t sa = (t.ta ? t.k : t.m) * lda, sb = (t.tb ? t.n : t.k) * ldb,
                sc = t.m * ldc;
  auto fill = [&](int64_t count) {
    std::vector<float> v(static_cast<size_t>(count));
    for (float &x : v)
      x = roundTo(t.dtype, randomValue());
    return v;
  };
  std::vector<float> a = fill(t.batch * sa), b = fill(t.batch * sb),
                     c = fill(t.batch * sc), bias = fill(t.n);
  const bool useBias = t.epilogue == 1 || t.epilogue == 3 || t.epilogue == 5;
  std::vector<float> ref = c;
  double scale = 1;
  for (int64_t q = 0; q < t.batch; ++q)
    for (int64_t i = 0; i < t.m; ++i)
      for (int64_t j = 0; j < t.n; ++j) {
        double sum = 0;
        for (int64_t p = 0; p < t.k; ++p)
          sum +=
              double(t.ta ? a[q * sa + p * lda + i] : a[q * sa + i * lda + p]) *
              double(t.tb ? b[q * sb + j * ldb + p] : b[q * sb + p * ldb + j]);
        float x = float(sum) + (useBias ? bias[j] : 0.0f);
        if (t.epilogue == 2 || t.epilogue == 3)
          x = gelu(x);
        if (t.epilogue == 4 || t.epilogue == 5)
          x = x > 0 ? x : 0;
        float &out = ref[q * sc + i * ldc + j];
        out = t.beta * out + x;
        scale = std::fmax(scale, std::fabs(out));
      }
  auto upload = [&](const std::vector<float> &v) {
    std::vector<unsigned char> bytes = pack(t.dtype, v);
    void *d = mgpuMemAlloc(bytes.size(), nullptr, false);
    toDevice(d, bytes.data(), bytes.size());
    return d;
  };
  void *da = upload(a), *db = upload(b), *dc = upload(c), *dbias = upload(bias);
  for (int repeat = 0; repeat < 2; ++repeat) { // second: cached plan
    if (repeat)
      toDevice(dc, pack(t.dtype, c).data(), c.size() * (t.dtype ? 2 : 4));
    tp_rt_gemm(t.dtype, t.ta, t.tb, t.batch, t.m, t.n, t.k, da, lda, sa, db,
               ldb, sb, dc, ldc, sc, useBias ? dbias : nullptr, t.epilogue,
               t.beta);
  }
  std::vector<unsigned char> bytes(c.size() * (t.dtype == TP_F32 ? 4 : 2));
  toHost(bytes.data(), dc, bytes.size());
  std::vector<float> got = unpack(t.dtype, bytes);
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i)
    worst = std::fmax(worst, std::fabs(double(got[i]) - ref[i]));
  // bf16 / f16 outputs are rounded; f32 accumulates in f32 (no TF32). gelu:
  // cuBLASLt's own approximation.
  double tol = t.dtype == TP_BF16 ? 1.6e-2 : t.dtype == TP_F16 ? 2e-3 : 1e-4;
  if (t.epilogue == 2 || t.epilogue == 3)
    tol = std::fmax(tol, 2e-3);
  char what[256];
  std::snprintf(what, sizeof(what),
                "tp_rt_gemm %s %s%s batch %lld %lldx%lldx%lld pad %lld "
                "epilogue %d beta %g: max error %.3g (scale %.3g, tol %.1g)",
                tp::rt::dtypeName(t.dtype), t.ta ? "T" : "N", t.tb ? "T" : "N",
                (long long)t.batch, (long long)t.m, (long long)t.n,
                (long long)t.k, (long long)t.pad, t.epilogue, t.beta, worst,
                scale, tol);
  check(worst <= tol * scale, what);
  for (void *p : {da, db, dc, dbias})
    mgpuMemFree(p, nullptr);
}

void testGemm() {
  for (int dtype : {TP_F32, TP_BF16, TP_F16})
    for (int ta : {0, 1})
      for (int tb : {0, 1})
        for (int epilogue = 0; epilogue <= 5; ++epilogue)
          for (float beta : {0.0f, 0.5f}) {
            runGemm({dtype, ta, tb, 1, 33, 40, 24, 0, epilogue, beta});
            if (epilogue == 1 || epilogue == 3)
              runGemm({dtype, ta, tb, 3, 16, 24, 32, 8, epilogue, beta});
          }
  // GPT-2 sized, tensor cores.
  runGemm({TP_BF16, 0, 0, 1, 512, 768, 768, 0, 3, 0.0f});
  runGemm({TP_BF16, 0, 1, 12, 128, 128, 64, 0, 0, 0.0f});
  runGemm({TP_F32, 0, 0, 1, 256, 3072, 768, 0, 1, 1.0f});
  // Degenerate sizes do nothing.
  tp_rt_gemm(TP_F32, 0, 0, 1, 0, 8, 8, nullptr, 8, 0, nullptr, 8, 0, nullptr, 8,
             0, nullptr, 0, 0.0f);
  tp_rt_sync();
  check(true, "tp_rt_gemm with m = 0");
}

//===----------------------------------------------------------------------===//
// Collectives on device memory (one spawned rank per GPU)
//===----------------------------------------------------------------------===//

double valueAt(int rank, int64_t i) {
  return double((rank * 7 + i * 3) % 11) - 5;
}

void store(int dtype, void *buffer, int64_t i, double v) {
  switch (dtype) {
  case TP_F32:
    static_cast<float *>(buffer)[i] = float(v);
    break;
  case TP_F64:
    static_cast<double *>(buffer)[i] = v;
    break;
  case TP_F16:
  case TP_BF16:
    static_cast<uint16_t *>(buffer)[i] = tp::rt::storeHalf(dtype, float(v));
    break;
  case TP_I32:
    static_cast<int32_t *>(buffer)[i] = int32_t(v);
    break;
  case TP_I64:
    static_cast<int64_t *>(buffer)[i] = int64_t(v);
    break;
  }
}

double load(int dtype, const void *buffer, int64_t i) {
  switch (dtype) {
  case TP_F32:
    return static_cast<const float *>(buffer)[i];
  case TP_F64:
    return static_cast<const double *>(buffer)[i];
  case TP_F16:
  case TP_BF16:
    return tp::rt::loadHalf(dtype, static_cast<const uint16_t *>(buffer), i);
  case TP_I32:
    return static_cast<const int32_t *>(buffer)[i];
  default:
    return double(static_cast<const int64_t *>(buffer)[i]);
  }
}

double combine(int op, double a, double b) {
  return op == TP_SUM   ? a + b
         : op == TP_MAX ? std::fmax(a, b)
                        : std::fmin(a, b);
}

/// A device buffer of `count` elements filled from f(i) (+1 spare element).
struct DeviceBuffer {
  int dtype;
  int64_t count;
  void *device;
  DeviceBuffer(int dtype, int64_t count, double (*f)(int, int64_t), int rank)
      : dtype(dtype), count(count) {
    size_t es = tp::rt::dtypeSize(dtype);
    std::vector<unsigned char> host(size_t(count + 1) * es, 0);
    for (int64_t i = 0; i < count; ++i)
      store(dtype, host.data(), i, f ? f(rank, i) : 0.0);
    device = mgpuMemAlloc(host.size(), nullptr, false);
    toDevice(device, host.data(), host.size());
  }
  ~DeviceBuffer() { mgpuMemFree(device, nullptr); }
  std::vector<unsigned char> read() const {
    std::vector<unsigned char> host(size_t(count + 1) *
                                    tp::rt::dtypeSize(dtype));
    toHost(host.data(), device, host.size());
    return host;
  }
};

void testCollectives(int rank, int size, bool viaCompiledEntryPoints) {
  const char *how = viaCompiledEntryPoints ? "tp_rt_" : "tp_";
  for (int dtype : {TP_F32, TP_F64, TP_F16, TP_BF16, TP_I32, TP_I64}) {
    for (int op : {TP_SUM, TP_MAX, TP_MIN})
      for (int64_t count : {0, 1, 7, 1000})
        for (bool inPlace : {false, true}) {
          DeviceBuffer src(dtype, count, valueAt, rank);
          DeviceBuffer dst(dtype, count, nullptr, rank);
          void *out = inPlace ? src.device : dst.device;
          if (viaCompiledEntryPoints) {
            tp_rt_all_reduce(src.device, out, count, dtype, op);
            tp_rt_sync();
          } else {
            check(tp_all_reduce(src.device, out, count, tp_dtype(dtype),
                                tp_reduce_op(op)) == TP_OK,
                  std::string("tp_all_reduce: ") + tp_last_error());
          }
          auto host = (inPlace ? src : dst).read();
          bool ok = true;
          for (int64_t i = 0; i < count; ++i) {
            double want = valueAt(0, i);
            for (int r = 1; r < size; ++r)
              want = combine(op, want, valueAt(r, i));
            ok &= load(dtype, host.data(), i) == want;
          }
          check(ok, std::string(how) + "all_reduce " +
                        tp::rt::dtypeName(dtype) + " " +
                        tp::rt::reduceOpName(op) + " count " +
                        std::to_string(count) + (inPlace ? " in place" : ""));
        }
    for (int64_t outer : {1, 3})
      for (int64_t chunk : {0, 1, 5}) {
        // all_gather: dst[o][r][c] = src_r[o][c]
        DeviceBuffer src(dtype, outer * chunk, valueAt, rank);
        DeviceBuffer dst(dtype, outer * size * chunk, nullptr, rank);
        if (viaCompiledEntryPoints) {
          tp_rt_all_gather(src.device, dst.device, outer, chunk, dtype);
          tp_rt_sync();
        } else {
          check(tp_all_gather(src.device, dst.device, outer, chunk,
                              tp_dtype(dtype)) == TP_OK,
                std::string("tp_all_gather: ") + tp_last_error());
        }
        auto host = dst.read();
        bool ok = true;
        for (int64_t o = 0; o < outer; ++o)
          for (int r = 0; r < size; ++r)
            for (int64_t c = 0; c < chunk; ++c)
              ok &= load(dtype, host.data(), (o * size + r) * chunk + c) ==
                    valueAt(r, o * chunk + c);
        check(ok, std::string(how) + "all_gather " + tp::rt::dtypeName(dtype) +
                      " outer " + std::to_string(outer) + " chunk " +
                      std::to_string(chunk));
        // reduce_scatter: dst[o][c] = sum_r src_r[o][rank][c]
        for (int op : {TP_SUM, TP_MAX}) {
          DeviceBuffer rsSrc(dtype, outer * size * chunk, valueAt, rank);
          DeviceBuffer rsDst(dtype, outer * chunk, nullptr, rank);
          if (viaCompiledEntryPoints) {
            tp_rt_reduce_scatter(rsSrc.device, rsDst.device, outer, chunk,
                                 dtype, op);
            tp_rt_sync();
          } else {
            check(tp_reduce_scatter(rsSrc.device, rsDst.device, outer, chunk,
                                    tp_dtype(dtype), tp_reduce_op(op)) == TP_OK,
                  std::string("tp_reduce_scatter: ") + tp_last_error());
          }
          auto out = rsDst.read();
          ok = true;
          for (int64_t o = 0; o < outer; ++o)
            for (int64_t c = 0; c < chunk; ++c) {
              int64_t i = (o * size + rank) * chunk + c;
              double want = valueAt(0, i);
              for (int r = 1; r < size; ++r)
                want = combine(op, want, valueAt(r, i));
              ok &= load(dtype, out.data(), o * chunk + c) == want;
            }
          check(ok, std::string(how) + "reduce_scatter " +
                        tp::rt::dtypeName(dtype) + " " +
                        tp::rt::reduceOpName(op) + " outer " +
                        std::to_string(outer) + " chunk " +
                        std::to_string(chunk));
        }
      }
  }
}

/// A step of compiled code's kind -- a GEMM into a stream-ordered buffer,
/// an all_reduce, a free -- captured once and replayed three times; each
/// replay's result must equal size * (A B).
void testGraph(int size) {
  const int m = 8, n = 16, k = 32;
  std::vector<float> a(m * k), b(k * n);
  for (int i = 0; i < m * k; ++i)
    a[i] = float(i % 5 - 2);
  for (int i = 0; i < k * n; ++i)
    b[i] = float(i % 3 - 1);
  void *da = nullptr, *db = nullptr, *dy = nullptr;
  cudaMalloc(&da, a.size() * 4);
  cudaMalloc(&db, b.size() * 4);
  cudaMalloc(&dy, m * n * 4);
  cudaMemcpy(da, a.data(), a.size() * 4, cudaMemcpyHostToDevice);
  cudaMemcpy(db, b.data(), b.size() * 4, cudaMemcpyHostToDevice);
  auto step = [&] {
    void *s = mgpuStreamCreate();
    float *tmp = static_cast<float *>(mgpuMemAlloc(m * n * 4, s, false));
    tp_rt_gemm(TP_F32, 0, 0, 1, m, n, k, da, k, 0, db, n, 0, tmp, n, 0, nullptr,
               0, 0.0f);
    tp_rt_all_reduce(tmp, dy, m * n, TP_F32, TP_SUM);
    mgpuMemFree(tmp, s);
    mgpuStreamSynchronize(s);
    mgpuStreamDestroy(s);
  };
  std::vector<float> want(m * n, 0.0f), got(m * n);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j)
      for (int p = 0; p < k; ++p)
        want[i * n + j] += float(size) * a[i * k + p] * b[p * n + j];
  step(); // warm: cuBLASLt's handle and plan, NCCL
  tp_rt_sync();
  check(tp_rt_graph_begin() == 1,
        std::string("tp_rt_graph_begin: ") + tp_last_error());
  step();
  void *graph = tp_rt_graph_end();
  check(graph != nullptr, std::string("tp_rt_graph_end: ") + tp_last_error());
  if (graph) {
    for (int replay = 0; replay < 3; ++replay) {
      cudaMemset(dy, 0, m * n * 4);
      tp_rt_graph_launch(graph);
      tp_rt_sync();
      cudaMemcpy(got.data(), dy, m * n * 4, cudaMemcpyDeviceToHost);
      check(got == want, "CUDA graph replay " + std::to_string(replay) +
                             " of gemm + all_reduce");
    }
    tp_rt_graph_destroy(graph);
  }
  // A copy to host memory inside a capture is recorded, not fatal: the
  // capture is discarded with the reason.
  check(tp_rt_graph_begin() == 1, "tp_rt_graph_begin again");
  std::vector<float> host(4);
  mgpuMemcpy(host.data(), dy, 16, nullptr);
  check(tp_rt_graph_end() == nullptr &&
            std::strstr(tp_last_error(), "host memory"),
        std::string("capture with a host copy fails with the reason: ") +
            tp_last_error());
  cudaFree(da);
  cudaFree(db);
  cudaFree(dy);
}

int childMain(bool hostCollectives) {
  if (hostCollectives && tp_set_collectives("host") != TP_OK) {
    std::fprintf(stderr, "tp_set_collectives: %s\n", tp_last_error());
    return 1;
  }
  if (tp_init(nullptr, nullptr) != TP_OK) {
    std::fprintf(stderr, "tp_init: %s\n", tp_last_error());
    return 1;
  }
  myRank = tp_rank();
  const int size = tp_size();
  check(std::string(tp_backend_name()) == "nccl", "tp_backend_name");
  check(tp_rt_rank() == myRank && tp_rt_size() == size, "tp_rt_rank/size");
  testCollectives(myRank, size, false);
  testCollectives(myRank, size, true);
  check(tp_barrier() == TP_OK, std::string("tp_barrier: ") + tp_last_error());
  if (hostCollectives)
    check(tp_rt_graph_begin() == 0 &&
              std::strstr(tp_last_error(), "host memory"),
          std::string("capture refused with host collectives: ") +
              tp_last_error());
  else
    testGraph(size);
  // Errors come back as statuses with messages.
  float hostBuffer[4] = {};
  check(tp_all_reduce(hostBuffer, hostBuffer, 4, TP_F32, TP_SUM) ==
                TP_ERR_INVALID_ARGUMENT &&
            std::strstr(tp_last_error(), "host memory"),
        std::string("host pointer refused: ") + tp_last_error());
  check(tp_all_reduce(nullptr, nullptr, 4, TP_F32, TP_SUM) ==
            TP_ERR_INVALID_ARGUMENT,
        "null pointer refused");
  check(tp_all_gather(nullptr, nullptr, 1, 1, tp_dtype(42)) ==
            TP_ERR_INVALID_ARGUMENT,
        "bad dtype refused");
  check(tp_finalize() == TP_OK, std::string("tp_finalize: ") + tp_last_error());
  check(tp_all_reduce(nullptr, nullptr, 0, TP_F32, TP_SUM) == TP_ERR_STATE,
        "after tp_finalize");
  std::printf("rank %d of %d: collectives: %d passed, %d failed\n", myRank,
              size, passed, failed);
  return failed ? 1 : 0;
}

/// Here, without a GPU (libcuda.so.1 is CUDA's stub): two spawned ranks get
/// through the rendezvous, fail tp_init at cuInit, and then rank 1 dies
/// (mode "die") or aborts (mode "abort"). Rank 0 just sleeps: its watchdog
/// must end it, with the right exit code, long before the sleep is over.
int watchdogChild(const std::string &mode) {
  tp_status status = tp_init(nullptr, nullptr);
  const char *rankText = std::getenv("TP_RANK");
  const int rank = rankText ? std::atoi(rankText) : -1;
  if (status == TP_OK) {
    std::printf("rank %d: tp_init unexpectedly succeeded\n", rank);
    return 0;
  }
  if (rank == 1) {
    if (mode == "abort")
      tp_abort(5, "rank 1 gives up");
    _exit(0); // dies without finalizing
  }
  sleep(30);
  std::printf("rank %d: the watchdog did not end this rank\n", rank);
  return 0;
}

int watchdogTest(const char *self, const std::string &mode, int expected) {
  tp::boot::SpawnConfig config;
  config.executable = self;
  config.arguments = {self, "--watchdog-child", mode};
  config.ranks = 2;
  config.graceSeconds = 60;
  config.backstopSeconds = 60;
  config.name = "tp_gpu_selftest";
  std::string error;
  auto start = std::chrono::steady_clock::now();
  std::vector<tp::boot::RankExit> exits;
  int code = tp::boot::spawnRanks(config, error, &exits);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  int rankZero = -1;
  for (const auto &e : exits)
    if (e.rank == 0)
      rankZero = e.signaled ? 128 + e.code : e.code;
  std::printf("watchdog %s: rank 0 exit code %d after %.1f s (job %d)\n",
              mode.c_str(), rankZero, seconds, code);
  bool ok = rankZero == expected && seconds < 15;
  std::printf("watchdog %s: %s\n", mode.c_str(), ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}

/// Here, without a GPU: a job whose ranks disagree on the collectives. Rank
/// 0 uses the host collectives, so the rendezvous hands rank 1 the name of
/// its shared segment where rank 1 (NCCL) expects the 128-byte NCCL id.
/// Rank 1's tp_init fails with the id's size, and so does a second call,
/// with the same status and message and at once: no second rendezvous (rank
/// 0 would never serve one: it waits in its first barrier until its
/// watchdog sees rank 1 go). Nothing is initialized in between.
int badIdChild() {
  const char *rankText = std::getenv("TP_RANK");
  myRank = rankText ? std::atoi(rankText) : -1;
  if (myRank == 0) {
    if (tp_set_collectives("host") != TP_OK)
      return 3;
    tp_init(nullptr, nullptr);
    std::printf("rank 0: tp_init returned: %s\n", tp_last_error());
    return 4;
  }
  const tp_status first = tp_init(nullptr, nullptr);
  const std::string firstError = tp_last_error();
  auto start = std::chrono::steady_clock::now();
  const tp_status second = tp_init(nullptr, nullptr);
  const std::string secondError = tp_last_error();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf("rank 1: first tp_init: %s\nrank 1: second tp_init: %s\n",
              firstError.c_str(), secondError.c_str());
  check(first == TP_ERR_BACKEND &&
            firstError.find("rendezvous: got a ") != std::string::npos &&
            firstError.find("-byte id from rank 0, expected 128") !=
                std::string::npos,
        "first tp_init fails with the id's size: " + firstError);
  check(second == first, "second tp_init fails with the same status");
  check(secondError.rfind(firstError, 0) == 0 &&
            secondError.find("cannot be retried") != std::string::npos,
        "second tp_init repeats the first message: " + secondError);
  check(seconds < 1, "second tp_init returns at once, without a rendezvous (" +
                         std::to_string(seconds) + " s)");
  check(tp_rank() == -1 && tp_size() == -1, "tp_rank / tp_size still -1");
  check(tp_barrier() == TP_ERR_STATE, "tp_barrier refused");
  check(tp_all_reduce(nullptr, nullptr, 0, TP_F32, TP_SUM) == TP_ERR_STATE,
        "tp_all_reduce refused");
  const std::string refusal = tp_last_error();
  check(refusal == "tp_all_reduce: tp_init failed: " +
                       firstError.substr(std::strlen("tp_init: ")) +
                       "; the runtime is not initialized",
        "tp_all_reduce says that tp_init failed, and why: " + refusal);
  check(tp_finalize() == TP_ERR_STATE, "tp_finalize refused");
  std::printf("rank 1: bad id: %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

int badIdTest(const char *self) {
  // A retry that did rendezvous again would wait this long for rank 0.
  setenv("TP_RENDEZVOUS_TIMEOUT", "10", 1);
  tp::boot::SpawnConfig config;
  config.executable = self;
  config.arguments = {self, "--bad-id-child"};
  config.ranks = 2;
  config.graceSeconds = 60;
  config.backstopSeconds = 60;
  config.name = "tp_gpu_selftest";
  std::string error;
  std::vector<tp::boot::RankExit> exits;
  int code = tp::boot::spawnRanks(config, error, &exits);
  int codes[2] = {-1, -1};
  for (const auto &e : exits)
    if (e.rank == 0 || e.rank == 1)
      codes[e.rank] = e.signaled ? 128 + e.code : e.code;
  std::printf("bad id: rank 0 exit code %d, rank 1 exit code %d (job %d)\n",
              codes[0], codes[1], code);
  // Rank 1 passed its checks; rank 0's watchdog ended it when rank 1 went.
  bool ok = codes[1] == 0 && codes[0] == 1;
  std::printf("bad id: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}

} // namespace

int main(int argc, char **argv) {
  int maxRanks = 4;
  int hostRanks = 4; // --host-ranks: ranks sharing the GPUs (0: none)
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--expect-no-driver") {
      // Must abort inside with "tp: cuInit: ..." (ctest checks the text).
      void *p = mgpuMemAlloc(16, nullptr, false);
      std::printf("unexpected: mgpuMemAlloc returned %p\n", p);
      return 1;
    }
    if (arg == "--child")
      return childMain(false);
    if (arg == "--child-host")
      return childMain(true);
    if (arg == "--watchdog-child" && i + 1 < argc)
      return watchdogChild(argv[i + 1]);
    if (arg == "--bad-id-child")
      return badIdChild();
    if (arg == "--expect-no-driver-bad-id")
      return badIdTest(argv[0]);
    if (arg == "--expect-no-driver-watchdog") {
      int failures =
          watchdogTest(argv[0], "die", 1) + watchdogTest(argv[0], "abort", 5);
      return failures ? 1 : 0;
    }
    if (arg == "--ranks" && i + 1 < argc) {
      maxRanks = std::atoi(argv[++i]);
      continue;
    }
    if (arg == "--host-ranks" && i + 1 < argc) {
      hostRanks = std::atoi(argv[++i]);
      continue;
    }
    std::fprintf(stderr,
                 "usage: tp_gpu_selftest [--ranks N] [--host-ranks N]\n");
    return 2;
  }

  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices < 1) {
    std::printf("SKIPPED: no usable CUDA device\n");
    return 77;
  }
  cudaDeviceProp prop;
  cudaGetDeviceProperties(&prop, 0);
  std::printf("tp_gpu_selftest: %d device(s), device 0: %s (sm_%d%d)\n",
              devices, prop.name, prop.major, prop.minor);
  auto start = std::chrono::steady_clock::now();
  testMgpu();
  std::printf("mgpu*: %d passed, %d failed\n", passed, failed);
  int before = passed + failed;
  testGemm();
  std::printf("tp_rt_gemm: %d checks, %d failed so far\n",
              passed + failed - before, failed);
  std::fflush(stdout);

  // The collectives, in spawned ranks (one per GPU).
  char self[4096];
  ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
  self[len > 0 ? len : 0] = '\0';
  int rankRuns = 0;
  for (int n = 1; n <= std::min(devices, maxRanks); n *= 2) {
    tp::boot::SpawnConfig config;
    config.executable = self;
    config.arguments = {self, "--child"};
    config.ranks = n;
    config.backstopSeconds = 120;
    config.name = "tp_gpu_selftest";
    std::string error;
    int code = tp::boot::spawnRanks(config, error);
    check(code == 0, "collectives on " + std::to_string(n) +
                         " GPU(s): exit code " + std::to_string(code) + " " +
                         error);
    ++rankRuns;
  }
  // Ranks sharing the GPUs: collectives through host memory.
  for (int n : {2, 4}) {
    if (n > hostRanks)
      break;
    tp::boot::SpawnConfig config;
    config.executable = self;
    config.arguments = {self, "--child-host"};
    config.ranks = n;
    config.backstopSeconds = 180;
    config.name = "tp_gpu_selftest";
    std::string error;
    int code = tp::boot::spawnRanks(config, error);
    check(code == 0, "host collectives, " + std::to_string(n) + " ranks on " +
                         std::to_string(devices) + " GPU(s): exit code " +
                         std::to_string(code) + " " + error);
    ++rankRuns;
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  std::printf("tp_gpu_selftest: %.1f s, collectives run at %d world size(s)\n",
              seconds, rankRuns);
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
