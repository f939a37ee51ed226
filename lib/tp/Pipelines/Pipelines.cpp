//===- Pipelines.cpp - tp pass pipelines ----------------------------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Pipelines/Pipelines.h"
#include "tp/Conversion/Passes.h"
#include "tp/Dialect/TP/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::tp;

/// One-shot bufferization across function boundaries with contiguous
/// (identity-layout) buffers at the boundaries, then buffer deallocation.
static void addBufferization(OpPassManager &pm) {
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::buildBufferDeallocationPipeline(pm);
}

/// Loops, memrefs, arith, math and functions on the host to the LLVM dialect.
static void addHostLowering(OpPassManager &pm) {
  // expand-strided-metadata emits affine.apply for offsets: lower affine
  // after it.
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
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
  addBufferization(pm);
  pm.addPass(createTPLowerToRuntime());
  pm.addPass(createTPLowerStridedCopies());
  pm.addPass(createConvertLinalgToLoopsPass());
  addHostLowering(pm);
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
