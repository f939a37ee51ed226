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
#include "Hoist.h"
#include "Weights.h"

#include "Launch/Safetensors.h"

#include "tp/Conversion/EntryPoint/Manifest.h"
#include "tp/Dialect/TP/Analysis/Parameters.h"
#include "tp/Dialect/TP/IR/TPOps.h"
#include "tp/InitAll.h"
#include "tp/runtime/files.h"
#include "tp/runtime/npy.h"

#include "Launch/Compare.h"
#include "Launch/ShardSet.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/TosaToLinalg/TosaToLinalg.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;

using namespace mlir;
namespace cl = llvm::cl;

/// The options LLVM and MLIR registered before this file's own (static
/// initialization runs in definition order within a file, after the shared
/// libraries'): --help lists only the others, tp-run's (the rest still
/// parse).
static const llvm::StringSet<> foreignOptions = [] {
  llvm::StringSet<> names;
  for (auto &entry : cl::getRegisteredOptions())
    names.insert(entry.first);
  return names;
}();

static void hideForeignOptions() {
  static cl::OptionCategory own("tp-run options");
  for (auto &entry : cl::getRegisteredOptions())
    if (!foreignOptions.contains(entry.first))
      entry.second->addCategory(own);
  cl::HideUnrelatedOptions(own);
}

static cl::opt<std::string> modelPath(cl::Positional, cl::Required,
                                      cl::desc("<model.mlir>"));
static cl::opt<int64_t> tpSize("tp-size", cl::desc("Number of ranks"),
                               cl::init(1));
static cl::opt<tp_run::Target>
    target("target", cl::desc("What the model is compiled for"),
           cl::init(tp_run::Target::cpu),
           cl::values(clEnumValN(tp_run::Target::cpu, "cpu",
                                 "CPU ranks (MPI runtime)"),
                      clEnumValN(tp_run::Target::gpu, "gpu",
                                 "one GPU per rank (NCCL runtime)")));
static cl::opt<std::string>
    cudaToolkit("cuda-toolkit",
                cl::desc("CUDA toolkit whose ptxas and fatbinary build the "
                         "kernels (--target=gpu)"),
                cl::init("/usr/local/cuda"));
static cl::opt<bool> noFusedAttention(
    "no-fused-attention",
    cl::desc("--target=gpu: compile attention to generated kernels only, "
             "without the tp_rt_attention (cuDNN) call in front of them"),
    cl::init(false));
static cl::opt<mlir::tp::CPUGemm>
    gemm("gemm", cl::desc("Local GEMMs on the CPU target"),
         cl::init(mlir::tp::CPUGemm::blas),
         cl::values(clEnumValN(mlir::tp::CPUGemm::blas, "blas",
                               "OpenBLAS calls (default)"),
                    clEnumValN(mlir::tp::CPUGemm::loops, "loops",
                               "generated loops (the reference path)")));
static cl::opt<std::string>
    inputs("inputs",
           cl::desc("Comma-separated .npy files, one full tensor per argument "
                    "of the entry function, in order (default: random data; "
                    "write a comma inside a name as \\, and a backslash as "
                    "\\\\)"));
static cl::opt<std::string>
    outputs("output", cl::desc("Comma-separated .npy files for the results "
                               "(same escapes as --inputs); a path ending in "
                               ".safetensors gets its result as tensor "
                               "\"result<index>\" of a .safetensors file"));
static cl::opt<bool>
    check("check", cl::desc("Also run the unsharded program and compare"));
static cl::opt<double> tolerance(
    "tolerance",
    cl::desc("--check fails when max|y - ref| / max|ref| exceeds this "
             "(default: derived from the program's dtype, chained "
             "contractions and reduction sizes, printed with the check)"),
    cl::init(1e-5));
static cl::opt<bool>
    progress("progress",
             cl::desc("Print each phase as it starts, with the elapsed time "
                      "(default: when stderr is a terminal)"));
static cl::opt<bool>
    report("report", cl::desc("Print the plan: forms, collectives, bytes"));
static cl::opt<std::string> entry("entry",
                                  cl::desc("Entry function (default: the only "
                                           "public function)"));
static cl::opt<std::string>
    buildDir("build-dir",
             cl::desc("Keep the artifacts (model.so, model.ref.so, "
                      "partitioned.mlir, inputs) in this directory"));
static cl::opt<bool> buildOnly("build-only",
                               cl::desc("Build the artifacts, do not run"));
static cl::opt<unsigned>
    timeout("timeout",
            cl::desc("Seconds each run (sharded, reference) may take before "
                     "every rank is ended; 0: no limit"),
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
static cl::opt<bool> quiet("quiet",
                           cl::desc("Print only warnings, errors and --check "
                                    "(no progress, report or remarks)"));
static cl::opt<std::string> weights(
    "weights",
    cl::desc("Comma-separated .safetensors files that hold arguments of the "
             "entry function: by default each argument whose name (%wq) is a "
             "tensor's; each rank reads only its shard. --inputs then lists "
             "the other arguments, in order (default: random)"));
static cl::opt<std::string> weightMap(
    "weight-map",
    cl::desc("Which argument reads which tensor of --weights: JSON "
             "{\"ARGUMENT INDEX OR NAME\": \"TENSOR NAME\", ...}, inline or "
             "in a file"));
static cl::opt<bool> hoistConstants(
    "hoist-constants",
    cl::desc("Move tensor constants of at least --hoist-min-bytes out of the "
             "model (tp-hoist-constants) into a weights file each rank reads "
             "only its shard of (default: on; =false keeps them in every "
             "rank's model, whole)"),
    cl::init(true));
static cl::opt<int64_t> hoistMinBytes(
    "hoist-min-bytes",
    cl::desc("The smallest tensor constant --hoist-constants moves, in bytes"),
    cl::init(4096));
static cl::opt<unsigned>
    warmup("warmup",
           cl::desc("tp-launch --warmup: untimed calls of the "
                    "sharded program's tp_entry first"),
           cl::init(0));
static cl::opt<unsigned>
    repeat("repeat",
           cl::desc("tp-launch --repeat: timed calls of the "
                    "sharded program's tp_entry (median reported)"),
           cl::init(1));
static cl::opt<bool>
    rankStats("rank-stats",
              cl::desc("tp-launch --rank-stats: each rank's tp_entry times "
                       "and peak resident memory (implied by --warmup "
                       "and --repeat)"));
static cl::opt<mlir::tp::UnevenPolicy>
    uneven("uneven", cl::desc("A split dimension that does not divide evenly"),
           cl::init(mlir::tp::UnevenPolicy::Error),
           mlir::tp::unevenPolicyValues());
static cl::opt<bool> shardedResults(
    "sharded-results",
    cl::desc("Return split results as each rank's shard (no all_gather in "
             "the program); an --output ending in .shards keeps them as "
             "per-rank files, any other is assembled whole by the launcher"));
static cl::opt<bool> sequenceParallel(
    "sequence-parallel",
    cl::desc("Sequence parallelism: reduce_scatter + all_gather over the "
             "tokens instead of each all_reduce, norms and residual adds on "
             "token shards (same bytes, 1/tp of the activations between "
             "blocks)"));
static cl::opt<bool> unpackArguments(
    "unpack-arguments", cl::init(true),
    cl::desc("An argument the model only cuts into pieces (a packed weight "
             "buffer) is given to each rank as its shards of the pieces "
             "(tp-unpack-arguments); =false sends it whole"));
static cl::opt<double> minWeightFraction(
    "min-weight-fraction",
    cl::desc("Planner: weights below this fraction of the largest weight "
             "reading the same input stay replicated"),
    cl::init(0.01));
static cl::opt<std::string>
    planReport("plan-report",
               cl::desc("Write the plan report (forms, reasons, collectives, "
                        "bytes, memory) as JSON to this file"));
static cl::opt<bool> printOpOnDiagnostic(
    "print-op-on-diagnostic",
    cl::desc("Attach the whole failing operation (generic form) to every "
             "error message"),
    cl::init(false));
static cl::opt<std::string>
    dotFile("dot", cl::desc("Write the partitioned dataflow (shardings and "
                            "collectives) as Graphviz to this file; a .svg, "
                            ".png or .pdf file is drawn by Graphviz's dot"));

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

/// Bytes of random data for an argument of `type` (f16 and bf16 are written
/// as f32), or -1 if that overflows int64.
int64_t randomInputBytes(RankedTensorType type) {
  Type elem = type.getElementType();
  int64_t bytes = elem.isF64() || elem.isSignlessInteger(64) ? 8 : 4;
  for (int64_t d : type.getShape())
    if (__builtin_mul_overflow(bytes, d, &bytes))
      return -1;
  return bytes;
}

//===----------------------------------------------------------------------===//
// Numerics of the program: how random inputs are scaled and how far the
// sharded result may drift from the unsharded one.
//===----------------------------------------------------------------------===//

/// The contraction dimensions of `op` if it is a two-input contraction: a
/// loop that indexes both inputs is summed over. A two-input reduction
/// whose summed loop indexes one input only (LayerNorm's variance, from x
/// and its mean) is not one.
std::optional<linalg::ContractionDimensions> contractionDims(Operation *op) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp || linalgOp.getNumReductionLoops() == 0 ||
      linalgOp.getNumDpsInputs() != 2)
    return std::nullopt;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(linalgOp);
  if (failed(dims) || dims->k.empty())
    return std::nullopt;
  return *dims;
}

/// Product of the static loop ranges of `op` at `loops` (0 if one is
/// dynamic).
int64_t loopVolume(linalg::LinalgOp op, ArrayRef<unsigned> loops) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t volume = 1;
  for (unsigned d : loops) {
    if (ShapedType::isDynamic(ranges[d]))
      return 0;
    volume *= ranges[d];
  }
  return volume;
}

/// True if `op` only moves elements of its one input (a transpose, a copy,
/// a generic whose body yields an input element).
bool movesElementsOnly(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 1 || op.getNumReductionLoops() != 0)
    return false;
  if (isa<linalg::TransposeOp, linalg::CopyOp>(op.getOperation()))
    return true;
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic)
    return false;
  Block &body = generic.getRegion().front();
  auto yield = dyn_cast<linalg::YieldOp>(body.getTerminator());
  return yield && body.getOperations().size() == 1 &&
         yield.getNumOperands() == 1 &&
         yield.getOperand(0) == body.getArgument(0);
}

/// The fan-in of `value` used as a weight: following it through views and
/// transposes to the contractions that read it on their weight side (the
/// operand that does not carry the M dimensions, as tp-plan decides), the
/// largest contraction size; 0 if it is not used as a weight.
int64_t weightFanIn(Value value) {
  int64_t fanIn = 0;
  for (OpOperand &use : value.getUses()) {
    Operation *user = use.getOwner();
    if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp, tensor::CastOp>(
            user)) {
      fanIn = std::max(fanIn, weightFanIn(user->getResult(0)));
      continue;
    }
    auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
    if (!linalgOp || !linalgOp.isDpsInput(&use))
      continue;
    if (movesElementsOnly(linalgOp)) {
      fanIn = std::max(fanIn, weightFanIn(user->getResult(0)));
      continue;
    }
    std::optional<linalg::ContractionDimensions> dims = contractionDims(user);
    if (!dims)
      continue;
    AffineMap map = linalgOp.getMatchingIndexingMap(&use);
    if (llvm::any_of(dims->m,
                     [&](unsigned m) { return map.isFunctionOfDim(m); }))
      continue; // the activation side
    fanIn = std::max(fanIn, loopVolume(linalgOp, dims->k));
  }
  return fanIn;
}

/// What --check's default tolerance is derived from.
struct Numerics {
  int64_t depth = 0;        ///< contractions on the longest chain
  int64_t maxReduction = 0; ///< the largest reduction (elements summed)
  std::string dtype = "f32";
  double tolerance = 1e-5;
};

/// Rounding errors of a sum of K products grow like sqrt(K) * eps (random
/// signs), and independent errors of D chained layers like sqrt(D); the
/// tolerance is that bound, at least 100 eps of the accumulation type, plus
/// the storage type's rounding of each layer's result where it is coarser
/// (bf16 and f16 values are stored narrow, accumulated in f32).
Numerics deriveNumerics(func::FuncOp func) {
  Numerics n;
  DenseMap<Value, int64_t> depth;
  for (Operation &op : func.getBody().front()) {
    int64_t d = 0;
    for (Value operand : op.getOperands())
      d = std::max(d, depth.lookup(operand));
    if (contractionDims(&op))
      ++d;
    for (Value result : op.getResults())
      depth[result] = d;
    n.depth = std::max(n.depth, d);
  }
  func.walk([&](linalg::LinalgOp op) {
    SmallVector<unsigned> reductions;
    op.getReductionDims(reductions);
    if (!reductions.empty())
      n.maxReduction = std::max(n.maxReduction, loopVolume(op, reductions));
  });
  // The narrowest floating-point type among the results.
  double storageEps = 0x1p-23, accumulationEps = 0x1p-23;
  bool anyFloat = false;
  for (Type type : func.getResultTypes()) {
    Type elem = getElementTypeOrSelf(type);
    if (!isa<FloatType>(elem))
      continue;
    double eps = elem.isBF16()  ? 0x1p-7
                 : elem.isF16() ? 0x1p-10
                 : elem.isF64() ? 0x1p-52
                                : 0x1p-23;
    if (!anyFloat || eps > storageEps) {
      storageEps = eps;
      llvm::raw_string_ostream os(n.dtype);
      n.dtype.clear();
      os << elem;
    }
    anyFloat = true;
  }
  if (anyFloat && storageEps < 0x1p-23)
    accumulationEps = storageEps; // f64 throughout
  double k = double(std::max<int64_t>(n.maxReduction, 1));
  double chain = double(std::max<int64_t>(n.depth, 1));
  n.tolerance =
      std::max(100 * accumulationEps, accumulationEps * std::sqrt(k * chain));
  if (storageEps > accumulationEps)
    n.tolerance += 2 * storageEps * std::sqrt(chain);
  return n;
}

/// "f32, 24 chained contractions, reductions up to 3072".
std::string describe(const Numerics &n) {
  return llvm::formatv("{0}, {1} chained contraction{2}, reductions up to {3}",
                       n.dtype, n.depth, n.depth == 1 ? "" : "s",
                       n.maxReduction)
      .str();
}

/// Checks, before anything is allocated, that the random inputs fit: each
/// one in memory, all of them in the scratch folder.
LogicalResult checkRandomInputSizes(func::FuncOp func, StringRef dir,
                                    const std::set<unsigned> &skip = {}) {
  uint64_t total = 0;
  struct statvfs disk;
  uint64_t free = statvfs(dir.str().c_str(), &disk) == 0
                      ? uint64_t(disk.f_bavail) * disk.f_frsize
                      : UINT64_MAX;
  long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGESIZE);
  uint64_t memory = pages > 0 && pageSize > 0
                        ? uint64_t(pages) * uint64_t(pageSize)
                        : UINT64_MAX;
  for (auto [i, type] : llvm::enumerate(func.getArgumentTypes())) {
    if (skip.count(unsigned(i)))
      continue;
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor || !tensor.hasStaticShape())
      return func.emitOpError("argument #")
             << i << " has type " << type
             << "; random inputs need statically shaped tensors (pass "
                "--inputs)";
    int64_t bytes = randomInputBytes(tensor);
    if (bytes < 0 || uint64_t(bytes) > memory / 2)
      return func.emitOpError("argument #")
             << i << " (" << type << ") is too large for random inputs: "
             << (bytes < 0 ? std::string("its size in bytes overflows 64 bits")
                           : std::to_string(bytes) +
                                 " bytes, more than half of this machine's " +
                                 std::to_string(memory) + " bytes of memory")
             << "; pass --inputs with your own files";
    total += uint64_t(bytes);
    if (total > free)
      return func.emitOpError("random inputs for arguments #0..#")
             << i << " need " << total << " bytes, more than the " << free
             << " bytes free in " << dir
             << "; pass --inputs with your own files, or point TMPDIR "
                "(or --build-dir) to a larger disk";
  }
  return success();
}

/// Writes uniformly random inputs for every argument of `func` not in `skip`
/// (those read from --weights).
/// Writes a .npy file of `n` elements of `dtype` (C type T) whose values
/// `next()` draws in order, a chunk at a time: a Llama-2-7B-width layer's
/// random weights are 772 MiB, and a whole-tensor buffer (zeroed, then
/// filled, then copied into the page cache) cost more than drawing them.
template <typename T, typename Next>
bool writeDrawnNpy(const std::string &path, tp_dtype dtype,
                   const std::vector<int64_t> &shape, int64_t n, Next next,
                   std::string &error) {
  std::string header;
  if (!::tp::npy::formatHeader(dtype, shape, header, error))
    return false;
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec) {
    error = ec.message();
    return false;
  }
  os << header;
  constexpr int64_t chunk = int64_t(1) << 16;
  std::vector<T> data(std::min(n, chunk));
  for (int64_t done = 0; done < n;) {
    int64_t count = std::min(n - done, chunk);
    for (int64_t j = 0; j < count; ++j)
      data[j] = next();
    os.write(reinterpret_cast<const char *>(data.data()), count * sizeof(T));
    done += count;
  }
  os.close();
  if (os.has_error()) {
    error = os.error().message();
    os.clear_error();
    return false;
  }
  return true;
}

LogicalResult writeRandomInputs(func::FuncOp func, StringRef dir,
                                std::vector<std::string> &paths,
                                const std::set<unsigned> &skip = {}) {
  if (failed(checkRandomInputSizes(func, dir, skip)))
    return failure();
  std::mt19937_64 rng(seed);
  for (auto [i, type] : llvm::enumerate(func.getArgumentTypes())) {
    if (skip.count(unsigned(i)))
      continue;
    auto tensor = cast<RankedTensorType>(type);
    std::vector<int64_t> shape(tensor.getShape().begin(),
                               tensor.getShape().end());
    int64_t n = tensor.getNumElements();
    std::string path =
        (llvm::Twine(dir) + "/input" + llvm::Twine(i) + ".npy").str();
    std::string error;
    Type elem = tensor.getElementType();
    bool ok;
    // Weights as nn.Linear initialises them, U(-1/sqrt(fan_in),
    // 1/sqrt(fan_in)), so that activations keep their scale through deep
    // models; everything else in [-1, 1). Only parameters are weights: the
    // upstream gradient of a training step is read on the weight side of
    // dW = h^T g too (Parameters.h).
    BlockArgument arg = func.getArgument(i);
    int64_t fanIn = mlir::tp::isParameterArgument(arg) ? weightFanIn(arg) : 0;
    double bound = fanIn > 0 ? 1.0 / std::sqrt(double(fanIn)) : 1.0;
    if (elem.isF32() || elem.isF16() || elem.isBF16()) {
      std::uniform_real_distribution<float> dist(-float(bound), float(bound));
      ok = writeDrawnNpy<float>(
          path, TP_F32, shape, n, [&] { return dist(rng); }, error);
    } else if (elem.isF64()) {
      std::uniform_real_distribution<double> dist(-bound, bound);
      ok = writeDrawnNpy<double>(
          path, TP_F64, shape, n, [&] { return dist(rng); }, error);
    } else if (elem.isSignlessInteger(32) || elem.isSignlessInteger(64)) {
      if (intRange < 1)
        return func.emitOpError("--int-range must be at least 1");
      std::uniform_int_distribution<int64_t> dist(0, intRange - 1);
      if (elem.isSignlessInteger(64))
        ok = writeDrawnNpy<int64_t>(
            path, TP_I64, shape, n, [&] { return dist(rng); }, error);
      else
        ok = writeDrawnNpy<int32_t>(
            path, TP_I32, shape, n,
            [&] { return static_cast<int32_t>(dist(rng)); }, error);
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

//===----------------------------------------------------------------------===//
// Signals: SIGINT / SIGTERM / SIGHUP (Ctrl-C, `timeout`, a scheduler) reach
// the job too, tp-run waits for it, removes its scratch folder and exits
// with 128 + the signal's number; nothing is written after that.
//
// The signals are blocked in every thread (before MLIR starts its thread
// pool) and taken by one thread with sigwait. While the job runs (mpiexec
// and its ranks, in a process group of their own) the main thread forwards
// the signal to that group and waits for it (SIGKILL after 10 s); otherwise
// (compiling) the signal thread removes the scratch folder and exits at
// once.
//===----------------------------------------------------------------------===//

struct JobControl {
  std::mutex mutex;
  pid_t group = -1;            ///< the running job's process group, or -1
  std::string scratchToRemove; ///< "" when kept (--build-dir) or none yet
  std::atomic<int> signal{0};  ///< the first signal received, or 0
};

JobControl &jobControl() {
  static auto *control = new JobControl; // leaked: used until _exit
  return *control;
}

sigset_t terminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

void signalThread() {
  sigset_t set = terminationSignals();
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0)
      continue;
    JobControl &control = jobControl();
    std::lock_guard<std::mutex> lock(control.mutex);
    int expected = 0;
    control.signal.compare_exchange_strong(expected, sig);
    if (control.group > 0)
      continue; // the main thread forwards it and waits for the job
    std::string line = std::string("tp-run: interrupted by ") +
                       (sig == SIGINT    ? "SIGINT"
                        : sig == SIGTERM ? "SIGTERM"
                                         : "SIGHUP") +
                       "\n";
    ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
    if (!control.scratchToRemove.empty())
      llvm::sys::fs::remove_directories(control.scratchToRemove);
    _exit(128 + sig);
  }
}

/// Blocks the termination signals in this thread and every thread started
/// after, and starts the thread that takes them.
void installSignalHandling() {
  sigset_t set = terminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread(signalThread).detach();
}

const char *signalName(int sig) {
  return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP";
}

/// Starts `command` (argv[0] is the program) in a process group of its own,
/// with `env`, stdin from /dev/null and default signal handling, and
/// records the group for the signal thread. Returns its pid; -1 with
/// `error`, or 0 if a termination signal came first.
pid_t spawnJob(const std::vector<std::string> &command,
               const std::vector<std::string> &env, std::string &error) {
  std::vector<char *> argv, envp;
  for (const std::string &a : command)
    argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  for (const std::string &e : env)
    envp.push_back(const_cast<char *>(e.c_str()));
  envp.push_back(nullptr);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults = terminationSignals();
  sigemptyset(&none);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // In a background process group, reading the terminal would stop it.
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);

  JobControl &control = jobControl();
  pid_t pid = -1;
  int rc = 0;
  {
    std::lock_guard<std::mutex> lock(control.mutex);
    if (!control.signal.load()) {
      rc =
          posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
      if (rc == 0)
        control.group = pid;
    } else {
      pid = 0;
    }
  }
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    error =
        std::string("cannot start ") + command[0] + ": " + std::strerror(rc);
    return -1;
  }
  return pid;
}

/// Waits for the job `pid` started; forwards a termination signal to its
/// group (SIGKILL 10 s later) and kills it after `limitSeconds` (> 0).
/// Returns its exit code (128 + n for a signal n), or -1 with `error` when
/// the limit killed it.
int waitForJob(pid_t pid, unsigned limitSeconds, std::string &error) {
  JobControl &control = jobControl();
  auto start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point forwarded;
  bool sentSignal = false, killed = false;
  int status = 0;
  for (;;) {
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid || (done < 0 && errno != EINTR))
      break;
    auto now = std::chrono::steady_clock::now();
    if (int sig = control.signal.load(); sig && !sentSignal) {
      kill(-pid, sig);
      sentSignal = true;
      forwarded = now;
    }
    bool overdue =
        limitSeconds > 0 && now - start > std::chrono::seconds(limitSeconds);
    bool stubborn = sentSignal && now - forwarded > std::chrono::seconds(10);
    if ((overdue || stubborn) && !killed) {
      kill(-pid, SIGKILL);
      killed = true;
      if (overdue && !sentSignal)
        error = "the job did not end within " + std::to_string(limitSeconds) +
                " s; killed it";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Whatever is left of the job (a rank whose launcher died first) goes too.
  if (sentSignal || killed)
    kill(-pid, SIGKILL);
  {
    std::lock_guard<std::mutex> lock(control.mutex);
    control.group = -1;
  }
  if (killed && !sentSignal)
    return -1;
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/// Runs `command` as a job (spawnJob) and waits for it (waitForJob).
/// Returns its exit code (128 + n for a signal n), or -1 with `error`. If
/// tp-run gets a termination signal meanwhile, the group gets it too.
int runJob(const std::vector<std::string> &command,
           const std::vector<std::string> &env, unsigned limitSeconds,
           std::string &error) {
  pid_t pid = spawnJob(command, env, error);
  if (pid < 0)
    return -1;
  if (pid == 0)
    return 128 + jobControl().signal.load();
  return waitForJob(pid, limitSeconds, error);
}

/// Runs `mpiexec -n N tp-launch ...`; returns the exit code.
int launch(StringRef launcher, const std::string &model, int64_t ranks,
           const std::vector<std::string> &inputPaths,
           const std::vector<std::string> &outputPaths, bool showPaths,
           const std::vector<std::string> &extra = {},
           const tp_run::WeightPlan *weightPlan = nullptr) {
  llvm::ErrorOr<std::string> mpi = llvm::sys::findProgramByName(mpiexec);
  if (!mpi) {
    fail("cannot find '" + mpiexec + "' (install mpich, or pass --mpiexec)");
    return 1;
  }
  std::vector<std::string> args{*mpi,
                                "-n",
                                std::to_string(ranks),
                                launcher.str(),
                                "--model",
                                model,
                                "--inputs",
                                ::tp::files::joinList(inputPaths),
                                "--output",
                                ::tp::files::joinList(outputPaths),
                                "--timeout",
                                std::to_string(timeout.getValue())};
  if (quiet)
    args.push_back("--quiet");
  if (!showPaths) // files in the scratch folder, gone when tp-run exits
    args.push_back("--no-output-paths");
  args.insert(args.end(), extra.begin(), extra.end());
  if (weightPlan && !weightPlan->tensorFor.empty()) {
    args.push_back("--weights");
    args.push_back(::tp::files::joinList(weightPlan->files));
    args.push_back("--weight-map");
    args.push_back(weightPlan->launchMap());
  }
  // Hydra's own limit, a little after tp-launch's watchdog, so that a hung
  // job is ended even if a rank cannot run its watchdog.
  std::vector<std::string> env;
  for (char **e = environ; *e; ++e)
    if (!StringRef(*e).starts_with("MPIEXEC_TIMEOUT="))
      env.push_back(*e);
  if (timeout > 0)
    env.push_back("MPIEXEC_TIMEOUT=" + std::to_string(timeout.getValue() + 15));
  std::string error;
  unsigned wait = timeout > 0 ? timeout + 30 : 0;
  llvm::outs().flush();
  llvm::errs().flush();
  int rc = runJob(args, env, wait, error);
  if (int sig = jobControl().signal.load()) {
    // The job may have finished just before the signal reached it.
    fail(llvm::Twine("interrupted by ") + signalName(sig) +
         (rc == 0 ? "; the job had already finished"
                  : "; the ranks were stopped and no output was written"));
    return 128 + sig;
  }
  if (rc < 0) {
    fail("running " + *mpi + " failed: " + error);
    return 1;
  }
  return rc;
}

/// Copies the finished file `from` to the user's `to` as tp-launch writes
/// outputs (a temporary in the same folder renamed into place; a device or
/// FIFO written in place).
/// Rewrites the .npy file `from` (result `index`) as the .safetensors file
/// `to`, as tp-launch writes such outputs.
bool installSafetensorsOutput(const std::string &from, const std::string &to,
                              unsigned index) {
  std::string error;
  ::tp::npy::Array array;
  ::tp::files::OutputFile out;
  bool ok = ::tp::npy::read(from, array, error);
  if (!ok)
    error = "cannot read " + from + ": " + error;
  ok = ok && out.open(to, error) &&
       ::tp::launch::safetensors::write(
           out.fd(),
           {{"result" + std::to_string(index), array.dtype, array.shape,
             array.data.data()}},
           {{"format", "tp-mlir"}}, error) &&
       out.finish(error) && out.commit(error);
  if (!ok)
    fail(to + ": " + error);
  return ok;
}

bool installOutput(const std::string &from, const std::string &to,
                   unsigned index) {
  if (llvm::StringRef(to).ends_with(".safetensors"))
    return installSafetensorsOutput(from, to, index);
  std::string error;
  ::tp::files::OutputFile out;
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    fail("cannot read " + from + ": " + std::strerror(errno));
    return false;
  }
  bool ok = out.open(to, error);
  char buffer[1 << 16];
  while (ok) {
    ssize_t n = ::read(in, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      error = std::string("cannot read ") + from + ": " + std::strerror(errno);
      ok = false;
      break;
    }
    if (n == 0)
      break;
    for (ssize_t done = 0; ok && done < n;) {
      ssize_t w = ::write(out.fd(), buffer + done, size_t(n - done));
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0) {
        error = std::string("cannot write file: ") + std::strerror(errno);
        ok = false;
      } else {
        done += w;
      }
    }
  }
  ::close(in);
  ok = ok && out.finish(error) && out.commit(error);
  if (!ok)
    fail(to + ": " + error);
  return ok;
}

/// Installs the shard set folder `from` as `to`: its files one by one (as
/// installOutput does), shards.json last, so that a folder with a
/// descriptor always has the parts it names.
bool installShardSet(const std::string &from, const std::string &to) {
  ::tp::launch::ShardSet set;
  std::string error;
  if (!set.open(from, error)) {
    fail(from + ": " + error);
    return false;
  }
  if (::mkdir(to.c_str(), 0777) != 0 && errno != EEXIST) {
    fail(to + ": cannot create the folder: " + std::strerror(errno));
    return false;
  }
  for (int r = 0; r < set.tpSize; ++r) {
    std::string part = ::tp::launch::shardFilePath(from, r);
    if (::access(part.c_str(), F_OK) == 0 &&
        !installOutput(part, ::tp::launch::shardFilePath(to, r), 0))
      return false;
  }
  return installOutput(::tp::launch::shardDescriptorPath(from),
                       ::tp::launch::shardDescriptorPath(to), 0);
}

FailureOr<::tp::launch::Comparison> compare(const std::string &got,
                                            const std::string &ref) {
  ::tp::npy::Array a, b;
  std::string error;
  if (!::tp::launch::readWholeResult(got, a, error)) {
    fail(got + ": " + error);
    return failure();
  }
  if (!::tp::launch::readWholeResult(ref, b, error)) {
    fail(ref + ": " + error);
    return failure();
  }
  ::tp::launch::Comparison c;
  if (!::tp::launch::compareArrays(a, b, c, error)) {
    fail("the sharded and unsharded results differ: " + error);
    return failure();
  }
  return c;
}

/// Phase lines ("tp-run: [  12.3 s] codegen") on stderr as each long step
/// starts: on a terminal, or with --progress.
struct Progress {
  bool enabled = false;
  double start = now();
  std::string current = "compile";
  void phase(const llvm::Twine &what) {
    current = what.str();
    if (!enabled)
      return;
    llvm::outs().flush(); // what was printed before this phase comes first
    llvm::errs() << llvm::formatv("tp-run: [{0,7:f1} s] ", now() - start)
                 << current << "\n";
    llvm::errs().flush();
  }
};

const char *dtypeName(tp_dtype dtype) {
  switch (dtype) {
  case TP_F16:
    return "f16";
  case TP_F32:
    return "f32";
  case TP_F64:
    return "f64";
  case TP_I32:
    return "i32";
  case TP_I64:
    return "i64";
  default:
    return "another dtype";
  }
}

/// The .npy dtypes an argument of element type `elem` accepts (bf16 and f16
/// arguments take f32 data too).
SmallVector<tp_dtype> acceptedDtypes(Type elem) {
  if (elem.isF32())
    return {TP_F32};
  if (elem.isF64())
    return {TP_F64};
  if (elem.isF16())
    return {TP_F16, TP_F32};
  if (elem.isBF16())
    return {TP_F32};
  if (elem.isSignlessInteger(32))
    return {TP_I32};
  if (elem.isSignlessInteger(64))
    return {TP_I64};
  return {};
}

/// Checks the --inputs files against the entry's arguments (count, dtype,
/// shape) before anything is compiled; the launcher checks them again.
LogicalResult checkInputFiles(func::FuncOp func,
                              const std::vector<std::string> &paths,
                              const std::set<unsigned> &skip = {}) {
  // The arguments the files are for: all but those read from --weights.
  std::vector<unsigned> argIndices;
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    if (!skip.count(i))
      argIndices.push_back(i);
  if (paths.size() != argIndices.size()) {
    fail(llvm::formatv("expected {0} input{1} (one per argument of @{2}{4}), "
                       "got {3}",
                       argIndices.size(), argIndices.size() == 1 ? "" : "s",
                       func.getName(), paths.size(),
                       skip.empty() ? "" : " not read from --weights")
             .str());
    return failure();
  }
  for (auto [k, path] : llvm::enumerate(paths)) {
    const unsigned i = argIndices[k];
    std::string name = "argument " + std::to_string(i) + " (" + path + ")";
    ::tp::npy::Header header;
    std::string error;
    if (::tp::launch::isShardSetPath(path)) {
      // The whole tensor a shard set holds is what is checked.
      ::tp::launch::ShardSet set;
      if (!set.open(path, error)) {
        fail(name + ": " + error);
        return failure();
      }
      header.dtype = set.spec.dtype;
      header.shape = set.spec.globalShape;
    } else if (!::tp::npy::readHeader(path, header, error)) {
      fail(name + ": " + error);
      return failure();
    }
    auto type = dyn_cast<RankedTensorType>(func.getArgumentTypes()[i]);
    // A partitioned program (the partitioned.mlir --build-dir keeps) takes
    // the full tensors its arguments are shards of.
    if (auto global = func.getArgAttrOfType<TypeAttr>(
            i, mlir::tp::TPDialect::getGlobalTypeAttrName()))
      type = dyn_cast<RankedTensorType>(global.getValue());
    if (!type)
      continue;
    SmallVector<tp_dtype> accepted = acceptedDtypes(type.getElementType());
    if (!accepted.empty() && !llvm::is_contained(accepted, header.dtype)) {
      std::string expected;
      llvm::raw_string_ostream os(expected);
      os << type.getElementType();
      fail(name + ": dtype " + dtypeName(header.dtype) +
           " does not match the expected " + expected +
           (type.getElementType().isBF16() || type.getElementType().isF16()
                ? " (f32 data is also accepted)"
                : ""));
      return failure();
    }
    bool shapeMatches = header.shape.size() == size_t(type.getRank());
    for (int64_t d = 0; shapeMatches && d < type.getRank(); ++d)
      shapeMatches =
          type.isDynamicDim(d) || header.shape[d] == type.getDimSize(d);
    if (!shapeMatches) {
      fail(name + ": shape " + ::tp::npy::formatShape(header.shape) +
           " does not match the expected " +
           ::tp::npy::formatShape(std::vector<int64_t>(type.getShape().begin(),
                                                       type.getShape().end())));
      return failure();
    }
  }
  return success();
}

/// True if a failed run ended because of --timeout: tp-launch's watchdog
/// exits with 124 (MPICH reports an aborted job as 9), or the run took the
/// whole limit.
bool timedOut(int rc, double seconds) {
  return timeout > 0 &&
         (rc == 124 || seconds >= double(timeout.getValue()) - 0.5);
}

int timeoutFailure(const std::string &what) {
  return fail(llvm::formatv("{0} was stopped by the --timeout of {1} s; "
                            "raise it with --timeout=SECONDS (0: no limit)",
                            what, timeout.getValue())
                  .str());
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

/// Prints `message` as tp-run's error; for steps returning LogicalResult.
LogicalResult failStep(const llvm::Twine &message) {
  fail(message);
  return failure();
}

/// The options that are checked before anything is read.
LogicalResult checkOptions() {
  if (tpSize < 1)
    return failStep("--tp-size must be at least 1, got " +
                    std::to_string(tpSize.getValue()));
  if (repeat < 1 || repeat > 1000000 || warmup > 1000000)
    return failStep("--repeat wants 1 to 1000000 calls and --warmup 0 to "
                    "1000000, got --repeat=" +
                    std::to_string(repeat.getValue()) +
                    " --warmup=" + std::to_string(warmup.getValue()));
  // Upstream's gpu-module-to-binary reports a missing toolkit but then takes
  // whatever ptxas is on PATH; a toolkit named here must be the one used.
  if (target == tp_run::Target::gpu) {
    SmallString<128> ptxas(cudaToolkit.getValue());
    llvm::sys::path::append(ptxas, "bin", "ptxas");
    if (!llvm::sys::fs::can_execute(ptxas))
      return failStep("--cuda-toolkit=" + cudaToolkit + ": no executable " +
                      ptxas.str().str() +
                      " (the GPU target builds its kernels with the toolkit's "
                      "ptxas and fatbinary)");
  }
  return success();
}

DialectRegistry allDialects() {
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerTPDialect(registry);
  return registry;
}

/// One run of tp-run, as the steps main() calls in order. A step that fails
/// has printed why; main then exits with `exitCode`.
class Driver {
public:
  Driver() : context(allDialects()), diagnostics(sourceMgr, &context) {
    context.loadAllAvailableDialects();
    // A diagnostic names the op and its location; the whole op in generic
    // form (often pages of it) only on request.
    context.printOpOnDiagnostic(printOpOnDiagnostic);
    // --quiet: remarks (a contraction kept as loops, a replicated op) are
    // not shown; warnings and errors are.
    context.getDiagEngine().registerHandler([](Diagnostic &diagnostic) {
      return success(quiet &&
                     diagnostic.getSeverity() == DiagnosticSeverity::Remark);
    });
  }

  /// Parses the model (TOSA through upstream's tosa-to-linalg) and finds
  /// its entry function.
  LogicalResult loadModel();
  /// Where each argument comes from (--weights, hoisted constants,
  /// --inputs), checked against the entry before anything is compiled.
  LogicalResult resolveArgumentSources();
  /// The scratch folder (or --build-dir) and the hoisted weights in it;
  /// fails early if random inputs could not fit.
  LogicalResult prepareScratch();
  /// Compiles the model at --tp-size (and with --check the reference at
  /// tp-size 1); writes the plan report; prints the times.
  LogicalResult compile();
  void reportBuilt() const {
    llvm::outs() << "tp-run: built " << modelSo
                 << (check ? " and " + refSo : "") << "\n";
  }
  /// Random inputs when none were given; where the results go.
  LogicalResult prepareInputsAndOutputs();
  /// Runs the sharded program on --tp-size ranks.
  LogicalResult runSharded(const char *argv0);
  /// Runs the reference on one rank and compares the results with it.
  LogicalResult checkAgainstReference();
  /// Moves the checked results to the user's files.
  LogicalResult installUserOutputs();

  int exitCode = 1;

private:
  LogicalResult convertTosa();
  LogicalResult createScratchFolder();
  LogicalResult checkUserOutputs();
  /// Runs `mpiexec` + tp-launch; a signal or a failure ends the step.
  LogicalResult launchJob(const std::string &model, int64_t ranks,
                          const std::vector<std::string> &outputs,
                          bool showOutputPaths,
                          const std::vector<std::string> &timing,
                          const std::string &what, double &seconds);

  MLIRContext context;
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnostics;
  OwningOpRef<ModuleOp> module;
  func::FuncOp entryFunc;
  Progress progress_;
  tp_run::WeightPlan weightPlan;
  std::set<unsigned> fromWeights;
  tp_run::HoistedWeights hoisted;
  std::vector<std::string> inputPaths;
  bool plan = false;
  ScratchDir scratch;
  std::string modelSo, refSo;
  unsigned numResults = 0;
  std::vector<std::string> outputPaths, userOutputs;
  bool showPaths = false;
  std::string launcher;
};

LogicalResult Driver::loadModel() {
  std::string error;
  auto file = openInputFile(modelPath, &error);
  if (!file)
    return failStep(error);
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return failStep("cannot parse " + modelPath);
  if (failed(convertTosa()))
    return failure();
  entryFunc = mlir::tp::findEntryFunction(*module, entry);
  if (!entryFunc)
    return failure();
  // Progress times count from here.
  progress_.start = now();
  progress_.enabled = progress.getNumOccurrences()
                          ? bool(progress)
                          : !quiet && isatty(STDERR_FILENO);
  return success();
}

/// TOSA input goes through upstream's tosa-to-linalg first.
LogicalResult Driver::convertTosa() {
  bool tosa = false;
  module->walk([&](Operation *op) {
    if (isa<tosa::TosaDialect>(op->getDialect())) {
      tosa = true;
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (!tosa)
    return success();
  PassManager pm(&context);
  tosa::addTosaToLinalgPasses(pm, TosaToLinalgOptions());
  pm.addPass(createTosaToTensorPass()); // tosa.reshape, slices, concat
  pm.addPass(createTosaToArithPass());  // tosa.const, tosa.const_shape
  pm.addPass(createCanonicalizerPass());
  if (failed(pm.run(*module)))
    return failStep("converting the TOSA input to linalg failed (see the "
                    "errors above)");
  return success();
}

LogicalResult Driver::resolveArgumentSources() {
  // --weights: which arguments come from which tensors (headers only).
  if (!weightMap.empty() && weights.empty())
    return failStep("--weight-map needs --weights");
  if (!weights.empty()) {
    std::string error;
    if (!tp_run::resolveWeights(entryFunc,
                                tp_run::argumentNames(entryFunc, sourceMgr),
                                weights, weightMap, weightPlan, error))
      return failStep(error);
    for (const auto &entry : weightPlan.tensorFor)
      fromWeights.insert(entry.first);
  }
  // Weights that arrive as constants become arguments read from a weights
  // file written once the scratch folder exists (Hoist.h).
  if (hoistConstants) {
    if (failed(
            tp_run::hoistConstants(*module, entryFunc, hoistMinBytes, hoisted)))
      return failStep("moving the constants out of " + modelPath +
                      " failed (see the errors above; --hoist-constants=false "
                      "keeps them)");
    for (const auto &entry : hoisted.tensorFor)
      fromWeights.insert(entry.first);
    if (!hoisted.tensorFor.empty() && !quiet)
      llvm::errs() << llvm::formatv(
          "tp-run: {0} tensor constant(s) of @{1} ({2:f2} MiB) become "
          "weights each rank reads its shard of (--hoist-constants=false "
          "keeps them)\n",
          hoisted.tensorFor.size(), entryFunc.getName(),
          double(hoisted.bytes) / (1 << 20));
  }
  if (!inputs.empty()) {
    if (!::tp::files::splitList(inputs, inputPaths))
      return failStep("empty file name in --inputs '" + inputs + "'");
    if (failed(checkInputFiles(entryFunc, inputPaths, fromWeights)))
      return failure();
  }
  plan = !tp_run::hasAnnotations(*module);
  if (plan && !quiet)
    llvm::errs() << "tp-run: " << modelPath
                 << " has no tp.parallel annotations: planning automatically "
                    "(tp-plan)\n";
  return success();
}

LogicalResult Driver::createScratchFolder() {
  if (!buildDir.empty()) {
    scratch.path = buildDir;
    scratch.keep = true;
    if (std::error_code ec = llvm::sys::fs::create_directories(buildDir))
      return failStep("cannot create " + buildDir + ": " + ec.message());
    return success();
  }
  SmallString<128> dir;
  if (std::error_code ec = llvm::sys::fs::createUniqueDirectory("tp-run", dir))
    return failStep("cannot create a scratch directory: " + ec.message());
  scratch.path = dir.str().str();
  std::lock_guard<std::mutex> lock(jobControl().mutex);
  jobControl().scratchToRemove = scratch.path;
  return success();
}

LogicalResult Driver::prepareScratch() {
  if (failed(createScratchFolder()))
    return failure();
  if (!hoisted.tensorFor.empty()) {
    std::string path = scratch.path + "/hoisted.safetensors", error;
    if (!tp_run::writeHoistedWeights(hoisted, path, error))
      return failStep("cannot write the hoisted constants to " + path + ": " +
                      error);
    weightPlan.files.push_back(path);
    weightPlan.tensorFor.insert(hoisted.tensorFor.begin(),
                                hoisted.tensorFor.end());
  }
  // Fail before compiling if random inputs cannot fit.
  if (inputs.empty() && !buildOnly &&
      failed(checkRandomInputSizes(entryFunc, scratch.path, fromWeights)))
    return failure();
  modelSo = scratch.path + "/model.so";
  refSo = scratch.path + "/model.ref.so";
  return success();
}

LogicalResult Driver::compile() {
  tp_run::CompileOptions options;
  options.tpSize = tpSize;
  options.entry = entryFunc.getName().str();
  options.target = target;
  options.cudaToolkit = cudaToolkit;
  options.fusedAttention = !noFusedAttention;
  options.gemm = gemm;
  options.cpu = buildOnly ? "x86-64" : "native";
  if (!buildDir.empty())
    options.partitionedPath = scratch.path + "/partitioned.mlir";
  options.plan = plan;
  options.uneven = uneven;
  options.shardedResults = shardedResults;
  options.sequenceParallel = sequenceParallel;
  options.unpackArguments = unpackArguments;
  options.minWeightFraction = minWeightFraction;
  options.dotPath = dotFile;
  options.onPhase = [&](StringRef phase) {
    progress_.phase(phase == "plan" || phase == "partition"
                        ? phase + " (tp-size " + llvm::Twine(tpSize) + ")"
                        : llvm::Twine(phase));
  };
  // The report as soon as the plan is known, before code generation.
  options.onPartitioned = [&](const mlir::tp::PartitionReport &r) {
    if (!report)
      return;
    r.printTable(llvm::outs());
    llvm::outs().flush();
  };
  mlir::tp::PartitionReport planReport_;
  tp_run::CompileTimes times, refTimes;
  if (failed(
          tp_run::compileModel(*module, options, modelSo, &planReport_, times)))
    return failure();
  if (!planReport.empty()) {
    std::error_code ec;
    llvm::raw_fd_ostream os(planReport, ec);
    if (ec)
      return failStep("cannot write " + planReport + ": " + ec.message());
    os << llvm::formatv("{0:2}", planReport_.toJSON()) << "\n";
  }
  if (check) {
    tp_run::CompileOptions refOptions = options;
    refOptions.tpSize = 1;
    // The reference reads packed arguments whole: a check of the pieces too.
    refOptions.unpackArguments = false;
    refOptions.partitionedPath.clear();
    refOptions.dotPath.clear();
    refOptions.onPartitioned = nullptr;
    refOptions.onPhase = [&](StringRef phase) {
      progress_.phase(
          "reference: " + phase +
          (phase == "plan" || phase == "partition" ? " (tp-size 1)" : ""));
    };
    if (failed(tp_run::compileModel(*module, refOptions, refSo, nullptr,
                                    refTimes)))
      return failure();
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
  return success();
}

/// --output, checked before running anything (with --check, tp-run itself
/// writes them).
LogicalResult Driver::checkUserOutputs() {
  if (!::tp::files::splitList(outputs, userOutputs))
    return failStep("empty file name in --output '" + outputs + "'");
  outputPaths = userOutputs;
  if (outputPaths.size() != numResults)
    return failStep(llvm::formatv("expected {0} output file(s) (one per "
                                  "result of @{1}), got {2}",
                                  numResults, entryFunc.getName(),
                                  outputPaths.size())
                        .str());
  for (const std::string &path : userOutputs) {
    std::string error;
    struct stat info;
    if (::tp::launch::isShardSetPath(path) &&
        ::stat(path.c_str(), &info) == 0) {
      if (!S_ISDIR(info.st_mode))
        return failStep("output " + path +
                        ": exists and is not a folder (a .shards output is a "
                        "folder)");
      continue;
    }
    if (!::tp::files::checkOutputPath(path, error))
      return failStep("output " + path + ": " + error);
  }
  return success();
}

LogicalResult Driver::prepareInputsAndOutputs() {
  // Random inputs take seconds at real widths (772 MiB of weights for one
  // Llama-2-7B-width layer): a phase of their own.
  if (inputs.empty()) {
    progress_.phase("random inputs");
    if (failed(writeRandomInputs(entryFunc, scratch.path, inputPaths,
                                 fromWeights)))
      return failure();
  }
  numResults = entryFunc.getNumResults();
  if (!outputs.empty() && failed(checkUserOutputs()))
    return failure();
  // With --check, the results go to the user's files only once they passed:
  // a failed check leaves no output (and an existing file as it was).
  showPaths = !userOutputs.empty() && !check;
  if (userOutputs.empty() || check) {
    outputPaths.clear();
    for (unsigned i = 0; i < numResults; ++i)
      outputPaths.push_back(
          scratch.path + "/output" + std::to_string(i) +
          (i < userOutputs.size() &&
                   ::tp::launch::isShardSetPath(userOutputs[i])
               ? ".shards"
               : ".npy"));
  }
  return success();
}

LogicalResult Driver::launchJob(const std::string &model, int64_t ranks,
                                const std::vector<std::string> &outputs,
                                bool showOutputPaths,
                                const std::vector<std::string> &timing,
                                const std::string &what, double &seconds) {
  double start = now();
  int rc = launch(launcher, model, ranks, inputPaths, outputs, showOutputPaths,
                  timing, &weightPlan);
  seconds = now() - start;
  if (int sig = jobControl().signal.load()) {
    exitCode = 128 + sig;
    return failure();
  }
  if (rc != 0 && timedOut(rc, seconds)) {
    exitCode = timeoutFailure(what);
    return failure();
  }
  if (rc != 0)
    return failStep(
        llvm::formatv("{0} failed (exit code {1})", what, rc).str());
  return success();
}

LogicalResult Driver::runSharded(const char *argv0) {
  SmallString<256> path(llvm::sys::fs::getMainExecutable(argv0, (void *)&fail));
  llvm::sys::path::remove_filename(path);
  llvm::sys::path::append(path, "tp-launch");
  if (!llvm::sys::fs::can_execute(path))
    return failStep("cannot find the launcher " + path.str().str());
  launcher = path.str().str();
  progress_.phase(llvm::formatv("run on {0} rank{1}", tpSize.getValue(),
                                tpSize == 1 ? "" : "s"));
  // --warmup / --repeat / --rank-stats time the sharded run only.
  std::vector<std::string> timing;
  if (warmup.getNumOccurrences())
    timing.push_back("--warmup=" + std::to_string(warmup.getValue()));
  if (repeat.getNumOccurrences())
    timing.push_back("--repeat=" + std::to_string(repeat.getValue()));
  if (rankStats)
    timing.push_back("--rank-stats");
  double seconds = 0;
  if (failed(launchJob(
          modelSo, tpSize, outputPaths, showPaths, timing,
          llvm::formatv("the {0}-rank run", tpSize.getValue()).str(), seconds)))
    return failure();
  if (!quiet)
    llvm::outs() << llvm::formatv("tp-run: run {0:f3} s on {1} rank(s)\n",
                                  seconds, tpSize.getValue());
  return success();
}

LogicalResult Driver::checkAgainstReference() {
  std::vector<std::string> refPaths;
  for (unsigned i = 0; i < numResults; ++i)
    refPaths.push_back(scratch.path + "/reference" + std::to_string(i) +
                       ".npy");
  progress_.phase("reference run on 1 rank");
  double seconds = 0;
  if (failed(launchJob(refSo, 1, refPaths, /*showOutputPaths=*/false, {},
                       "the unsharded reference run", seconds)))
    return failure();
  // The tolerance: --tolerance, or derived from the program.
  double limit = tolerance;
  if (!tolerance.getNumOccurrences()) {
    Numerics numerics = deriveNumerics(entryFunc);
    limit = numerics.tolerance;
    llvm::outs() << llvm::formatv("check: tolerance {0:e1} ({1})\n", limit,
                                  describe(numerics));
  }
  bool ok = true;
  for (unsigned i = 0; i < numResults; ++i) {
    FailureOr<::tp::launch::Comparison> c =
        compare(outputPaths[i], refPaths[i]);
    if (failed(c))
      return failure();
    bool pass = c->relative() <= limit;
    ok &= pass;
    llvm::outs() << llvm::formatv(
        "check: result {0}: max abs error {1:e2}, relative error {2:e2} "
        "(max|y-ref|/max|ref|, tolerance {3:e1}): {4}\n",
        i, c->maxAbs, c->relative(), limit, pass ? "ok" : "FAILED");
  }
  if (!ok)
    return failStep(llvm::Twine("--check failed: the sharded result differs "
                                "from the unsharded program beyond the "
                                "tolerance") +
                    (userOutputs.empty() ? "" : "; no output was written"));
  return success();
}

LogicalResult Driver::installUserOutputs() {
  for (unsigned i = 0; i < userOutputs.size(); ++i)
    if (!(::tp::launch::isShardSetPath(userOutputs[i])
              ? installShardSet(outputPaths[i], userOutputs[i])
              : installOutput(outputPaths[i], userOutputs[i], i)))
      return failure();
  return success();
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // Before any other thread exists (MLIR's thread pool inherits the mask).
  installSignalHandling();
  hideForeignOptions();
  cl::ParseCommandLineOptions(
      argc, argv,
      "tp-run: partition an MLIR model for tensor parallelism, compile it, run "
      "it on N ranks and check it against the unsharded program\n");
  if (failed(checkOptions()))
    return 1;
  Driver driver;
  if (failed(driver.loadModel()) || failed(driver.resolveArgumentSources()) ||
      failed(driver.prepareScratch()) || failed(driver.compile()))
    return driver.exitCode;
  if (buildOnly) {
    driver.reportBuilt();
    return 0;
  }
  if (failed(driver.prepareInputsAndOutputs()) ||
      failed(driver.runSharded(argv[0])))
    return driver.exitCode;
  if (!check)
    return 0;
  if (failed(driver.checkAgainstReference()) ||
      failed(driver.installUserOutputs()))
    return driver.exitCode;
  return 0;
}
