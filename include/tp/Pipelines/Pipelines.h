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
//   tp::buildTPCPUPipeline(pm, options);
//   if (failed(pm.run(module))) ...
//
// Both pipelines run on a builtin.module. Options can also be parsed from
// text: `options.parseFromString("tp-size=4 entry=mlp")`.
//
//===----------------------------------------------------------------------===//

#ifndef TP_PIPELINES_PIPELINES_H
#define TP_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mlir {
namespace tp {

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
};

/// tp-partition, then cleanups (canonicalize, CSE): the per-rank program with
/// tp collectives on tensors.
void buildTPPartitionPipeline(OpPassManager &pm, const TPOptions &options);

/// From a partitioned module to the LLVM dialect for the CPU target:
/// manifest, slices, bufferization, deallocation, tp runtime calls, loops,
/// LLVM, and the `tp_entry` wrapper. Translate the result with
/// `mlir-translate --mlir-to-llvmir` and link it against a tp runtime.
void buildTPCPUPipeline(OpPassManager &pm, const TPOptions &options);

/// Registers the pipelines with the global pass registry.
void registerTPPipelines();

} // namespace tp
} // namespace mlir

#endif // TP_PIPELINES_PIPELINES_H
