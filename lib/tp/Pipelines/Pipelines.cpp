//===- Pipelines.cpp - tp pass pipelines ----------------------------------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "tp/Pipelines/Pipelines.h"
#include "tp/Conversion/Passes.h"
#include "tp/Target/CPU/Passes.h"
#include "tp/Target/GPU/Passes.h"
#include "tp/Dialect/TP/Transforms/Passes.h"
#include "tp/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::tp;

/// One-shot bufferization across function boundaries with contiguous
/// (identity-layout) buffers at the boundaries, then buffer deallocation.
/// Deallocation returns a `bufferization.clone` of a buffer the function
/// does not own (an argument returned as it is, a constant); clones become
/// memref.alloc + memref.copy here, which both targets lower (the GPU
/// target moves them to device memory later).
static void addBufferization(OpPassManager &pm) {
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createConvertBufferizationToMemRefPass());
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
  partition.uneven = options.uneven;
  partition.shardedResults = options.shardedResults;
  partition.sequenceParallel = options.sequenceParallel;
  // Pieces of packed arguments become arguments before the partitioner
  // gives every argument its sharding.
  if (options.unpackArguments)
    pm.addPass(createTPUnpackArguments());
  pm.addPass(createTPPartition(partition));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

/// What both targets do first, on tensors: the manifest, slices as views,
/// aggregate ops (linalg.softmax) decomposed, elementwise arith / math ops on
/// tensors as linalg.generic (bufferization has no rule for them).
static void addTensorPrologue(OpPassManager &pm, const TPOptions &options,
                              StringRef target) {
  TPEmitManifestOptions manifest;
  manifest.entry = options.entry;
  manifest.target = target.str();
  pm.addPass(createTPEmitManifest(manifest));
  pm.addPass(createCanonicalizerPass());
  pm.addNestedPass<func::FuncOp>(createTPLowerSlices());
  pm.addNestedPass<func::FuncOp>(createTPDecomposeAggregates());
  pm.addPass(createConvertElementwiseToLinalgPass());
}

void mlir::tp::buildTPCPUPipeline(OpPassManager &pm, const TPOptions &options) {
  addTensorPrologue(pm, options, "cpu");
  // Local GEMMs as library calls, formed before tp-widen-accumulators (the
  // runtime accumulates in f32 itself), as on the GPU target.
  const bool blas = options.gemm == CPUGemm::blas;
  if (blas) {
    TPFormGemmsOptions gemms;
    gemms.target = "cpu";
    pm.addNestedPass<func::FuncOp>(createTPFormGemms(gemms));
    // Drops the transposes the GEMMs now read in place.
    pm.addPass(createCanonicalizerPass());
  }
  pm.addNestedPass<func::FuncOp>(createTPWidenAccumulators());
  addBufferization(pm);
  pm.addPass(createTPLowerToRuntime());
  if (blas)
    pm.addPass(createTPLowerGemmToRuntime());
  pm.addNestedPass<func::FuncOp>(createTPLowerStridedCopies());
  pm.addNestedPass<func::FuncOp>(createTPCPUReassociateReductions());
  pm.addPass(createConvertLinalgToLoopsPass());
  // bf16 (and f16) on the CPU: math and arithmetic in f32, and the
  // conversions as integer ops. LLVM would otherwise call __truncsfbf2 /
  // __extendbfsf2, which Debian 12's libgcc does not have.
  math::MathExtendToSupportedTypesOptions extend;
  extend.targetTypeStr = "f32";
  pm.addPass(math::createMathExtendToSupportedTypes(extend));
  arith::ArithEmulateUnsupportedFloatsOptions emulate;
  emulate.sourceTypeStrs = {"bf16"};
  emulate.targetTypeStr = "f32";
  pm.addPass(arith::createArithEmulateUnsupportedFloats(emulate));
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  // tanh / exp / log as arith, so that LLVM vectorizes the loops around them.
  pm.addNestedPass<func::FuncOp>(createTPCPUApproximateMath());
  addHostLowering(pm);
  pm.addPass(createTPEmitEntryPoint());
}

/// GPU target, on tensors: checks, elementwise fusion and GEMMs as tp.gemm.
static void addGPUTensorPasses(OpPassManager &pm, const TPOptions &options) {
  pm.addPass(createTPGPUCheckInput());
  // Attention before elementwise fusion and GEMM forming, which would take
  // its chain apart; the chain it replaces stays as the fallback (scf.if)
  // and goes through the passes below like any other code.
  if (options.gpuFusedAttention)
    pm.addPass(createTPGPUFormAttention());
  pm.addNestedPass<func::FuncOp>(createTPGPUFuseElementwise());
  pm.addNestedPass<func::FuncOp>(createTPFormGemms());
  pm.addNestedPass<func::FuncOp>(createTPWidenAccumulators());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

/// GPU target: buffers in device memory; GEMMs and collectives as runtime
/// calls.
static void addGPUBufferPasses(OpPassManager &pm, const TPOptions &options) {
  addBufferization(pm);
  pm.addPass(createTPLowerToRuntime());
  pm.addPass(createTPLowerGemmToRuntime());
  if (options.gpuFusedAttention)
    pm.addPass(createTPGPULowerAttentionToRuntime());
  pm.addPass(createTPGPUDeviceMemory());
}

/// GPU target: softmax and the norms as one warp-per-row kernel each
/// (statistics in registers), then the remaining row reductions as one warp
/// per row, before the rest of linalg becomes one-thread-per-element loops.
static void addGPUCooperativeKernels(OpPassManager &pm,
                                     const TPOptions &options) {
  TPGPUMapRowGroupsOptions rowGroups;
  rowGroups.blockSize = options.gpuBlockSize;
  pm.addPass(createTPGPUMapRowGroups(rowGroups));
  TPGPUMapReductionsOptions reductions;
  reductions.blockSize = options.gpuBlockSize;
  pm.addPass(createTPGPUMapReductions(reductions));
  // Elementwise ops over contiguous rows: 16 bytes per thread and operand.
  TPGPUMapElementwiseOptions elementwise;
  elementwise.blockSize = options.gpuBlockSize;
  pm.addPass(createTPGPUMapElementwise(elementwise));
}

/// GPU target: the remaining linalg ops as kernels, outlined into one
/// kernel module, temporaries freed early and launches chained on a stream.
static void addGPULoopKernels(OpPassManager &pm, const TPOptions &options) {
  // No canonicalization between the tiling and the mapping: it would fold
  // one-block outer loops.
  pm.addPass(createConvertLinalgToParallelLoopsPass());
  TPGPUTileParallelLoopsOptions tile;
  tile.blockSize = options.gpuBlockSize;
  pm.addPass(createTPGPUTileParallelLoops(tile));
  pm.addNestedPass<func::FuncOp>(createGpuMapParallelLoopsPass());
  pm.addPass(createConvertParallelLoopToGpuPass());
  pm.addPass(createCanonicalizerPass());
  // Constants (static extents, strides) into the launch bodies, before
  // outlining: otherwise they become kernel parameters, and every per-element
  // index division divides by a runtime value (div.s64) instead of a
  // constant that LLVM turns into a multiply and shifts.
  pm.addPass(createGpuLaunchSinkIndexComputationsPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createTPGPUMergeKernelModules());
  // Each temporary freed after its last launch or runtime call, not at the
  // function's end; before the async chain, which puts the frees in stream
  // order after those uses.
  pm.addPass(createTPGPUFreeAfterLastUse());
  pm.addPass(createTPGPUAsyncChain());
}

/// GPU target, kernels: bf16 (and f16) math that NVVM has no instruction for
/// is computed in f32; the NVVM target attached.
static void addGPUKernelTarget(OpPassManager &pm, const TPOptions &options) {
  math::MathExtendToSupportedTypesOptions extend;
  extend.targetTypeStr = "f32";
  pm.addNestedPass<gpu::GPUModuleOp>(math::createMathExtendToSupportedTypes(extend));
  arith::ArithEmulateUnsupportedFloatsOptions emulate;
  emulate.sourceTypeStrs = {"bf16"};
  emulate.targetTypeStr = "f32";
  pm.addNestedPass<gpu::GPUModuleOp>(
      arith::createArithEmulateUnsupportedFloats(emulate));
  GpuNVVMAttachTargetOptions target;
  target.chip = options.gpuChip;
  target.features = options.gpuFeatures;
  target.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(target));
}

/// GPU target: host and kernels to the LLVM dialect, kernels to a fatbin,
/// then the entry point.
static void addGPULLVMLowering(OpPassManager &pm, const TPOptions &options) {
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createConvertGpuOpsToNVVMOps());
  pm.addNestedPass<gpu::GPUModuleOp>(createCanonicalizerPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createCSEPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createReconcileUnrealizedCastsPass());
  pm.addPass(createGpuToLLVMConversionPass());
  GpuModuleToBinaryPassOptions binary;
  binary.toolkitPath = options.cudaToolkit;
  binary.compilationTarget = options.gpuFormat;
  pm.addPass(createGpuModuleToBinaryPass(binary));
  addHostLowering(pm);
  pm.addPass(createTPEmitEntryPoint());
}

/// The GPU pipeline as its stages, in order; each stage's passes (and why
/// they stand where they do) are in its helper above.
void mlir::tp::buildTPGPUPipeline(OpPassManager &pm, const TPOptions &options) {
  // Tensors: manifest, slices, fusion, GEMMs.
  addTensorPrologue(pm, options, "gpu");
  addGPUTensorPasses(pm, options);
  addGPUBufferPasses(pm, options);
  addGPUCooperativeKernels(pm, options);
  addGPULoopKernels(pm, options);
  addGPUKernelTarget(pm, options);
  addGPULLVMLowering(pm, options);
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
  PassPipelineRegistration<TPOptions>(
      "tp-gpu-pipeline",
      "Lower a partitioned module to the LLVM dialect for the GPU target "
      "(cuBLASLt GEMMs, NVVM kernels in a fatbin, NCCL runtime)",
      buildTPGPUPipeline);
}
