//===- Pipelines.h - tp pass pipelines --------------------------*- C++ -*-===//
//
// Part of tp-mlir.
//
// The stages of the tp flow as pass pipelines, for tp-opt
// (`--tp-partition-pipeline`, `--tp-cpu-pipeline`) and for compilers that
// embed tp-mlir (find_package(TPMLIR), target TPMLIR::TPMLIR; see
// docs/embedding.md):
//
//   PassManager pm(ctx);            // ctx's registry has registerTPDialect
//   tp::TPOptions options;
//   options.tpSize = 4;
//   tp::buildTPPartitionPipeline(pm, options);
//   tp::buildTPCPUPipeline(pm, options);   // or buildTPGPUPipeline
//   if (failed(pm.run(module))) ...
//
// The pipelines run on a builtin.module. Options can also be parsed from
// text: `options.parseFromString("tp-size=4 entry=mlp")`.
//
//===----------------------------------------------------------------------===//

#ifndef TP_PIPELINES_PIPELINES_H
#define TP_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"
#include "tp/Dialect/TP/Analysis/Options.h"

namespace mlir {
namespace tp {

/// How tp-cpu-pipeline computes local GEMMs.
enum class CPUGemm {
  /// tp.gemm, then tp_rt_gemm calls (OpenBLAS in the MPI runtime).
  blas,
  /// Every contraction as generated loops (the reference path).
  loops
};

/// Options shared by the tp pipelines (typed; the names in quotes are the
/// textual option names).
struct TPOptions : public PassPipelineOptions<TPOptions> {
  PassOptions::Option<int64_t> tpSize{
      *this, "tp-size",
      llvm::cl::desc("Number of ranks in the tensor-parallel group"),
      llvm::cl::init(2)};
  PassOptions::Option<std::string> entry{
      *this, "entry",
      llvm::cl::desc("Entry function (default: the only public function)"),
      llvm::cl::init("")};
  // tp-partition-pipeline only.
  PassOptions::Option<UnevenPolicy> uneven{
      *this, "uneven",
      llvm::cl::desc("An annotated split that does not divide evenly"),
      llvm::cl::init(UnevenPolicy::Error), unevenPolicyValues()};
  PassOptions::Option<bool> shardedResults{
      *this, "sharded-results",
      llvm::cl::desc("Return split results as each rank's shard instead of "
                     "whole"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> sequenceParallel{
      *this, "sequence-parallel",
      llvm::cl::desc("Sequence parallelism: reduce_scatter + all_gather over "
                     "the tokens instead of all_reduce, token-wise ops on "
                     "token shards"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> unpackArguments{
      *this, "unpack-arguments",
      llvm::cl::desc("Run tp-unpack-arguments first: an argument the program "
                     "only cuts into pieces becomes one argument per piece "
                     "(the signature changes; tp.original_arguments says "
                     "how)"),
      llvm::cl::init(false)};
  // CPU target only (tp-cpu-pipeline).
  PassOptions::Option<CPUGemm> gemm{
      *this, "gemm",
      llvm::cl::desc("Local GEMMs on the CPU target: library calls or loops"),
      llvm::cl::init(CPUGemm::blas),
      llvm::cl::values(
          clEnumValN(CPUGemm::blas, "blas",
                     "tp_rt_gemm calls (OpenBLAS in the MPI runtime)"),
          clEnumValN(CPUGemm::loops, "loops",
                     "generated loops (the reference path)"))};
  // GPU target only (tp-gpu-pipeline).
  PassOptions::Option<std::string> cudaToolkit{
      *this, "cuda-toolkit",
      llvm::cl::desc("CUDA toolkit whose ptxas and fatbinary build the "
                     "kernels (GPU target)"),
      llvm::cl::init("/usr/local/cuda")};
  PassOptions::Option<std::string> gpuChip{
      *this, "gpu-chip",
      llvm::cl::desc("GPU architecture of the kernels (GPU target)"),
      llvm::cl::init("sm_90")};
  PassOptions::Option<std::string> gpuFeatures{
      *this, "gpu-features",
      llvm::cl::desc("PTX features of the kernels; sm_90 needs +ptx80 or "
                     "later (GPU target)"),
      llvm::cl::init("+ptx80")};
  PassOptions::Option<int64_t> gpuBlockSize{
      *this, "gpu-block-size",
      llvm::cl::desc("Threads per block of the generated kernels (GPU "
                     "target; a multiple of 32: row reductions take one "
                     "warp per row)"),
      llvm::cl::init(256)};
  PassOptions::Option<bool> gpuFusedAttention{
      *this, "gpu-fused-attention",
      llvm::cl::desc("Attention chains as tp_rt_attention calls (cuDNN's "
                     "fused SDPA, loaded at run time) with the generated "
                     "kernels as the fallback (GPU target; false: generated "
                     "kernels only)"),
      llvm::cl::init(true)};
  PassOptions::Option<std::string> gpuFormat{
      *this, "gpu-format",
      llvm::cl::desc("What gpu-module-to-binary embeds (GPU target): fatbin "
                     "(what tp-launch loads), or isa to read the kernels' "
                     "PTX in the output"),
      llvm::cl::init("fatbin")};
};

/// tp-partition, then cleanups (canonicalize, CSE): the per-rank program with
/// tp collectives on tensors. With `unpack-arguments=true`,
/// tp-unpack-arguments runs first.
void buildTPPartitionPipeline(OpPassManager &pm, const TPOptions &options);

/// From a partitioned module to the LLVM dialect for the CPU target:
/// manifest, slices, local GEMMs as `tp_rt_gemm` calls (`gemm=blas`, the
/// default; `gemm=loops` keeps them as loops), bufferization, deallocation,
/// tp runtime calls, loops, LLVM, and the `tp_entry` wrapper. Translate the result with
/// `mlir-translate --mlir-to-llvmir` and link it against a tp runtime.
void buildTPCPUPipeline(OpPassManager &pm, const TPOptions &options);

/// From a partitioned module to the LLVM dialect for the GPU target (CUDA,
/// sm_90 by default): manifest (target "gpu"), elementwise fusion, local
/// GEMMs as `tp_rt_gemm` calls (cuBLASLt, bias/GELU/ReLU epilogues folded),
/// bufferization into device memory (`gpu.alloc`), collectives as `tp_rt_*`
/// calls on device pointers, the other linalg ops as kernels (parallel loops
/// in blocks of `gpu-block-size` threads, NVVM, a fatbin built with the
/// toolkit's ptxas and fatbinary, embedded in the module), every GPU op on one
/// async token chain (one stream per call), and `tp_entry`. The pipeline
/// registers what it needs beyond the dialects (NVVM target, LLVM IR
/// translations for the kernels; tp/Conversion/Passes.h,
/// registerGPUTargetInterfaces) in the context when it runs. Translate the
/// result with `mlir-translate --mlir-to-llvmir` (the builtin, LLVM and GPU
/// dialect translations) and link the object against libtp_runtime_nccl.so
/// (its mgpu* and tp_rt_* symbols).
void buildTPGPUPipeline(OpPassManager &pm, const TPOptions &options);

/// Registers the pipelines with the global pass registry.
void registerTPPipelines();

} // namespace tp
} // namespace mlir

#endif // TP_PIPELINES_PIPELINES_H
