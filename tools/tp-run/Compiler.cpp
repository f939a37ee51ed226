//===- Compiler.cpp - tp-run: from MLIR to a model shared object ----------===//
//
// Part of tp-mlir.
//
//===----------------------------------------------------------------------===//

#include "Compiler.h"

#include "tp/Target/GPU/Passes.h"
#include "tp/Dialect/TP/IR/TPDialect.h"
#include "tp/Dialect/TP/Transforms/Passes.h"
#include "tp/Pipelines/Pipelines.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

#include <chrono>

using namespace mlir;

namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

std::unique_ptr<llvm::TargetMachine> createTargetMachine(StringRef cpuName) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target) {
    llvm::errs() << "tp-run: no LLVM target for " << triple.str() << ": "
                 << error << "\n";
    return nullptr;
  }
  std::string cpu = cpuName.str();
  std::string features;
  if (cpuName == "native") {
    cpu = llvm::sys::getHostCPUName().str();
    llvm::SubtargetFeatures set;
    for (auto &feature : llvm::sys::getHostCPUFeatures())
      set.AddFeature(feature.first(), feature.second);
    features = set.getString();
  }
  return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
      triple, cpu, features, llvm::TargetOptions(), llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
}

LogicalResult linkSharedObject(const std::string &object,
                               const std::string &soPath) {
  llvm::ErrorOr<std::string> cc = llvm::sys::findProgramByName("cc");
  if (!cc) {
    llvm::errs() << "tp-run: cannot find 'cc' on PATH to link " << soPath
                 << "\n";
    return failure();
  }
  SmallVector<StringRef> args{*cc, "-shared", "-o", soPath, object, "-lm"};
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(*cc, args, std::nullopt, {}, 0, 0, &error);
  if (rc != 0) {
    llvm::errs() << "tp-run: linking " << soPath << " failed"
                 << (error.empty() ? "" : ": " + error) << "\n";
    return failure();
  }
  return success();
}

/// The picture format --dot=FILE asks Graphviz for ("svg", "png"), or ""
/// for the Graphviz text itself.
llvm::StringRef pictureFormat(llvm::StringRef path) {
  for (llvm::StringRef format : {"svg", "png", "pdf"})
    if (path.ends_with_insensitive(("." + format).str()))
      return format;
  return "";
}

/// Renders the Graphviz text in `dotText` to `outPath` with Graphviz's dot,
/// through a temporary next to it renamed into place, so that a failure
/// leaves no partial picture.
LogicalResult renderPicture(const std::string &dotText,
                            const std::string &outPath,
                            llvm::StringRef format) {
  llvm::ErrorOr<std::string> dot = llvm::sys::findProgramByName("dot");
  if (!dot) {
    llvm::errs() << "tp-run: --dot=" << outPath
                 << " needs Graphviz's 'dot' on PATH (Debian: apt-get "
                    "install graphviz); --dot=FILE.dot writes the graph "
                    "without it\n";
    return failure();
  }
  llvm::SmallString<128> input;
  int fd;
  if (llvm::sys::fs::createTemporaryFile("tp-plan", "dot", fd, input)) {
    llvm::errs() << "tp-run: cannot create a temporary file for the plan\n";
    return failure();
  }
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << dotText;
  }
  std::string partial = outPath + ".partial";
  std::string formatFlag = ("-T" + format).str();
  SmallVector<StringRef> args{*dot, formatFlag, "-o", partial, input};
  std::string error;
  int rc =
      llvm::sys::ExecuteAndWait(*dot, args, std::nullopt, {}, 0, 0, &error);
  llvm::sys::fs::remove(input);
  if (rc != 0 || llvm::sys::fs::rename(partial, outPath)) {
    llvm::sys::fs::remove(partial);
    llvm::errs() << "tp-run: Graphviz could not write " << outPath
                 << (error.empty() ? "" : ": " + error) << "\n";
    return failure();
  }
  return success();
}

using tp_run::CompileOptions;
using tp_run::Target;

/// Unpacks packed arguments (part of planning: their pieces become the
/// arguments the planner splits) and plans, unless the model is annotated.
LogicalResult planStage(ModuleOp copy, const CompileOptions &options) {
  MLIRContext *ctx = copy.getContext();
  if (options.unpackArguments) {
    PassManager pm(ctx);
    pm.addPass(tp::createTPUnpackArguments());
    if (failed(pm.run(copy)))
      return failure();
  }
  if (!options.plan)
    return success();
  if (options.onPhase)
    options.onPhase("plan");
  PassManager pm(ctx);
  tp::TPPlanOptions plan;
  plan.tpSize = options.tpSize;
  plan.uneven = options.uneven;
  plan.minWeightFraction = options.minWeightFraction;
  pm.addPass(tp::createTPPlan(plan));
  if (failed(pm.run(copy))) {
    llvm::errs() << "tp-run: planning for tp-size " << options.tpSize
                 << " failed (see the errors above)\n";
    return failure();
  }
  return success();
}

/// Partitions; hands the report to `report` and options.onPartitioned and
/// writes --dot's graph or picture.
LogicalResult partitionStage(ModuleOp copy, const CompileOptions &options,
                             tp::PartitionReport *report) {
  PassManager pm(copy.getContext());
  tp::TPPartitionOptions partition;
  partition.tpSize = options.tpSize;
  partition.uneven = options.uneven;
  partition.shardedResults = options.shardedResults;
  partition.sequenceParallel = options.sequenceParallel;
  // A picture (.svg, .png, .pdf) is rendered from the report's Graphviz
  // text; the pass writes the text to a scratch file meanwhile.
  llvm::StringRef format = pictureFormat(options.dotPath);
  llvm::SmallString<128> scratchDot;
  if (!format.empty()) {
    if (llvm::sys::fs::createTemporaryFile("tp-plan", "dot", scratchDot)) {
      llvm::errs() << "tp-run: cannot create a temporary file\n";
      return failure();
    }
    partition.dot = scratchDot.str().str();
  } else {
    partition.dot = options.dotPath;
  }
  auto sink = std::make_shared<tp::PartitionReport>();
  pm.addPass(tp::createTPPartitionWithReport(partition, sink));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  LogicalResult partitioned = pm.run(copy);
  if (!scratchDot.empty())
    llvm::sys::fs::remove(scratchDot);
  if (failed(partitioned)) {
    llvm::errs() << "tp-run: partitioning for tp-size " << options.tpSize
                 << " failed (see the errors above)\n";
    return failure();
  }
  if (!format.empty() &&
      failed(renderPicture(sink->dot, options.dotPath, format)))
    return failure();
  if (report)
    *report = *sink;
  if (options.onPartitioned)
    options.onPartitioned(*sink);
  return success();
}

/// Lowers to the LLVM dialect with the target's pipeline.
LogicalResult lowerStage(ModuleOp copy, const CompileOptions &options) {
  PassManager pm(copy.getContext());
  tp::TPOptions pipeline;
  pipeline.tpSize = options.tpSize;
  pipeline.entry = options.entry;
  bool gpu = options.target == Target::gpu;
  if (gpu) {
    pipeline.cudaToolkit = options.cudaToolkit;
    pipeline.gpuFusedAttention = options.fusedAttention;
    tp::buildTPGPUPipeline(pm, pipeline);
  } else {
    pipeline.gemm = options.gemm;
    tp::buildTPCPUPipeline(pm, pipeline);
  }
  if (failed(pm.run(copy))) {
    llvm::errs() << "tp-run: lowering for the " << (gpu ? "gpu" : "cpu")
                 << " target failed (see the errors above)\n";
    return failure();
  }
  return success();
}

/// Writes `llvmModule` as an object file for `machine`.
LogicalResult emitObject(llvm::Module &llvmModule, llvm::TargetMachine &machine,
                         const std::string &object) {
  std::error_code ec;
  llvm::raw_fd_ostream os(object, ec, llvm::sys::fs::OF_None);
  if (ec) {
    llvm::errs() << "tp-run: cannot write " << object << ": " << ec.message()
                 << "\n";
    return failure();
  }
  llvm::legacy::PassManager codegen;
  if (machine.addPassesToEmitFile(codegen, os, nullptr,
                                  llvm::CodeGenFileType::ObjectFile)) {
    llvm::errs() << "tp-run: the target cannot emit object files\n";
    return failure();
  }
  codegen.run(llvmModule);
  return success();
}

/// LLVM IR, optimization, object file `object`.
LogicalResult codegenStage(ModuleOp copy, const CompileOptions &options,
                           const std::string &object) {
  MLIRContext *ctx = copy.getContext();
  registerBuiltinDialectTranslation(*ctx);
  registerLLVMDialectTranslation(*ctx);
  // Kernels are embedded (gpu.binary) and launched (gpu.launch_func) by the
  // GPU dialect's translation.
  if (options.target == Target::gpu) {
    DialectRegistry gpuRegistry;
    tp::registerGPUTargetInterfaces(gpuRegistry);
    ctx->appendDialectRegistry(gpuRegistry);
  }
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(copy, llvmContext, "tp-model");
  if (!llvmModule) {
    llvm::errs() << "tp-run: translation to LLVM IR failed\n";
    return failure();
  }
  std::unique_ptr<llvm::TargetMachine> machine =
      createTargetMachine(options.cpu);
  if (!machine)
    return failure();
  llvmModule->setDataLayout(machine->createDataLayout());
  llvmModule->setTargetTriple(machine->getTargetTriple());
  if (llvm::Error error =
          makeOptimizingTransformer(3, 0, machine.get())(llvmModule.get())) {
    llvm::errs() << "tp-run: LLVM optimization failed: "
                 << llvm::toString(std::move(error)) << "\n";
    return failure();
  }
  return emitObject(*llvmModule, *machine, object);
}

/// Runs `stage` as phase `name` (reported through options.onPhase when
/// `announce`), adding its time to `seconds`.
template <typename Stage>
LogicalResult timed(const CompileOptions &options, llvm::StringRef name,
                    bool announce, double &seconds, Stage &&stage) {
  auto start = std::chrono::steady_clock::now();
  if (announce && options.onPhase)
    options.onPhase(name);
  LogicalResult result = stage();
  seconds = secondsSince(start);
  return result;
}

} // namespace

bool tp_run::hasAnnotations(ModuleOp module) {
  bool found = false;
  module.walk([&](Operation *op) {
    if (op->hasAttr(tp::TPDialect::getParallelAttrName())) {
      found = true;
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return found;
}

LogicalResult tp_run::compileModel(ModuleOp module,
                                   const CompileOptions &options,
                                   const std::string &soPath,
                                   tp::PartitionReport *report,
                                   CompileTimes &times) {
  OwningOpRef<ModuleOp> copy(cast<ModuleOp>(module->clone()));
  // (planStage announces "plan" itself: only when it plans.)
  if (failed(timed(options, "plan", false, times.planSeconds,
                   [&] { return planStage(*copy, options); })) ||
      failed(timed(options, "partition", true, times.partitionSeconds,
                   [&] { return partitionStage(*copy, options, report); })))
    return failure();
  if (!options.partitionedPath.empty()) {
    std::error_code ec;
    llvm::raw_fd_ostream os(options.partitionedPath, ec);
    if (!ec)
      copy->print(os);
  }
  std::string object = soPath + ".o";
  if (failed(timed(options, "lower", true, times.lowerSeconds,
                   [&] { return lowerStage(*copy, options); })) ||
      failed(timed(options, "codegen", true, times.codegenSeconds,
                   [&] { return codegenStage(*copy, options, object); })))
    return failure();
  LogicalResult linked = timed(options, "link", true, times.linkSeconds, [&] {
    LogicalResult result = linkSharedObject(object, soPath);
    llvm::sys::fs::remove(object);
    return result;
  });
  return linked;
}
