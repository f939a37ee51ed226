//===- Pipelines.cpp - tp pass pipelines ----------------------------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Pipelines/Pipelines.h"
#include "tp/Conversion/Passes.h"
#include "tp/Dialect/TP/Transforms/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::tp;

/// Appends upstream passes written as a textual pipeline. The strings are
/// fixed, so a parse error is a bug in this file.
static void addUpstream(OpPassManager &pm, StringRef pipeline) {
  std::string error;
  llvm::raw_string_ostream os(error);
  if (failed(parsePassPipeline(pipeline, pm, os)))
    llvm::report_fatal_error(llvm::Twine("tp pipeline: invalid upstream "
                                         "pipeline '") +
                             pipeline + "': " + error);
}

void mlir::tp::buildTPPartitionPipeline(OpPassManager &pm,
                                        const TPOptions &options) {
  TPPartitionOptions partition;
  partition.tpSize = options.tpSize;
  pm.addPass(createTPPartition(partition));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::tp::buildTPCPUPipeline(OpPassManager &pm, const TPOptions &options) {
  TPEmitManifestOptions manifest;
  manifest.entry = options.entry;
  manifest.target = "cpu";
  pm.addPass(createTPEmitManifest(manifest));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createTPLowerSlices());
  addUpstream(pm, "one-shot-bufferize{bufferize-function-boundaries "
                  "function-boundary-type-conversion=identity-layout-map}");
  addUpstream(pm, "buffer-deallocation-pipeline");
  pm.addPass(createTPLowerToRuntime());
  addUpstream(pm, "convert-linalg-to-loops,lower-affine,convert-scf-to-cf,"
                  "expand-strided-metadata,finalize-memref-to-llvm,"
                  "convert-math-to-llvm,convert-math-to-libm,"
                  "convert-arith-to-llvm,convert-index-to-llvm,"
                  "convert-func-to-llvm,convert-cf-to-llvm,"
                  "reconcile-unrealized-casts");
  pm.addPass(createTPEmitEntryPoint());
}

void mlir::tp::registerTPPipelines() {
  PassPipelineRegistration<TPOptions>(
      "tp-partition-pipeline",
      "Partition for tensor parallelism and clean up (tp-partition, "
      "canonicalize, cse)",
      buildTPPartitionPipeline);
  PassPipelineRegistration<TPOptions>(
      "tp-cpu-pipeline",
      "Lower a partitioned module to the LLVM dialect for the CPU target "
      "(MPI runtime)",
      buildTPCPUPipeline);
}
