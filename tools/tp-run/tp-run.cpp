//===- tp-run.cpp - partition, compile, run on N ranks and check ----------===//
//
// Part of tp-mlir.
//
//   tp-run MODEL.mlir --tp-size=N [--target=cpu] [--inputs=a.npy,b.npy,...]
//          [--output=y.npy] [--check] [--report] ...
//
// Partitions the model (as annotated), compiles it into a shared object that
// needs no LLVM/MLIR at run time, launches N ranks (mpiexec + tp-launch),
// and with --check runs the unsharded program (tp-size 1, same path) on the
// same inputs and compares.
//
//===----------------------------------------------------------------------===//

#include "Compiler.h"

#include "tp/Conversion/EntryPoint/Manifest.h"
#include "tp/InitAll.h"
#include "tp/runtime/npy.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/TosaToLinalg/TosaToLinalg.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <random>

extern char **environ;

using namespace mlir;
namespace cl = llvm::cl;

static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                                      cl::desc("<model.mlir>"));
static cl::opt<int64_t> tpSize("tp-size", cl::desc("Number of ranks"),
                               cl::init(1));
static cl::opt<std::string> target("target",
                                   cl::desc("cpu (MPI ranks) or gpu"),
                                   cl::init("cpu"));
static cl::opt<std::string>
    cudaToolkit("cuda-toolkit",
                cl::desc("CUDA toolkit whose ptxas and fatbinary build the "
                         "kernels (--target=gpu)"),
                cl::init("/usr/local/cuda"));
static cl::opt<std::string>
    gemm("gemm", cl::desc("Local GEMMs on the CPU target: blas (OpenBLAS "
                          "calls, default) or loops (generated code)"),
         cl::init("blas"));
static cl::opt<std::string>
    inputs("inputs",
           cl::desc("Comma-separated .npy files, one full tensor per argument "
                    "of the entry function, in order (default: random data)"));
static cl::opt<std::string>
    outputs("output", cl::desc("Comma-separated .npy files for the results"));
static cl::opt<bool> check("check",
                           cl::desc("Also run the unsharded program and compare"));
static cl::opt<double> tolerance(
    "tolerance",
    cl::desc("--check fails when max|y - ref| / max|ref| exceeds this"),
    cl::init(1e-5));
static cl::opt<bool> report("report",
                            cl::desc("Print the plan: forms, collectives, bytes"));
static cl::opt<std::string> entry("entry",
                                  cl::desc("Entry function (default: the only "
                                           "public function)"));
static cl::opt<std::string>
    buildDir("build-dir",
             cl::desc("Keep the artifacts (model.so, model.ref.so, "
                      "partitioned.mlir, inputs) in this directory"));
static cl::opt<bool> buildOnly("build-only",
                               cl::desc("Build the artifacts, do not run"));
static cl::opt<unsigned> timeout("timeout",
                                 cl::desc("Seconds before every rank is ended"),
                                 cl::init(300));
static cl::opt<unsigned> seed("seed", cl::desc("Seed of the random inputs"),
                              cl::init(0));
static cl::opt<int64_t> intRange(
    "int-range",
    cl::desc("Random integer inputs (token ids) are uniform in [0, N)"),
    cl::init(2));
static cl::opt<std::string> mpiexec("mpiexec",
                                    cl::desc("The MPI launcher to use"),
                                    cl::init("mpiexec"));
static cl::opt<bool> quiet("quiet", cl::desc("Print only errors and --check"));
static cl::opt<std::string>
    uneven("uneven",
           cl::desc("A split dimension that does not divide evenly: error "
                    "(default), replicate (keep it whole) or pad"),
           cl::init("error"));
static cl::opt<double> minWeightFraction(
    "min-weight-fraction",
    cl::desc("Planner: weights below this fraction of the largest weight "
             "stay replicated"),
    cl::init(0.01));
static cl::opt<std::string>
    planReport("plan-report",
               cl::desc("Write the plan report (forms, reasons, collectives, "
                        "bytes, memory) as JSON to this file"));
static cl::opt<std::string>
    dotFile("dot", cl::desc("Write the partitioned dataflow (shardings and "
                            "collectives) as Graphviz to this file"));

namespace {

double now() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int fail(const llvm::Twine &message) {
  llvm::errs() << "tp-run: " << message << "\n";
  return 1;
}

/// Writes uniformly random inputs for every argument of `func`.
LogicalResult writeRandomInputs(func::FuncOp func, StringRef dir,
                                std::vector<std::string> &paths) {
  std::mt19937_64 rng(seed);
  for (auto [i, type] : llvm::enumerate(func.getArgumentTypes())) {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || !tensor.hasStaticShape())
      return func.emitOpError("argument #")
             << i << " has type " << type
             << "; random inputs need statically shaped tensors";
    std::vector<int64_t> shape(tensor.getShape().begin(),
                               tensor.getShape().end());
    int64_t n = tensor.getNumElements();
    std::string path =
        (llvm::Twine(dir) + "/input" + llvm::Twine(i) + ".npy").str();
    std::string error;
    Type elem = tensor.getElementType();
    bool ok;
    if (elem.isF32() || elem.isF16() || elem.isBF16()) {
      std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
      std::vector<float> data(n);
      for (float &v : data)
        v = dist(rng);
      ok = ::tp::npy::write(path, TP_F32, shape, data.data(), error);
    } else if (elem.isF64()) {
      std::uniform_real_distribution<double> dist(-1.0, 1.0);
      std::vector<double> data(n);
      for (double &v : data)
        v = dist(rng);
      ok = ::tp::npy::write(path, TP_F64, shape, data.data(), error);
    } else if (elem.isSignlessInteger(32) || elem.isSignlessInteger(64)) {
      if (intRange < 1)
        return func.emitOpError("--int-range must be at least 1");
      std::uniform_int_distribution<int64_t> dist(0, intRange - 1);
      if (elem.isSignlessInteger(64)) {
        std::vector<int64_t> data(n);
        for (int64_t &v : data)
          v = dist(rng);
        ok = ::tp::npy::write(path, TP_I64, shape, data.data(), error);
      } else {
        std::vector<int32_t> data(n);
        for (int32_t &v : data)
          v = static_cast<int32_t>(dist(rng));
        ok = ::tp::npy::write(path, TP_I32, shape, data.data(), error);
      }
    } else {
      return func.emitOpError("argument #")
             << i << " has element type " << elem
             << "; pass --inputs for this argument";
    }
    if (!ok)
      return func.emitOpError("cannot write ") << path << ": " << error;
    paths.push_back(path);
  }
  return success();
}

/// Runs `mpiexec -n N tp-launch ...`; returns the exit code.
int launch(StringRef launcher, const std::string &model, int64_t ranks,
           const std::vector<std::string> &inputPaths,
           const std::vector<std::string> &outputPaths) {
  llvm::ErrorOr<std::string> mpi = llvm::sys::findProgramByName(mpiexec);
  if (!mpi) {
    fail("cannot find '" + mpiexec + "' (install mpich, or pass --mpiexec)");
    return 1;
  }
  std::string rankCount = std::to_string(ranks);
  std::string inputList = llvm::join(inputPaths, ",");
  std::string outputList = llvm::join(outputPaths, ",");
  std::string timeoutArg = std::to_string(timeout.getValue());
  SmallVector<StringRef> args{*mpi,        "-n",        rankCount,
                              launcher,    "--model",   model,
                              "--inputs",  inputList,   "--output",
                              outputList,  "--timeout", timeoutArg};
  if (quiet)
    args.push_back("--quiet");
  // Hydra's own limit, a little after tp-launch's watchdog, so that a hung
  // job is ended even if a rank cannot run its watchdog.
  std::vector<std::string> envStorage;
  for (char **e = environ; *e; ++e)
    if (!StringRef(*e).starts_with("MPIEXEC_TIMEOUT="))
      envStorage.push_back(*e);
  if (timeout > 0)
    envStorage.push_back("MPIEXEC_TIMEOUT=" +
                         std::to_string(timeout.getValue() + 15));
  SmallVector<StringRef> env(envStorage.begin(), envStorage.end());
  std::string error;
  unsigned wait = timeout > 0 ? timeout + 30 : 0;
  llvm::outs().flush();
  llvm::errs().flush();
  int rc = llvm::sys::ExecuteAndWait(*mpi, args, env, {}, wait, 0, &error);
  if (rc < 0)
    fail("running " + *mpi + " failed: " + error);
  return rc;
}

struct Comparison {
  double maxAbs = 0;
  double maxRef = 0;
  double relative() const { return maxRef > 0 ? maxAbs / maxRef : maxAbs; }
};

double elementAsDouble(const ::tp::npy::Array &a, int64_t i) {
  const unsigned char *p = a.data.data();
  switch (a.dtype) {
  case TP_F32:
    return reinterpret_cast<const float *>(p)[i];
  case TP_F64:
    return reinterpret_cast<const double *>(p)[i];
  case TP_I32:
    return reinterpret_cast<const int32_t *>(p)[i];
  case TP_I64:
    return double(reinterpret_cast<const int64_t *>(p)[i]);
  default:
    return NAN;
  }
}

FailureOr<Comparison> compare(const std::string &got, const std::string &ref) {
  ::tp::npy::Array a, b;
  std::string error;
  if (!::tp::npy::read(got, a, error)) {
    fail(got + ": " + error);
    return failure();
  }
  if (!::tp::npy::read(ref, b, error)) {
    fail(ref + ": " + error);
    return failure();
  }
  if (a.shape != b.shape || a.dtype != b.dtype) {
    fail("the sharded and unsharded results differ in shape or dtype (" +
         ::tp::npy::formatShape(a.shape) + " vs " +
         ::tp::npy::formatShape(b.shape) + ")");
    return failure();
  }
  Comparison c;
  for (int64_t i = 0, e = a.numElements(); i < e; ++i) {
    double x = elementAsDouble(a, i), y = elementAsDouble(b, i);
    double d = std::fabs(x - y);
    if (std::isnan(d))
      d = INFINITY;
    c.maxAbs = std::max(c.maxAbs, d);
    c.maxRef = std::max(c.maxRef, std::fabs(y));
  }
  return c;
}

/// Removes the scratch directory at exit unless the user named it.
struct ScratchDir {
  std::string path;
  bool keep = false;
  ~ScratchDir() {
    if (!keep && !path.empty())
      llvm::sys::fs::remove_directories(path);
  }
};

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(
      argc, argv,
      "tp-run: partition an MLIR model for tensor parallelism, compile it, run "
      "it on N ranks and check it against the unsharded program\n");
  if (tpSize < 1)
    return fail("--tp-size must be at least 1, got " +
                std::to_string(tpSize.getValue()));
  if (target != "cpu" && target != "gpu")
    return fail("--target must be cpu or gpu, got '" + target + "'");
  // Upstream's gpu-module-to-binary reports a missing toolkit but then takes
  // whatever ptxas is on PATH; a toolkit named here must be the one used.
  if (target == "gpu") {
    SmallString<128> ptxas(cudaToolkit.getValue());
    llvm::sys::path::append(ptxas, "bin", "ptxas");
    if (!llvm::sys::fs::can_execute(ptxas))
      return fail("--cuda-toolkit=" + cudaToolkit + ": no executable " +
                  ptxas.str().str() +
                  " (the GPU target builds its kernels with the toolkit's "
                  "ptxas and fatbinary)");
  }
  if (gemm != "blas" && gemm != "loops")
    return fail("--gemm must be blas or loops, got '" + gemm + "'");
  if (uneven != "error" && uneven != "replicate" && uneven != "pad")
    return fail("--uneven must be error, replicate or pad, got '" + uneven +
                "'");

  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerTPDialect(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  std::string error;
  auto file = openInputFile(modelPath, &error);
  if (!file)
    return fail(error);
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return fail("cannot parse " + modelPath);
  // TOSA input goes through upstream's tosa-to-linalg first.
  bool tosa = false;
  module->walk([&](Operation *op) {
    if (isa<tosa::TosaDialect>(op->getDialect())) {
      tosa = true;
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (tosa) {
    PassManager pm(&context);
    tosa::addTosaToLinalgPasses(pm, TosaToLinalgOptions());
    pm.addPass(createTosaToTensorPass()); // tosa.reshape, slices, concat
    pm.addPass(createTosaToArithPass());  // tosa.const, tosa.const_shape
    pm.addPass(createCanonicalizerPass());
    if (failed(pm.run(*module)))
      return fail("converting the TOSA input to linalg failed (see the "
                  "errors above)");
  }
  func::FuncOp entryFunc = mlir::tp::findEntryFunction(*module, entry);
  if (!entryFunc)
    return 1;

  bool plan = !tp_run::hasAnnotations(*module);
  if (plan && !quiet)
    llvm::errs() << "tp-run: " << modelPath
                 << " has no tp.parallel annotations: planning automatically "
                    "(tp-plan)\n";

  // Where artifacts go.
  ScratchDir scratch;
  if (!buildDir.empty()) {
    scratch.path = buildDir;
    scratch.keep = true;
    if (std::error_code ec = llvm::sys::fs::create_directories(buildDir))
      return fail("cannot create " + buildDir + ": " + ec.message());
  } else {
    SmallString<128> dir;
    if (std::error_code ec =
            llvm::sys::fs::createUniqueDirectory("tp-run", dir))
      return fail("cannot create a scratch directory: " + ec.message());
    scratch.path = dir.str().str();
  }
  std::string modelSo = scratch.path + "/model.so";
  std::string refSo = scratch.path + "/model.ref.so";

  // Compile.
  tp_run::CompileOptions options;
  options.tpSize = tpSize;
  options.entry = entryFunc.getName().str();
  options.target = target;
  options.cudaToolkit = cudaToolkit;
  options.gemm = gemm;
  options.cpu = buildOnly ? "x86-64" : "native";
  if (!buildDir.empty())
    options.partitionedPath = scratch.path + "/partitioned.mlir";
  options.plan = plan;
  options.uneven = uneven;
  options.minWeightFraction = minWeightFraction;
  options.dotPath = dotFile;
  mlir::tp::PartitionReport planReport_;
  tp_run::CompileTimes times, refTimes;
  if (failed(tp_run::compileModel(*module, options, modelSo, &planReport_, times)))
    return 1;
  if (report)
    planReport_.printTable(llvm::outs());
  if (!planReport.empty()) {
    std::error_code ec;
    llvm::raw_fd_ostream os(planReport, ec);
    if (ec)
      return fail("cannot write " + planReport + ": " + ec.message());
    os << llvm::formatv("{0:2}", planReport_.toJSON()) << "\n";
  }
  if (check) {
    tp_run::CompileOptions refOptions = options;
    refOptions.tpSize = 1;
    refOptions.partitionedPath.clear();
    refOptions.dotPath.clear();
    if (failed(tp_run::compileModel(*module, refOptions, refSo, nullptr,
                                    refTimes)))
      return 1;
  }
  if (!quiet)
    llvm::outs() << llvm::formatv(
        "tp-run: compile {0:f3} s (plan {6:f3} s, partition {1:f3} s, lower "
        "{2:f3} s, codegen {3:f3} s, link {4:f3} s){5}\n",
        times.total(), times.partitionSeconds, times.lowerSeconds,
        times.codegenSeconds, times.linkSeconds,
        check ? llvm::formatv(" + reference {0:f3} s", refTimes.total()).str()
              : std::string(),
        times.planSeconds);
  if (buildOnly) {
    llvm::outs() << "tp-run: built " << modelSo << (check ? " and " + refSo : "")
                 << "\n";
    return 0;
  }

  // Inputs.
  std::vector<std::string> inputPaths;
  if (!inputs.empty()) {
    for (StringRef path : llvm::split(inputs, ','))
      inputPaths.push_back(path.str());
  } else if (failed(writeRandomInputs(entryFunc, scratch.path, inputPaths))) {
    return 1;
  }

  // Outputs.
  unsigned numResults = entryFunc.getNumResults();
  std::vector<std::string> outputPaths;
  if (!outputs.empty()) {
    for (StringRef path : llvm::split(outputs, ','))
      outputPaths.push_back(path.str());
    if (outputPaths.size() != numResults)
      return fail(llvm::formatv("expected {0} output file(s) (one per result "
                                "of @{1}), got {2}",
                                numResults, entryFunc.getName(),
                                outputPaths.size())
                      .str());
  } else {
    for (unsigned i = 0; i < numResults; ++i)
      outputPaths.push_back(scratch.path + "/output" + std::to_string(i) +
                            ".npy");
  }

  // Run.
  SmallString<256> launcher(
      llvm::sys::fs::getMainExecutable(argv[0], (void *)&fail));
  llvm::sys::path::remove_filename(launcher);
  llvm::sys::path::append(launcher, "tp-launch");
  if (!llvm::sys::fs::can_execute(launcher))
    return fail("cannot find the launcher " + launcher.str().str());
  double start = now();
  int rc = launch(launcher, modelSo, tpSize, inputPaths, outputPaths);
  double runSeconds = now() - start;
  if (rc != 0)
    return fail(llvm::formatv("the {0}-rank run failed (exit code {1})",
                              tpSize.getValue(), rc)
                    .str());
  if (!quiet)
    llvm::outs() << llvm::formatv("tp-run: run {0:f3} s on {1} rank(s)\n",
                                  runSeconds, tpSize.getValue());
  if (!check)
    return 0;

  std::vector<std::string> refPaths;
  for (unsigned i = 0; i < numResults; ++i)
    refPaths.push_back(scratch.path + "/reference" + std::to_string(i) +
                       ".npy");
  rc = launch(launcher, refSo, 1, inputPaths, refPaths);
  if (rc != 0)
    return fail(llvm::formatv("the unsharded reference run failed (exit code "
                              "{0})",
                              rc)
                    .str());
  bool ok = true;
  for (unsigned i = 0; i < numResults; ++i) {
    FailureOr<Comparison> c = compare(outputPaths[i], refPaths[i]);
    if (failed(c))
      return 1;
    bool pass = c->relative() <= tolerance;
    ok &= pass;
    llvm::outs() << llvm::formatv(
        "check: result {0}: max abs error {1:e2}, relative error {2:e2} "
        "(max|y-ref|/max|ref|, tolerance {3:e1}): {4}\n",
        i, c->maxAbs, c->relative(), tolerance.getValue(),
        pass ? "ok" : "FAILED");
  }
  if (!ok)
    return fail("--check failed: the sharded result differs from the "
                "unsharded program beyond the tolerance");
  return 0;
}
