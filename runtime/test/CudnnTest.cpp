//===- CudnnTest.cpp - tp_rt_attention's cuDNN pieces, without a GPU ------===//
//
//   tp_cudnn_test fallback FAKE_OLD FAKE_NO_EXECUTE FAKE_DECLINE
//     the load / decline logic over fake libraries (FakeCudnn.c): a missing
//     library, "off", a cuDNN older than 9.0, a missing entry point, an
//     operation cuDNN does not support; what cuDNN's fused attention cannot
//     take (f32, head sizes, strides); each reason logged once;
//   tp_cudnn_test descriptors LIBCUDNN
//     the real library: every descriptor of the SDPA graph that needs no
//     device (tensors, pointwise, reduction and matmul descriptors, their
//     operations, and the operation graph, which cuDNN 9 finalizes without
//     a handle) built and finalized for representative shapes, so cuDNN
//     itself checks the attribute types and values and how the operations
//     connect. Engines, plans and execution need a device: not checked.
//     Exits 77 (skipped) when the library cannot be loaded.
//
//===----------------------------------------------------------------------===//

#include "GPU/Cudnn.h"
#include "TestUtil.h"

#include "tp/runtime/tp_runtime.h"

#include <cstring>

using namespace tp::gpu;
using tp::test::contains;

namespace {

AttentionArgs representative(bool causal, bool mask) {
  // 2 sequences x 12 heads, 128 tokens, head size 64, bf16, [N, S, D] dense;
  // K read as K^T is K's own memory.
  AttentionArgs a;
  a.dtype = TP_BF16;
  a.batch = 24;
  a.sq = a.skv = 128;
  a.d = a.dv = 64;
  for (int64_t *s : {a.q, a.k, a.v, a.o}) {
    s[0] = 128 * 64;
    s[1] = 64;
    s[2] = 1;
  }
  if (mask) {
    a.hasMask = true;
    a.mask[0] = 0; // shared by every batch
    a.mask[1] = 128;
    a.mask[2] = 1;
  }
  a.scale = 0.125f;
  a.causal = causal;
  return a;
}

void testFallback(const char *old, const char *noExecute, const char *decline) {
  CudnnApi api;
  std::string reason;
  TP_CHECK(!loadCudnn("/nonexistent/libcudnn.so.9", api, reason));
  TP_CHECK_MSG(contains(reason, "cannot load /nonexistent/libcudnn.so.9"),
               reason);
  TP_CHECK(!loadCudnn("off", api, reason));
  TP_CHECK_MSG(contains(reason, "TP_CUDNN_LIBRARY=off"), reason);
  TP_CHECK(!loadCudnn(old, api, reason));
  TP_CHECK_MSG(contains(reason, "cuDNN 8.9.7") &&
                   contains(reason, "older than 9.0"),
               reason);
  TP_CHECK(!loadCudnn(noExecute, api, reason));
  TP_CHECK_MSG(contains(reason, "lacks cudnnBackendExecute"), reason);
  TP_CHECK(api.execute == nullptr); // a failed load leaves api untouched

  // Loads, then declines the graph: the first operation's finalize fails.
  TP_CHECK_MSG(loadCudnn(decline, api, reason), reason);
  {
    AttentionGraph graph(api);
    TP_CHECK(!graph.buildOperations(representative(true, true), reason));
    TP_CHECK_MSG(contains(reason, "cudnnBackendFinalize(matmul operation)") &&
                     contains(reason, "NOT_SUPPORTED"),
                 reason);
  }

  // The library's name.
  auto env = [](const char *value) {
    return [value](const char *name) -> const char * {
      return std::strcmp(name, "TP_CUDNN_LIBRARY") == 0 ? value : nullptr;
    };
  };
  TP_CHECK(cudnnLibraryName(env(nullptr)) == "libcudnn.so.9");
  TP_CHECK(cudnnLibraryName(env("")) == "libcudnn.so.9");
  TP_CHECK(cudnnLibraryName(env("/x/libcudnn.so.9")) == "/x/libcudnn.so.9");

  // What is declined before any call.
  AttentionArgs a = representative(false, false);
  TP_CHECK(unsupportedAttention(a).empty());
  a.dtype = TP_F32;
  TP_CHECK(contains(unsupportedAttention(a), "f16 or bf16, not f32"));
  a = representative(false, false);
  a.d = 60;
  TP_CHECK(contains(unsupportedAttention(a), "head sizes 60/64"));
  a = representative(false, false);
  a.k[2] = 128; // K^T stored: the head dimension is not contiguous
  TP_CHECK(contains(unsupportedAttention(a), "stride other than 1"));
  a = representative(false, true);
  a.mask[2] = 2;
  TP_CHECK(contains(unsupportedAttention(a), "mask"));

  // Cache keys tell shapes, strides, masks and scales apart.
  AttentionArgs b = representative(true, false), c = b;
  TP_CHECK(attentionKey(b) == attentionKey(c));
  c.scale = 0.25f;
  TP_CHECK(attentionKey(b) != attentionKey(c));
  c = b;
  c.q[1] = 3 * 64;
  TP_CHECK(attentionKey(b) != attentionKey(c));
  TP_CHECK(describeAttention(b) == "bf16 24x128x128 d 64/64 causal");

  // Each message once; nothing printed when not verbose.
  std::vector<std::string> printed;
  AttentionLog verbose(true,
                       [&](const std::string &m) { printed.push_back(m); });
  TP_CHECK(verbose.note("generated kernels: x"));
  TP_CHECK(!verbose.note("generated kernels: x"));
  TP_CHECK(verbose.note("generated kernels: y"));
  TP_CHECK(printed.size() == 2 &&
           printed[0] == "tp_rt_attention: generated kernels: x");
  AttentionLog quiet(false,
                     [&](const std::string &m) { printed.push_back(m); });
  quiet.note("z");
  TP_CHECK(printed.size() == 2);
}

int testDescriptors(const char *library) {
  CudnnApi api;
  std::string reason;
  if (!loadCudnn(library, api, reason)) {
    std::printf("SKIPPED: the real cuDNN is not loadable here: %s\n",
                reason.c_str());
    return 77;
  }
  size_t version = api.getVersion();
  std::printf("cuDNN %zu.%zu.%zu from %s\n", version / 10000,
              version / 100 % 100, version % 100, library);
  struct Case {
    const char *name;
    AttentionArgs args;
    size_t operations;
  };
  AttentionArgs f16 = representative(false, false);
  f16.dtype = TP_F16;
  AttentionArgs fullMask = representative(false, true);
  fullMask.mask[0] = 128 * 128;
  Case cases[] = {
      // matmul, scale, max, sub, exp, sum, div, matmul
      {"bf16 plain", representative(false, false), 8},
      {"f16 plain", f16, 8},
      // + 2 gen_index, cmp_ge, select
      {"bf16 causal", representative(true, false), 12},
      // + mask add
      {"bf16 causal shared mask", representative(true, true), 13},
      {"bf16 full mask", fullMask, 9},
  };
  for (const Case &c : cases) {
    tp::test::context() = c.name;
    AttentionGraph graph(api);
    bool built = graph.buildOperations(c.args, reason);
    TP_CHECK_MSG(built, reason);
    TP_CHECK_MSG(!built || graph.operationCount() == c.operations,
                 std::to_string(graph.operationCount()) + " operations");
    // The operation graph too: cuDNN 9 finalizes it without a device
    // handle, checking how the operations connect.
    bool graphBuilt = built && graph.buildGraph(nullptr, reason);
    TP_CHECK_MSG(!built || graphBuilt, reason);
    // Engines need a device: without one, say what cuDNN answers.
    std::string plan = "no plan without a device";
    if (graphBuilt && !graph.buildPlan(nullptr, reason))
      plan += " (" + reason + ")";
    std::printf("  %-26s %s: %zu operations and the graph finalized; %s\n",
                c.name, describeAttention(c.args).c_str(),
                graph.operationCount(), plan.c_str());
  }
  tp::test::context().clear();
  return tp::test::testResult("tp_cudnn_test descriptors");
}

} // namespace

int main(int argc, char **argv) {
  if (argc == 5 && std::strcmp(argv[1], "fallback") == 0) {
    testFallback(argv[2], argv[3], argv[4]);
    return tp::test::testResult("tp_cudnn_test fallback");
  }
  if (argc == 3 && std::strcmp(argv[1], "descriptors") == 0)
    return testDescriptors(argv[2]);
  std::fprintf(stderr, "usage: tp_cudnn_test fallback OLD NO_EXECUTE DECLINE "
                       "| descriptors LIBCUDNN\n");
  return 2;
}
