//===- Compiler.h - tp-run: from MLIR to a model shared object --*- C++ -*-===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#ifndef TP_TOOLS_TP_RUN_COMPILER_H
#define TP_TOOLS_TP_RUN_COMPILER_H

#include "tp/Dialect/TP/Analysis/Options.h"
#include "tp/Dialect/TP/Analysis/Report.h"
#include "tp/Pipelines/Pipelines.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <functional>
#include <memory>
#include <string>

namespace tp_run {

/// What the model is compiled for.
enum class Target { cpu, gpu };

struct CompileOptions {
  int64_t tpSize = 1;
  std::string entry;
  Target target = Target::cpu;
  /// CUDA toolkit with ptxas and fatbinary (target gpu).
  std::string cudaToolkit = "/usr/local/cuda";
  /// Attention as tp_rt_attention calls (cuDNN) with the generated kernels
  /// as the fallback (target gpu; tp-gpu-pipeline gpu-fused-attention).
  bool fusedAttention = true;
  /// Local GEMMs on the CPU target.
  mlir::tp::CPUGemm gemm = mlir::tp::CPUGemm::blas;
  /// CPU to generate host code for: "native" or an LLVM CPU name.
  std::string cpu = "native";
  /// If set, the partitioned module (tensor level) is written here.
  std::string partitionedPath;
  /// Run tp-unpack-arguments first: a packed argument's pieces become
  /// arguments and each rank is given only its shards of them.
  bool unpackArguments = true;
  /// Run tp-plan first (the model has no annotations).
  bool plan = false;
  /// Uneven-size policy.
  mlir::tp::UnevenPolicy uneven = mlir::tp::UnevenPolicy::Error;
  /// Split results come back as each rank's shard (tp-partition
  /// sharded-results).
  bool shardedResults = false;
  /// Sequence parallelism (tp-partition sequence-parallel).
  bool sequenceParallel = false;
  double minWeightFraction = 0.01;
  /// Graphviz rendering of the partitioned dataflow.
  std::string dotPath;
  /// Called as each phase starts: "plan", "partition", "lower", "codegen",
  /// "link".
  std::function<void(llvm::StringRef)> onPhase;
  /// Called with the plan report once the module is partitioned (before it
  /// is lowered and compiled).
  std::function<void(const mlir::tp::PartitionReport &)> onPartitioned;
};

struct CompileTimes {
  double planSeconds = 0;
  double partitionSeconds = 0;
  double lowerSeconds = 0;
  double codegenSeconds = 0;
  double linkSeconds = 0;
  double total() const {
    return planSeconds + partitionSeconds + lowerSeconds + codegenSeconds +
           linkSeconds;
  }
};

/// Partitions a copy of `module`, lowers it for the target and writes a shared
/// object with `tp_entry` and `tp_manifest` to `soPath`. Diagnostics go to the
/// context's handler; returns failure after printing a message.
mlir::LogicalResult compileModel(mlir::ModuleOp module,
                                 const CompileOptions &options,
                                 const std::string &soPath,
                                 mlir::tp::PartitionReport *report,
                                 CompileTimes &times);

/// True if any op of `module` carries a `tp.parallel` annotation.
bool hasAnnotations(mlir::ModuleOp module);

} // namespace tp_run

#endif // TP_TOOLS_TP_RUN_COMPILER_H
