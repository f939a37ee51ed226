//===- tp-launch.cpp - Run a compiled tp-mlir model on one rank -----------===//
//
//   mpiexec -n N tp-launch --model model.so --inputs a.npy,b.npy
//                          --output y.npy[,z.npy] [--timeout S] [--quiet]
//                          [--warmup N] [--repeat M] [--rank-stats]
//                          [--weights w.safetensors[,...] --weight-map MAP]
//   tp-launch --spawn N --model gpu-model.so ...     (GPU models, one node)
//
// tp-launch links no backend: it reads the model's manifest from the file
// (Launch/ElfManifest.h) and dlopens libtp_runtime_mpi.so for target "cpu"
// or libtp_runtime_nccl.so for target "gpu" (from ../lib next to the
// executable, or TP_RUNTIME_LIB; --backend overrides the choice), RTLD_GLOBAL
// so that the model's tp_rt_* / mgpu* calls resolve against it. With
// --spawn N it starts N ranks of itself (Bootstrap/Spawn.h) instead of
// running one.
//
// Every rank: load the model, read its tp_manifest, validate all inputs (the
// same checks on every rank, before any collective, so a bad input fails the
// same way everywhere), cut its shard of each input, call tp_entry, assemble
// each full result (gather / reduce / take rank 0's) and, on rank 0 only,
// write the outputs through temporary files renamed into place at the very
// end. Any failure on any rank goes through tp_abort, which ends every rank;
// a watchdog does the same after --timeout seconds. On the MPI backend a
// failure in the local steps before the first collective (load, validate,
// cut shards) instead waits for the other ranks there, so that a failure
// every rank shares (a missing file) is reported once and every rank ends
// normally (agreeOnLocalSteps).
//
//===----------------------------------------------------------------------===//

#include "Bootstrap/Spawn.h"
#include "Common/DType.h"
#include "Common/ExitCode.h"
#include "Launch/ArgumentMemory.h"
#include "Launch/ElfManifest.h"
#include "Launch/HostLayout.h"
#include "Launch/Json.h"
#include "Launch/Manifest.h"
#include "Launch/MappedFile.h"
#include "Launch/Safetensors.h"
#include "Launch/ShardSet.h"
#include "Launch/StepGraph.h"
#include "tp/runtime/files.h"
#include "tp/runtime/npy.h"
#include "tp/runtime/tp_runtime.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <climits>
#include <malloc.h>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace tp;
using namespace tp::launch;

namespace {

const char usageText[] =
    "usage: mpiexec -n N tp-launch --model MODEL.so --inputs A.npy[,B.npy...]\n"
    "                              --output Y.npy[,Z.npy...] [--timeout S] "
    "[--quiet]\n"
    "       tp-launch --spawn N --model GPU_MODEL.so ...   (one node, no "
    "mpiexec)\n"
    "\n"
    "Runs a model compiled by tp-mlir on every rank of the job. Inputs are\n"
    "the full (unsharded) tensors, one per argument of the entry function;\n"
    "outputs are the full results, written by rank 0. A path ending in\n"
    "'.shards' is a shard set, a folder with each rank's part (rankR.npy)\n"
    "and shards.json: as an output, every rank writes its own part (a split\n"
    "result is never gathered); as an input, a rank reads only its part when\n"
    "the argument is split the same way, and is cut from the assembled\n"
    "whole otherwise.\n"
    "  --model PATH     the compiled model (exports tp_manifest and tp_entry)\n"
    "  --inputs LIST    comma-separated .npy files, one per argument (write a\n"
    "                   comma inside a name as \\, and a backslash as \\\\)\n"
    "  --output LIST    comma-separated .npy paths, one per result (same "
    "escapes);\n"
    "                   a path ending in .safetensors gets its result as "
    "tensor\n"
    "                   \"result<index>\" of a .safetensors file\n"
    "  --timeout S      abort every rank after S seconds (default 300; 0: "
    "never)\n"
    "  --quiet          print nothing on success\n"
    "  --no-output-paths  leave the output paths out of the summary line\n"
    "                   (tp-run: they are temporaries)\n"
    "  --warmup N       call tp_entry N times untimed first (default 0)\n"
    "  --repeat M       time M calls of tp_entry and report their median "
    "(default 1);\n"
    "                   the outputs are the last call's results\n"
    "  --weights LIST   comma-separated .safetensors files; the arguments "
    "--weight-map\n"
    "                   names are read from them, each rank reading only its "
    "shard,\n"
    "                   and --inputs lists the other arguments, in order\n"
    "  --weight-map MAP JSON object {\"ARGUMENT INDEX\": \"TENSOR NAME\", "
    "...}, inline\n"
    "                   (starting with '{') or in a file\n"
    "  --rank-stats     print each rank's tp_entry times (median, min, max) "
    "and\n"
    "                   peak resident memory (implied by --warmup and "
    "--repeat)\n"
    "  --spawn N        start N ranks of this program on this node, rank r "
    "on GPU\n"
    "                   r % (visible GPUs); GPU models only\n"
    "  --backend NAME   mpi or nccl (default: from the model's target, cpu "
    "or gpu)\n"
    "  --collectives host  GPU models: collectives through host memory "
    "instead of\n"
    "                   NCCL, so that several ranks can share one GPU "
    "(correctness\n"
    "                   runs: tp 2/4/8 on a one-GPU machine; slow)\n"
    "  --no-cuda-graph  GPU models: run every call of tp_entry plainly (by "
    "default\n"
    "                   the second call is captured as a CUDA graph and "
    "replayed)\n"
    "GPU models run on the nccl backend; see runtime/README.md for the "
    "TP_*\n"
    "environment variables that place ranks started by mpirun or srun.\n";

constexpr int timeoutExitCode = 124;

/// The backend's C ABI, found with dlsym in the library loaded at startup.
struct RuntimeApi {
  std::string name; // "mpi" or "nccl"
  tp_status (*init)(int *, char ***) = nullptr;
  tp_status (*finalize)() = nullptr;
  int (*rank)() = nullptr;
  int (*size)() = nullptr;
  const char *(*backendName)() = nullptr;
  tp_status (*allReduce)(const void *, void *, int64_t, tp_dtype,
                         tp_reduce_op) = nullptr;
  tp_status (*allGather)(const void *, void *, int64_t, int64_t,
                         tp_dtype) = nullptr;
  tp_status (*barrier)() = nullptr;
  const char *(*lastError)() = nullptr;
  void (*abort)(int, const char *) = nullptr;
  int (*inCollective)() = nullptr;
  DeviceFunctions device; // nccl only
  // nccl only, optional (older libraries lack them): device-side step
  // timing and peak device memory.
  void (*timerStart)() = nullptr;
  double (*timerStop)() = nullptr;
  int64_t (*deviceMemoryPeak)() = nullptr;
  // nccl only, optional: the step as a CUDA graph (Launch/StepGraph.h).
  int32_t (*graphBegin)() = nullptr;
  void *(*graphEnd)() = nullptr;
  void (*graphLaunch)(void *) = nullptr;
  void (*graphDestroy)(void *) = nullptr;
  bool gpu() const { return device.sync != nullptr; }
};

RuntimeApi api;

[[noreturn]] void agreeOnFailure(const std::string &message, int exitCode);

/// Set (MPI backend only) while the main thread runs the local steps that
/// every rank runs alike before its first collective.
struct {
  bool active = false;
  std::thread::id thread;
} localSteps;

[[noreturn]] void fail(const std::string &message, int exitCode = 1) {
  exitCode = rt::failureExitCode(exitCode); // exit(256) reads as success
  if (localSteps.active && std::this_thread::get_id() == localSteps.thread) {
    localSteps.active = false;
    agreeOnFailure(message, exitCode);
  }
  if (api.abort)
    api.abort(exitCode, message.c_str());
  // No backend loaded yet (or it returned): this process only.
  std::string line = "tp: " + message + "\n";
  ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
  _exit(exitCode);
}

std::string plural(size_t n, const char *word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

/// The meeting point of the local steps on the MPI backend: every rank calls
/// it once, failed (with its message) or not. Returns when no rank failed.
/// Otherwise the lowest failing rank reports its failure once, saying on how
/// many ranks the same failure happened; a rank whose message differs
/// reports its own; every rank finalizes and exits with the failure's code,
/// so the job ends without an MPI_Abort (and MPI's banner) per rank.
void agreeOnLocalSteps(const std::string *failure, int exitCode) {
  const int rank = api.rank(), size = api.size();
  // FNV-1a of the message, cut to 52 bits so that it is exact as a double.
  uint64_t hash = 1469598103934665603ull;
  if (failure)
    for (unsigned char c : *failure)
      hash = (hash ^ c) * 1099511628211ull;
  const double h = static_cast<double>(hash & ((1ull << 52) - 1));
  // Maxima: -(lowest failing rank), the largest and (negated) the smallest
  // message hash, the exit code; sum: the failing ranks.
  double maxima[4] = {failure ? -double(rank) : -double(size),
                      failure ? h : -1.0, failure ? -h : -double(1ull << 53),
                      failure ? double(exitCode) : 0.0};
  double count = failure ? 1.0 : 0.0;
  if (api.allReduce(maxima, maxima, 4, TP_F64, TP_MAX) != TP_OK ||
      api.allReduce(&count, &count, 1, TP_F64, TP_SUM) != TP_OK) {
    localSteps.active = false;
    fail(failure ? *failure : std::string(api.lastError()), exitCode);
  }
  if (count == 0)
    return;
  const int lowest = static_cast<int>(-maxima[0]);
  const bool same = maxima[1] == -maxima[2];
  if (failure && (rank == lowest || !same)) {
    std::string where;
    if (same && count == size && size > 1)
      where = " (the same on every rank)";
    else if (same && count > 1)
      where = " (the same on " + std::to_string(int(count)) + " of " +
              plural(size, "rank") + ")";
    std::fprintf(stderr, "tp: rank %d: %s%s\n", rank, failure->c_str(),
                 where.c_str());
    std::fflush(stderr);
  }
  api.finalize();
  _exit(static_cast<int>(maxima[3]));
}

void agreeOnFailure(const std::string &message, int exitCode) {
  agreeOnLocalSteps(&message, exitCode);
  _exit(exitCode); // not reached: a failure never returns from the agreement
}

//===----------------------------------------------------------------------===//
// Command line
//===----------------------------------------------------------------------===//

struct Options {
  std::string model;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  double timeoutSeconds = 300;
  bool quiet = false;
  bool showOutputPaths = true;
  bool help = false;
  int spawn = 0;       ///< --spawn N (0: this process is one rank)
  std::string backend; ///< --backend, "" = from the manifest
  int warmup = 0;      ///< --warmup N: untimed calls of tp_entry first
  int repeat = 1;      ///< --repeat M: timed calls (median reported)
  bool stats = false;  ///< --rank-stats (implied by --warmup / --repeat)
  bool haveInputs = false;
  std::vector<std::string> weights; ///< --weights: .safetensors files
  std::string weightMap;            ///< --weight-map: JSON text or a file
  std::string collectives;          ///< --collectives, "" = the backend's
  bool cudaGraph = true;            ///< --no-cuda-graph turns it off
};

/// Parses a count option's value in [low, 1000000].
bool parseCount(const std::string &name, const std::string &value, int low,
                int &out, std::string &error) {
  char *end = nullptr;
  long n = std::strtol(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || n < low || n > 1000000) {
    error = name + " wants a whole number from " + std::to_string(low) +
            " to 1000000, got '" + value + "'";
    return false;
  }
  out = int(n);
  return true;
}

/// A flag without a value; false if `arg` is not one.
bool parseFlag(const std::string &arg, Options &options) {
  if (arg == "--quiet")
    options.quiet = true;
  else if (arg == "--no-output-paths")
    options.showOutputPaths = false;
  else if (arg == "--rank-stats")
    options.stats = true;
  else if (arg == "--no-cuda-graph")
    options.cudaGraph = false;
  else
    return false;
  return true;
}

bool takesValue(const std::string &name) {
  static const char *const names[] = {
      "--model",   "--inputs",     "--output",     "--timeout",
      "--spawn",   "--backend",    "--warmup",     "--repeat",
      "--weights", "--weight-map", "--collectives"};
  for (const char *known : names)
    if (name == known)
      return true;
  return false;
}

/// Sets the option `name` (one that takesValue) from `value`.
bool applyOption(const std::string &name, const std::string &value,
                 Options &options, std::string &error) {
  if (name == "--model") {
    options.model = value;
  } else if (name == "--weights") {
    if (!files::splitList(value, options.weights)) {
      error = "empty file name in --weights '" + value + "'";
      return false;
    }
  } else if (name == "--weight-map") {
    options.weightMap = value;
  } else if (name == "--inputs" && value.empty()) {
    options.haveInputs = true; // none: every argument is a weight
  } else if (name == "--inputs" || name == "--output") {
    options.haveInputs |= name == "--inputs";
    if (!files::splitList(value, name == "--inputs" ? options.inputs
                                                    : options.outputs)) {
      error = "empty file name in " + name + " '" + value + "'";
      return false;
    }
  } else if (name == "--spawn") {
    char *end = nullptr;
    long n = std::strtol(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || n < 1 || n > 1024) {
      error = "--spawn wants a number of ranks (1..1024), got '" + value + "'";
      return false;
    }
    options.spawn = int(n);
  } else if (name == "--warmup" || name == "--repeat") {
    if (!parseCount(name, value, name == "--warmup" ? 0 : 1,
                    name == "--warmup" ? options.warmup : options.repeat,
                    error))
      return false;
    options.stats = true;
  } else if (name == "--collectives") {
    if (value != "nccl" && value != "host") {
      error = "--collectives must be nccl or host, got '" + value + "'";
      return false;
    }
    options.collectives = value;
  } else if (name == "--backend") {
    if (value != "mpi" && value != "nccl") {
      error = "--backend must be mpi or nccl, got '" + value + "'";
      return false;
    }
    options.backend = value;
  } else { // --timeout
    char *end = nullptr;
    double seconds = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !(seconds >= 0) || seconds > 1e7) {
      error = "--timeout wants a number of seconds, got '" + value + "'";
      return false;
    }
    options.timeoutSeconds = seconds;
  }
  return true;
}

/// What must hold of the options together.
bool checkOptionCombination(const Options &options, bool haveModel,
                            std::string &error) {
  if (!haveModel || options.model.empty()) {
    error = "missing --model";
    return false;
  }
  if (options.weights.empty() != options.weightMap.empty()) {
    error = options.weights.empty()
                ? "--weight-map needs --weights"
                : "--weights needs --weight-map (which argument reads which "
                  "tensor)";
    return false;
  }
  return true;
}

bool parseOptions(int argc, char **argv, Options &options, std::string &error) {
  bool haveModel = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      options.help = true;
      return true;
    }
    if (parseFlag(arg, options))
      continue;
    // --name=value or --name value.
    std::string name = arg, value;
    size_t equals = arg.find('=');
    bool inlineValue = arg.rfind("--", 0) == 0 && equals != std::string::npos;
    if (inlineValue) {
      name = arg.substr(0, equals);
      value = arg.substr(equals + 1);
    }
    if (!takesValue(name)) {
      error = "unknown option '" + arg + "'";
      return false;
    }
    if (!inlineValue) {
      if (i + 1 >= argc) {
        error = "option " + name + " needs a value";
        return false;
      }
      value = argv[++i];
    }
    if (!applyOption(name, value, options, error))
      return false;
    haveModel |= name == "--model";
  }
  return checkOptionCombination(options, haveModel, error);
}

//===----------------------------------------------------------------------===//
// Watchdog and abnormal exits
//===----------------------------------------------------------------------===//

/// Aborts every rank if stop() is not called within the timeout. It runs on
/// its own thread, so tp_abort ends only this process there (no MPI call)
/// and mpiexec ends the rest. Rank 0 fires first and the others a second
/// later, so that normally only rank 0 reports the timeout; they still fire
/// if rank 0 cannot.
class Watchdog {
public:
  void start(double seconds, int rank) {
    if (seconds <= 0)
      return;
    double grace = rank == 0 ? 0.0 : 1.0;
    thread = std::thread([this, seconds, grace] {
      std::unique_lock<std::mutex> lock(mutex);
      auto limit = std::chrono::duration<double>(seconds + grace);
      if (!wakeUp.wait_for(lock, limit, [this] { return stopped; })) {
        char text[64];
        std::snprintf(text, sizeof(text), "timed out after %g s", seconds);
        fail(text, timeoutExitCode);
      }
    });
  }

  void stop() {
    if (!thread.joinable())
      return;
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopped = true;
    }
    wakeUp.notify_all();
    thread.join();
  }

private:
  std::thread thread;
  std::mutex mutex;
  std::condition_variable wakeUp;
  bool stopped = false;
};

// Set while the model runs: an exit() or a crash inside tp_entry must still
// end every rank, with a message that says what happened where.
std::atomic<bool> insideEntry{false};
char crashMessage[64]; // "tp: rank R: the model crashed "

void onExitDuringEntry(int status, void *) {
  // Inside a collective, the exit comes from MPI ending this rank because
  // another one aborted (and said why): let it proceed quietly.
  if (!insideEntry || api.inCollective())
    return;
  std::string message =
      "the model called exit(" + std::to_string(status) + ") inside tp_entry";
  fail(message, status); // fail() maps 0, 256, ... to 1
}

void appendText(char *buffer, size_t &length, size_t capacity,
                const char *text) {
  for (; *text && length + 1 < capacity; ++text)
    buffer[length++] = *text;
}

void onCrashDuringEntry(int signal) {
  // Only async-signal-safe calls here; the rank was formatted earlier. One
  // write() so that lines from different ranks do not interleave.
  char line[256];
  size_t length = 0;
  appendText(line, length, sizeof(line), crashMessage);
  appendText(line, length, sizeof(line),
             api.inCollective() ? "inside a collective called by tp_entry"
                                : "inside tp_entry");
  appendText(line, length, sizeof(line), " (signal ");
  appendText(line, length, sizeof(line),
             signal == SIGSEGV  ? "SIGSEGV"
             : signal == SIGBUS ? "SIGBUS"
             : signal == SIGFPE ? "SIGFPE"
             : signal == SIGILL ? "SIGILL"
                                : "SIGABRT");
  appendText(line, length, sizeof(line), ")\n");
  ssize_t ignored = write(STDERR_FILENO, line, length);
  (void)ignored;
  // Die of the same signal: mpiexec sees it and kills the other ranks.
  std::signal(signal, SIG_DFL);
  raise(signal);
}

class CrashHandlers {
public:
  explicit CrashHandlers(int rank) {
    std::snprintf(crashMessage, sizeof(crashMessage),
                  "tp: rank %d: the model crashed ", rank);
    struct sigaction action;
    std::memset(&action, 0, sizeof(action));
    action.sa_handler = onCrashDuringEntry;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < count; ++i)
      sigaction(signals[i], &action, &saved[i]);
  }
  ~CrashHandlers() {
    for (size_t i = 0; i < count; ++i)
      sigaction(signals[i], &saved[i], nullptr);
  }

private:
  static constexpr int signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
  static constexpr size_t count = sizeof(signals) / sizeof(signals[0]);
  struct sigaction saved[count];
};

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

using files::directoryOf;

/// Outputs named *.safetensors are written as safetensors files (one
/// tensor, "result<j>"), all others as .npy.
bool isSafetensorsPath(const std::string &path) {
  const std::string suffix = ".safetensors";
  return path.size() >= suffix.size() &&
         path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
}

//===----------------------------------------------------------------------===//
// Memref descriptors
//===----------------------------------------------------------------------===//

// A rank-R memref descriptor is R-dependent, so it is kept as 3 + 2R words:
// {allocated, aligned, offset, sizes[R], strides[R]}.
size_t descriptorWords(size_t rank) { return 3 + 2 * rank; }

std::vector<int64_t> makeDescriptor(void *buffer,
                                    const std::vector<int64_t> &shape) {
  size_t rank = shape.size();
  std::vector<int64_t> words(descriptorWords(rank), 0);
  words[0] = int64_t(reinterpret_cast<intptr_t>(buffer));
  words[1] = words[0];
  words[2] = 0;
  int64_t stride = 1;
  for (size_t d = rank; d-- > 0;) {
    words[3 + d] = shape[d];
    words[3 + rank + d] = stride;
    stride *= shape[d];
  }
  return words;
}

/// Writes all of `text` to `fd`.
bool writeText(int fd, const std::string &text, std::string &error) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      error = std::string("cannot write: ") + std::strerror(errno);
      return false;
    }
    done += size_t(n);
  }
  return true;
}

// MLIR marks memrefs of constant globals with this `allocated` pointer; they
// were never malloc'ed.
const intptr_t globalMemrefSentinel = 0xdeadbeef;

//===----------------------------------------------------------------------===//
// The launch
//===----------------------------------------------------------------------===//

using EntryFunction = void (*)(void **);

class Launcher {
public:
  Launcher(const Options &options, int rank, int size)
      : options(options), rank(rank), size(size),
        memory(api.gpu() ? createDeviceMemory(api.device)
                         : createHostMemory()) {}

  void loadModel();
  /// --weights / --weight-map: opens the files, maps arguments to tensors
  /// and checks their dtypes and shapes (on every rank, before any
  /// collective).
  void validateWeights();
  void validateInputs();
  void validateOutputs();
  void prepareArguments();
  /// Argument i's shard from its --weights tensor.
  void prepareWeight(size_t i, size_t bytes);
  /// Argument i, a piece of a packed input: its shard of the piece, cut out
  /// of the input's file (.npy or --weights tensor).
  void preparePiece(size_t i, size_t bytes);
  /// Calls tp_entry --warmup + --repeat times (the results of all but the
  /// last call are freed) and times the --repeat last ones.
  void runEntry();
  void collectResults();
  void assembleResults();
  /// --rank-stats: gathers every rank's times and peak resident memory on
  /// every rank (a collective: all ranks call it).
  void gatherStats();
  /// Rank 0: writes every output to its temporary (or device); false with a
  /// message, and nothing left behind, if one cannot be written.
  bool writeOutputs(std::string &failure);
  /// The last collective: the maximum tp_entry time, and whether rank 0
  /// could write the outputs (every rank then ends the same way).
  bool agreeOnOutputs(bool written);
  /// Rank 0: renames the temporaries into place.
  bool commitOutputs(std::string &failure);
  /// Removes the temporaries not renamed and restores SIGINT / SIGTERM.
  void discardOutputs();
  void printSummary();
  void releaseArguments();

private:
  const Options &options;
  const int rank;
  const int size;
  std::unique_ptr<ArgumentMemory> memory;
  Manifest manifest;
  EntryFunction entry = nullptr;
  // Per input (manifest.inputs: the arguments the caller passes, which are
  // the entry function's own unless packed arguments were cut into pieces).
  std::vector<npy::Header> inputHeaders;
  /// Inputs given as shard sets (dir empty for a .npy input).
  std::vector<ShardSet> inputSets;
  /// What each result is written as: its manifest spec, or for a shard set
  /// output the spec of what is written (a partial result is reduced).
  std::vector<TensorSpec> writtenSpecs;
  /// Per input: its --inputs index, or -1 when it is read from --weights.
  std::vector<int> inputFor;
  std::vector<std::unique_ptr<safetensors::SafetensorsFile>> weightFiles;
  /// Per input read from --weights: the file and the tensor.
  std::map<size_t, std::pair<const safetensors::SafetensorsFile *,
                             const safetensors::TensorInfo *>>
      weightFor;
  double weightBytesRead = 0;
  std::vector<void *> argumentBuffers;
  std::vector<std::vector<int64_t>> argumentDescriptors;
  std::vector<int64_t> resultWords;
  std::vector<size_t> resultOffsets; // word offset of each result descriptor
  std::vector<std::vector<unsigned char>> localResults; // contiguous, host
  std::vector<std::vector<unsigned char>> fullResults;  // meaningful on rank 0
  double entryMilliseconds = 0; // the median of stepMilliseconds
  double maxEntryMilliseconds = 0;
  std::vector<files::OutputFile> outputFiles; // this rank's
  std::vector<size_t> outputResults;       // the result of each of outputFiles
  std::vector<std::string> createdFolders; // shard sets this rank created

  bool isShardSetOutput(size_t j) const {
    return isShardSetPath(options.outputs[j]);
  }
  /// Opens outputFiles' next file at `path` for result j.
  bool openOutput(size_t j, const std::string &path, std::string &error);
  std::vector<double> stepMilliseconds; // the timed calls
  std::vector<double> rankStats;        // --rank-stats: statsFields per rank
  // median, min, max, peak MiB, argument MiB, MiB read from --weights, peak
  // device MiB (GPU; -1 when unknown), StepGraph::State, the first call's
  // ms (cold: module loads, cuBLASLt plans, NCCL set-up)
  static constexpr int statsFields = 9;
  double firstCallMilliseconds = 0;
  StepGraph graph; // GPU: the step as a CUDA graph

  /// The distinct buffers the model allocated for its results (not our
  /// argument buffers, not MLIR's constant globals): the launcher frees them.
  std::set<intptr_t> modelAllocations() const;

  // The steps of runEntry().
  /// tp_entry's packed arguments: the result descriptors' words (zeroed),
  /// then every argument's descriptor.
  std::vector<void *> packEntryArguments();
  /// GPU: replays the step as a CUDA graph unless --no-cuda-graph.
  void enableStepGraph();
  /// Runs call `call` of tp_entry; returns its time in milliseconds.
  double timedStep(int call, std::vector<void *> &packed);

  /// Input k, as the caller knows it ("argument 2 (w.npy)").
  std::string inputName(size_t k) const {
    auto weight = weightFor.find(k);
    if (weight != weightFor.end())
      return "argument " + std::to_string(k) + " (tensor '" +
             weight->second.second->name + "' of " +
             weight->second.first->path() + ")";
    size_t input = inputFor.empty() ? k : size_t(inputFor[k]);
    return "argument " + std::to_string(k) + " (" + options.inputs[input] + ")";
  }
  /// The entry function's argument i: its input, and which piece of it.
  std::string argumentName(size_t i) const {
    auto [k, piece] = manifest.sourceOf(i);
    return inputName(k) +
           (piece < 0 ? std::string()
                      : ", piece " + std::to_string(piece) + " of " +
                            std::to_string(manifest.inputs[k].pieces.size()));
  }
  std::string resultName(size_t i) const {
    return "result " + std::to_string(i) + " (" + options.outputs[i] + ")";
  }

  /// Runs a collective on host data: directly on the CPU backend, through
  /// device copies on the GPU one. src == dst means in place.
  template <typename Collective>
  tp_status onHostData(const void *src, size_t srcBytes, void *dst,
                       size_t dstBytes, Collective collective);
};

template <typename Collective>
tp_status Launcher::onHostData(const void *src, size_t srcBytes, void *dst,
                               size_t dstBytes, Collective collective) {
  if (memory->hostAccessible())
    return collective(src, dst);
  std::string error;
  void *deviceSrc = memory->allocate(srcBytes, error);
  void *deviceDst = src == dst ? deviceSrc : memory->allocate(dstBytes, error);
  if (!deviceSrc || !deviceDst)
    fail(error);
  if (!memory->copyIn(deviceSrc, src, srcBytes, error))
    fail(error);
  tp_status status = collective(deviceSrc, deviceDst);
  if (status == TP_OK && !memory->copyOut(dst, deviceDst, dstBytes, error))
    fail(error);
  memory->release(deviceSrc);
  if (deviceDst != deviceSrc)
    memory->release(deviceDst);
  return status;
}

void Launcher::loadModel() {
  // A model for the other backend would fail to load on its undefined
  // symbols; say what is wrong instead.
  std::string text, error;
  if (readElfString(options.model, text, error)) {
    std::string target = manifestTarget(text);
    const char *wanted = api.gpu() ? "gpu" : "cpu";
    if (!target.empty() && target != wanted)
      fail("model '" + options.model + "' was compiled for target '" + target +
           "', but this tp-launch runs the " + api.backendName() +
           " backend, which only runs target '" + wanted + "'" +
           (target == "gpu" ? " (drop --backend, or use --backend nccl)"
                            : " (drop --backend, or use --backend mpi)"));
  }
  // dlopen blocks on a FIFO, reads /dev/zero forever, and maps a truncated
  // file only to fault (SIGBUS) on the missing pages: check the file first.
  if (!checkSharedObject(options.model, error))
    fail("cannot load model '" + options.model + "': " + error);
  void *handle = dlopen(options.model.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *reason = dlerror();
    fail("cannot load model '" + options.model +
         "': " + (reason ? reason : "unknown error"));
  }
  if (!dlsym(handle, "tp_manifest"))
    fail("model '" + options.model +
         "' does not export tp_manifest (is it a model compiled by tp-mlir?)");
  entry = reinterpret_cast<EntryFunction>(dlsym(handle, "tp_entry"));
  if (!entry)
    fail("model '" + options.model + "' does not export tp_entry");
  const char *loaded = static_cast<const char *>(dlsym(handle, "tp_manifest"));
  if (!parseManifest(loaded, manifest, error))
    fail("model '" + options.model + "': invalid tp_manifest: " + error);
  const char *wanted = api.gpu() ? "gpu" : "cpu";
  if (manifest.target != wanted)
    fail("model '" + options.model + "' was compiled for target '" +
         manifest.target + "', but this tp-launch runs the " +
         api.backendName() + " backend, which only runs target '" + wanted +
         "'");
  if (manifest.tpSize != size)
    fail("this model was partitioned for tp-size " +
         std::to_string(manifest.tpSize) + " but launched on " +
         plural(size_t(size), "rank") +
         (api.gpu() ? " (run it with tp-launch --spawn " +
                          std::to_string(manifest.tpSize) + ")"
                    : " (run it with mpiexec -n " +
                          std::to_string(manifest.tpSize) + ")"));
  // Our own argument buffers must fit the descriptors' int64 sizes.
  for (const TensorSpec &spec : manifest.args)
    if (spec.localElements() < 0)
      fail("manifest: an argument is too large");
}

void Launcher::validateWeights() {
  inputFor.assign(manifest.inputs.size(), 0);
  if (options.weights.empty()) {
    for (size_t i = 0; i < inputFor.size(); ++i)
      inputFor[i] = int(i);
    return;
  }
  // The map: inline JSON or a file holding it.
  std::string text = options.weightMap, error;
  if (text.find_first_not_of(" \t\r\n") == std::string::npos ||
      text[text.find_first_not_of(" \t\r\n")] != '{') {
    FILE *file = std::fopen(options.weightMap.c_str(), "rb");
    if (!file)
      fail("--weight-map " + options.weightMap +
           ": cannot open file: " + std::strerror(errno));
    text.clear();
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0 &&
           text.size() < (1u << 24))
      text.append(buffer, n);
    std::fclose(file);
  }
  JsonValue map;
  if (!parseJson(text, map, error))
    fail("--weight-map: malformed JSON: " + error);
  if (map.kind != JsonValue::Kind::Object)
    fail("--weight-map: expected a JSON object {\"ARGUMENT INDEX\": "
         "\"TENSOR NAME\", ...}, got " +
         std::string(map.kindName()));
  for (const std::string &path : options.weights) {
    weightFiles.push_back(std::make_unique<safetensors::SafetensorsFile>());
    if (!weightFiles.back()->open(path, error))
      fail("weights " + path + ": " + error);
  }
  for (const auto &[key, value] : map.object) {
    char *end = nullptr;
    long index = std::strtol(key.c_str(), &end, 10);
    if (key.empty() || *end != '\0' || index < 0 ||
        size_t(index) >= manifest.inputs.size())
      fail("--weight-map: key '" + key + "' is not an argument index of @" +
           manifest.entry + " (0 to " +
           std::to_string(manifest.inputs.size() - 1) +
           "; tp-run also takes argument names)");
    if (value.kind != JsonValue::Kind::String)
      fail("--weight-map: the value of '" + key +
           "' must be a tensor name (a string)");
    if (weightFor.count(size_t(index)))
      fail("--weight-map: argument " + key + " is mapped twice");
    const safetensors::SafetensorsFile *holder = nullptr;
    const safetensors::TensorInfo *tensor = nullptr;
    for (const auto &file : weightFiles)
      if (const safetensors::TensorInfo *t =
              file->header().find(value.string)) {
        if (tensor)
          fail("argument " + key + ": tensor '" + value.string +
               "' is in both " + holder->path() + " and " + file->path());
        holder = file.get();
        tensor = t;
      }
    if (!tensor)
      fail("argument " + key + ": no tensor '" + value.string + "' in " +
           files::joinList(options.weights));
    const InputSpec &input = manifest.inputs[size_t(index)];
    if (!safetensors::checkTensor(
            *tensor,
            input.isPacked() ? input.asTensor() : manifest.args[input.arg],
            "argument " + key + " (" + holder->path() + ")", error))
      fail(error);
    weightFor[size_t(index)] = {holder, tensor};
  }
  int next = 0;
  for (size_t i = 0; i < inputFor.size(); ++i)
    inputFor[i] = weightFor.count(i) ? -1 : next++;
}

void Launcher::validateInputs() {
  const size_t wanted = manifest.inputs.size() - weightFor.size();
  if (!weightFor.empty() && !options.haveInputs && wanted > 0)
    fail("arguments not in --weight-map need --inputs: expected " +
         plural(wanted, "input") + " (one per argument of @" + manifest.entry +
         " not read from --weights)");
  if (options.inputs.size() != wanted)
    fail("expected " + plural(wanted, "input") + " (one per argument of @" +
         manifest.entry +
         (weightFor.empty() ? ")" : " not read from --weights)") + ", got " +
         std::to_string(options.inputs.size()));
  inputHeaders.resize(manifest.inputs.size());
  inputSets.resize(manifest.inputs.size());
  for (size_t i = 0; i < manifest.inputs.size(); ++i) {
    if (inputFor[i] < 0)
      continue; // checked in validateWeights
    const InputSpec &input = manifest.inputs[i];
    const TensorSpec spec =
        input.isPacked() ? input.asTensor() : manifest.args[input.arg];
    npy::Header &header = inputHeaders[i];
    std::string error;
    const std::string &path = options.inputs[size_t(inputFor[i])];
    if (isShardSetPath(path)) {
      if (input.isPacked())
        fail(inputName(i) + ": the model cuts this argument into " +
             plural(input.pieces.size(), "piece") +
             ", which are read from one .npy or .safetensors file, not from "
             "a shard set");
      ShardSet &set = inputSets[i];
      if (!set.open(path, error))
        fail(inputName(i) + ": " + error);
      std::string why = set.incompatibility(spec);
      if (!why.empty())
        fail(inputName(i) + ": " + why);
      continue;
    }
    if (!npy::readHeader(path, header, error))
      fail(inputName(i) + ": " + error);
    bool halfFromF32 = rt::isHalfDType(spec.dtype) && header.dtype == TP_F32;
    if (header.dtype != spec.dtype && !halfFromF32)
      fail(inputName(i) + ": dtype " + rt::dtypeName(header.dtype) +
           " does not match the expected " + rt::dtypeName(spec.dtype) +
           (rt::isHalfDType(spec.dtype)
                ? std::string(" (f32 data is also accepted for ") +
                      rt::dtypeName(spec.dtype) + " arguments)"
                : std::string()));
    if (header.shape != spec.globalShape)
      fail(inputName(i) + ": shape " + npy::formatShape(header.shape) +
           " does not match the expected " +
           npy::formatShape(spec.globalShape));
  }
}

void Launcher::validateOutputs() {
  if (options.outputs.size() != manifest.results.size())
    fail("expected " + plural(manifest.results.size(), "output") +
         " (one per result of @" + manifest.entry + "), got " +
         std::to_string(options.outputs.size()));
  writtenSpecs = manifest.results;
  std::set<std::string> seen;
  for (size_t i = 0; i < options.outputs.size(); ++i) {
    const std::string &path = options.outputs[i];
    if (!seen.insert(path).second)
      fail("output " + std::to_string(i) + " (" + path +
           ") is named twice in --output");
    std::string error;
    if (isShardSetOutput(i)) {
      // Every rank that holds a part writes it; a partial result is reduced
      // first and written once, as a replicated one.
      TensorSpec &spec = writtenSpecs[i];
      if (spec.sharding.kind == ShardKind::Partial)
        spec.sharding = Sharding();
      struct stat info;
      bool exists = stat(path.c_str(), &info) == 0;
      if (exists && !S_ISDIR(info.st_mode))
        fail("output " + std::to_string(i) + " (" + path +
             "): exists and is not a folder (a .shards output is a folder)");
      std::string probe = exists ? shardFilePath(path, rank) : path;
      if (writesShardFile(spec, rank) && !files::checkOutputPath(probe, error))
        fail("output " + std::to_string(i) + " (" + path + "): " + error);
      continue;
    }
    if (rank != 0)
      continue; // only rank 0 writes a whole result
    if (!files::checkOutputPath(path, error))
      fail("output " + std::to_string(i) + " (" + path + "): " + error);
  }
}

void Launcher::prepareArguments() {
  argumentBuffers.assign(manifest.args.size(), nullptr);
  argumentDescriptors.resize(manifest.args.size());
  for (size_t i = 0; i < manifest.args.size(); ++i) {
    const TensorSpec &spec = manifest.args[i];
    std::string error;
    size_t bytes = size_t(spec.localElements()) * rt::dtypeSize(spec.dtype);
    auto [k, piece] = manifest.sourceOf(i);
    if (piece >= 0) {
      preparePiece(i, bytes);
      continue;
    }
    const npy::Header &header = inputHeaders[k];
    auto weight = weightFor.find(k);
    if (weight != weightFor.end()) {
      prepareWeight(i, bytes);
      continue;
    }
    void *buffer = memory->allocate(bytes, error);
    if (!buffer)
      fail(argumentName(i) + ": " + error);
    argumentBuffers[i] = buffer;
    argumentDescriptors[i] = makeDescriptor(buffer, spec.localShape);
    if (!inputSets[k].dir.empty()) {
      std::vector<unsigned char> staging;
      void *dst = buffer;
      if (!memory->hostAccessible()) {
        staging.resize(bytes);
        dst = staging.data();
      }
      if (!inputSets[k].readShard(spec, size, rank, dst, error))
        fail(argumentName(i) + ": " + error);
      if (!memory->hostAccessible() &&
          !memory->copyIn(buffer, staging.data(), bytes, error))
        fail(argumentName(i) + ": " + error);
      continue;
    }
    MappedFile file;
    if (!file.open(options.inputs[size_t(inputFor[k])], error))
      fail(argumentName(i) + ": " + error);
    const unsigned char *full = file.data() + header.dataOffset;
    if (memory->hostAccessible()) {
      extractShard(full, header.dtype, spec, rank, buffer);
    } else {
      std::vector<unsigned char> staging(bytes);
      extractShard(full, header.dtype, spec, rank, staging.data());
      if (!memory->copyIn(buffer, staging.data(), bytes, error))
        fail(argumentName(i) + ": " + error);
    }
    argumentDescriptors[i] = makeDescriptor(buffer, spec.localShape);
  }
  weightFiles.clear(); // unmap: the shards are in the argument buffers
}

void Launcher::prepareWeight(size_t i, size_t bytes) {
  const TensorSpec &spec = manifest.args[i];
  const auto &[file, tensor] = weightFor.at(manifest.sourceOf(i).first);
  std::string error;
  void *buffer = memory->allocate(bytes, error);
  if (!buffer)
    fail(argumentName(i) + ": " + error);
  argumentBuffers[i] = buffer;
  if (memory->hostAccessible()) {
    weightBytesRead += double(file->readShard(*tensor, spec, rank, buffer));
  } else {
    std::vector<unsigned char> staging(bytes);
    weightBytesRead +=
        double(file->readShard(*tensor, spec, rank, staging.data()));
    if (!memory->copyIn(buffer, staging.data(), bytes, error))
      fail(argumentName(i) + ": " + error);
  }
  argumentDescriptors[i] = makeDescriptor(buffer, spec.localShape);
}

void Launcher::preparePiece(size_t i, size_t bytes) {
  const TensorSpec &spec = manifest.args[i];
  auto [k, p] = manifest.sourceOf(i);
  const InputPiece &piece = manifest.inputs[k].pieces[size_t(p)];
  std::string error;
  void *buffer = memory->allocate(bytes, error);
  if (!buffer)
    fail(argumentName(i) + ": " + error);
  argumentBuffers[i] = buffer;
  std::vector<unsigned char> staging;
  void *dst = buffer;
  if (!memory->hostAccessible()) {
    staging.resize(bytes);
    dst = staging.data();
  }
  auto weight = weightFor.find(k);
  if (weight != weightFor.end()) {
    const auto &[file, tensor] = weight->second;
    weightBytesRead += double(file->readViewShard(
        *tensor, piece.offset, piece.strides, spec, rank, dst));
  } else {
    // Each piece maps the file again: only the pages of this rank's part of
    // the piece are touched, and they go with the mapping.
    MappedFile file;
    if (!file.open(options.inputs[size_t(inputFor[k])], error))
      fail(argumentName(i) + ": " + error);
    const npy::Header &header = inputHeaders[k];
    extractViewShard(file.data() + header.dataOffset, header.dtype,
                     piece.offset, piece.strides, spec, rank, dst);
  }
  if (!memory->hostAccessible() &&
      !memory->copyIn(buffer, staging.data(), bytes, error))
    fail(argumentName(i) + ": " + error);
  argumentDescriptors[i] = makeDescriptor(buffer, spec.localShape);
}

std::vector<void *> Launcher::packEntryArguments() {
  size_t words = 0;
  for (const TensorSpec &spec : manifest.results) {
    resultOffsets.push_back(words);
    words += descriptorWords(spec.localShape.size());
  }
  resultWords.assign(words + 1, 0); // +1: never hand out an empty vector
  std::vector<void *> packed;
  packed.push_back(resultWords.data());
  for (auto &descriptor : argumentDescriptors)
    packed.push_back(descriptor.data());
  return packed;
}

void Launcher::enableStepGraph() {
  if (!(api.gpu() && api.graphBegin && api.graphEnd && api.graphLaunch &&
        api.graphDestroy && options.cudaGraph))
    return;
  GraphFunctions functions;
  functions.begin = [](std::string &why) {
    if (api.graphBegin())
      return true;
    why = api.lastError();
    return false;
  };
  functions.end = [](std::string &why) {
    void *graph = api.graphEnd();
    if (!graph)
      why = api.lastError();
    return graph;
  };
  functions.launch = api.graphLaunch;
  functions.destroy = api.graphDestroy;
  graph.enable(std::move(functions));
}

double Launcher::timedStep(int call, std::vector<void *> &packed) {
  auto step = [&] {
    std::string note = graph.run(
        call, [&] { entry(packed.data()); }, resultWords);
    // A refusal is the same on every rank (said once); a failed capture
    // may not be.
    if (!note.empty() && !options.quiet &&
        (rank == 0 || graph.state() != StepGraph::State::Unavailable))
      std::fprintf(stderr, "tp-launch: rank %d: %s\n", rank, note.c_str());
  };
  if (api.gpu() && api.timerStart && api.timerStop) {
    // CUDA events around the work the model enqueued; the stop waits.
    api.timerStart();
    step();
    return api.timerStop();
  }
  auto start = std::chrono::steady_clock::now();
  step();
  if (api.gpu())
    api.device.sync(); // the model only enqueued its work
  auto end = std::chrono::steady_clock::now();
  return std::chrono::duration<double, std::milli>(end - start).count();
}

void Launcher::runEntry() {
  std::vector<void *> packed = packEntryArguments();
  const int calls = options.warmup + options.repeat;
  CrashHandlers crashHandlers(rank);
  enableStepGraph();
  for (int call = 0; call < calls; ++call) {
    if (call > 0) {
      // The previous call's results are not needed: free them, so that
      // repeated calls do not pile up memory.
      for (intptr_t allocated : modelAllocations())
        memory->freeModelBuffer(reinterpret_cast<void *>(allocated));
      std::fill(resultWords.begin(), resultWords.end(), 0);
    }
    // Start every rank's call together, so that a rank's time is its step,
    // not its wait for a slower rank's previous one.
    if (calls > 1 && api.barrier() != TP_OK)
      fail(std::string("timing: ") + api.lastError());
    insideEntry = true;
    double milliseconds = timedStep(call, packed);
    insideEntry = false;
    if (call == 0)
      firstCallMilliseconds = milliseconds;
    if (call >= options.warmup)
      stepMilliseconds.push_back(milliseconds);
  }
  std::vector<double> sorted = stepMilliseconds;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  entryMilliseconds =
      n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

std::set<intptr_t> Launcher::modelAllocations() const {
  std::set<intptr_t> ours, allocations;
  for (void *buffer : argumentBuffers)
    ours.insert(reinterpret_cast<intptr_t>(buffer));
  for (size_t j = 0; j < manifest.results.size(); ++j) {
    intptr_t allocated = intptr_t(resultWords[resultOffsets[j]]);
    if (allocated && allocated != globalMemrefSentinel &&
        !ours.count(allocated))
      allocations.insert(allocated);
  }
  return allocations;
}

void Launcher::gatherStats() {
  if (!options.stats)
    return;
  struct rusage usage;
  std::memset(&usage, 0, sizeof(usage));
  getrusage(RUSAGE_SELF, &usage); // ru_maxrss: KiB on Linux
  double argumentBytes = 0;
  for (const TensorSpec &spec : manifest.args)
    argumentBytes +=
        double(spec.localElements()) * double(rt::dtypeSize(spec.dtype));
  const double mib = 1024.0 * 1024.0;
  double local[statsFields] = {
      entryMilliseconds,
      *std::min_element(stepMilliseconds.begin(), stepMilliseconds.end()),
      *std::max_element(stepMilliseconds.begin(), stepMilliseconds.end()),
      double(usage.ru_maxrss) * 1024.0 / mib,
      argumentBytes / mib,
      weightBytesRead / mib,
      api.gpu() && api.deviceMemoryPeak && api.deviceMemoryPeak() >= 0
          ? double(api.deviceMemoryPeak()) / mib
          : -1.0,
      double(int(graph.state())),
      firstCallMilliseconds};
  rankStats.assign(size_t(statsFields) * size_t(size), 0.0);
  if (onHostData(local, sizeof(local), rankStats.data(),
                 rankStats.size() * sizeof(double),
                 [&](const void *src, void *dst) {
                   return api.allGather(src, dst, 1, statsFields, TP_F64);
                 }) != TP_OK)
    fail(std::string("timing: ") + api.lastError());
}

void Launcher::collectResults() {
  const std::set<intptr_t> toFree = modelAllocations();
  localResults.resize(manifest.results.size());
  for (size_t j = 0; j < manifest.results.size(); ++j) {
    const TensorSpec &spec = manifest.results[j];
    const int64_t *d = resultWords.data() + resultOffsets[j];
    const int r = int(spec.localShape.size());
    const int64_t *sizes = d + 3, *strides = d + 3 + r;
    std::vector<int64_t> shape(sizes, sizes + r);
    if (shape != spec.localShape)
      fail(resultName(j) + ": the model returned shape " +
           npy::formatShape(shape) + " but the manifest says " +
           npy::formatShape(spec.localShape));
    const size_t elementSize = rt::dtypeSize(spec.dtype);
    const int64_t count = spec.localElements();
    auto *aligned = reinterpret_cast<const unsigned char *>(intptr_t(d[1]));
    if (count > 0 && !aligned)
      fail(resultName(j) + ": the model returned a null buffer");
    std::vector<unsigned char> &local = localResults[j];
    local.resize(size_t(count) * elementSize);
    if (memory->hostAccessible()) {
      copyStridedToContiguous(aligned, d[2], sizes, strides, r, elementSize,
                              local.data());
    } else if (count > 0) {
      // Copy the span the view touches to the host, then gather it there.
      int64_t low = d[2], high = d[2];
      for (int k = 0; k < r; ++k) {
        int64_t reach = strides[k] * (sizes[k] - 1);
        (reach < 0 ? low : high) += reach;
      }
      std::vector<unsigned char> span(size_t(high - low + 1) * elementSize);
      std::string error;
      if (!memory->copyOut(span.data(), aligned + low * int64_t(elementSize),
                           span.size(), error))
        fail(resultName(j) + ": " + error);
      copyStridedToContiguous(span.data(), d[2] - low, sizes, strides, r,
                              elementSize, local.data());
    }
  }
  // After all copies: two results may share one allocation.
  for (intptr_t allocated : toFree)
    memory->freeModelBuffer(reinterpret_cast<void *>(allocated));
}

void Launcher::assembleResults() {
  fullResults.resize(manifest.results.size());
  for (size_t j = 0; j < manifest.results.size(); ++j) {
    const TensorSpec &spec = manifest.results[j];
    std::vector<unsigned char> &local = localResults[j];
    const size_t elementSize = rt::dtypeSize(spec.dtype);
    if (isShardSetOutput(j) && spec.sharding.kind != ShardKind::Partial) {
      fullResults[j] = std::move(local); // this rank's part, never gathered
      continue;
    }
    switch (spec.sharding.kind) {
    case ShardKind::Replicated:
      fullResults[j] = std::move(local); // rank 0's copy is the result
      break;
    case ShardKind::Partial:
      if (onHostData(local.data(), local.size(), local.data(), local.size(),
                     [&](const void *src, void *dst) {
                       return api.allReduce(src, dst, spec.localElements(),
                                            spec.dtype,
                                            spec.sharding.reduction);
                     }) != TP_OK)
        fail(resultName(j) + ": " + api.lastError());
      fullResults[j] = std::move(local);
      break;
    case ShardKind::Split: {
      SplitGeometry g = splitGeometry(spec);
      std::vector<unsigned char> gathered(
          size_t(g.outer * size * g.local * g.inner) * elementSize);
      if (onHostData(local.data(), local.size(), gathered.data(),
                     gathered.size(), [&](const void *src, void *dst) {
                       return api.allGather(src, dst, g.outer,
                                            g.local * g.inner, spec.dtype);
                     }) != TP_OK)
        fail(resultName(j) + ": " + api.lastError());
      std::vector<unsigned char> full(size_t(spec.globalElements()) *
                                      elementSize);
      if (spec.sharding.segments.empty())
        stripPadding(gathered.data(), full.data(), g, size, elementSize);
      else
        placeSegments(gathered.data(), full.data(), g, spec.sharding, size,
                      elementSize);
      fullResults[j] = std::move(full);
      local.clear();
      break;
    }
    }
  }
}

// Temporaries not renamed yet, for the SIGINT / SIGTERM handler (rank 0):
// from the first output written until the renames, a signal removes them
// before it ends the process. Only appended to with the signals blocked.
std::vector<std::string> pendingTemporaries;
struct sigaction savedIntAction, savedTermAction;
bool writeHandlersInstalled = false;

void onTerminateWhileWriting(int signal) {
  for (const std::string &t : pendingTemporaries)
    if (!t.empty())
      unlink(t.c_str());
  std::signal(signal, SIG_DFL);
  raise(signal);
}

sigset_t interruptSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

void installWriteHandlers() {
  struct sigaction action;
  std::memset(&action, 0, sizeof(action));
  action.sa_handler = onTerminateWhileWriting;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &savedIntAction);
  sigaction(SIGTERM, &action, &savedTermAction);
  writeHandlersInstalled = true;
}

void restoreWriteHandlers() {
  if (!writeHandlersInstalled)
    return;
  sigaction(SIGINT, &savedIntAction, nullptr);
  sigaction(SIGTERM, &savedTermAction, nullptr);
  writeHandlersInstalled = false;
}

void Launcher::discardOutputs() {
  sigset_t blocked = interruptSignals(), saved;
  pthread_sigmask(SIG_BLOCK, &blocked, &saved);
  outputFiles.clear(); // removes the temporaries
  outputResults.clear();
  pendingTemporaries.clear();
  // Shard set folders made for outputs that were not written (rmdir leaves
  // a folder another rank already filled).
  for (const std::string &folder : createdFolders)
    rmdir(folder.c_str());
  createdFolders.clear();
  restoreWriteHandlers();
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
}

bool Launcher::openOutput(size_t j, const std::string &path,
                          std::string &error) {
  outputFiles.emplace_back();
  outputResults.push_back(j);
  sigset_t blocked = interruptSignals(), saved;
  pthread_sigmask(SIG_BLOCK, &blocked, &saved);
  bool opened = outputFiles.back().open(path, error);
  if (opened)
    pendingTemporaries.push_back(outputFiles.back().temporaryPath());
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  return opened;
}

bool Launcher::writeOutputs(std::string &failure) {
  outputFiles.clear();
  outputResults.clear();
  pendingTemporaries.clear();
  pendingTemporaries.reserve(2 * manifest.results.size());
  outputFiles.reserve(2 * manifest.results.size());
  installWriteHandlers();
  for (size_t j = 0; j < manifest.results.size(); ++j) {
    const TensorSpec &spec = writtenSpecs[j];
    const bool shards = isShardSetOutput(j);
    if (shards ? !writesShardFile(spec, rank) : rank != 0)
      continue;
    const std::string &path = options.outputs[j];
    std::string where = "output " + std::to_string(j) + " (" + path + "): ";
    std::string error;
    if (shards) {
      // The folder: made by whichever rank gets there first.
      if (mkdir(path.c_str(), 0777) == 0) {
        createdFolders.push_back(path);
      } else if (errno != EEXIST) {
        failure = where + "cannot create the folder: " + std::strerror(errno);
        break;
      }
      if (rank == 0) {
        std::string text = formatShardDescriptor(spec, size);
        if (!openOutput(j, shardDescriptorPath(path), error) ||
            !writeText(outputFiles.back().fd(), text, error) ||
            !outputFiles.back().finish(error)) {
          failure = where + error;
          break;
        }
      }
    }
    const std::vector<int64_t> &shape =
        shards ? spec.localShape : spec.globalShape;
    int64_t count = npy::numElements(shape);
    if (!openOutput(j, shards ? shardFilePath(path, rank) : path, error)) {
      failure = where + error;
      break;
    }
    files::OutputFile &file = outputFiles.back();
    const void *data = fullResults[j].data();
    tp_dtype dtype = spec.dtype;
    std::vector<float> widened;
    if (rt::isHalfDType(dtype)) {
      widened.resize(size_t(count));
      convertElements(data, dtype, widened.data(), TP_F32, count);
      data = widened.data();
      dtype = TP_F32;
    }
    bool written =
        !shards && isSafetensorsPath(path)
            ? safetensors::write(
                  file.fd(),
                  {{"result" + std::to_string(j), dtype, spec.globalShape,
                    data}},
                  {{"format", "tp-mlir"}, {"entry", manifest.entry}}, error)
            : npy::write(file.fd(), dtype, shape, data, error);
    if (!written || !file.finish(error)) {
      failure = where + error;
      break;
    }
  }
  if (!failure.empty()) {
    discardOutputs();
    return false;
  }
  return true;
}

bool Launcher::commitOutputs(std::string &failure) {
  // All outputs or none: a signal waits until the renames are done.
  sigset_t blocked = interruptSignals(), saved;
  pthread_sigmask(SIG_BLOCK, &blocked, &saved);
  for (size_t k = 0; k < outputFiles.size(); ++k) {
    std::string error;
    size_t j = outputResults[k];
    if (!outputFiles[k].commit(error)) {
      failure = "output " + std::to_string(j) + " (" + options.outputs[j] +
                "): " + error +
                (k > 0 ? " (the outputs before it were already replaced)" : "");
      break;
    }
  }
  if (failure.empty())
    createdFolders.clear(); // they hold the outputs now
  discardOutputs();         // the temporaries not renamed
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  return failure.empty();
}

bool Launcher::agreeOnOutputs(bool written) {
  // Every rank got here, so nothing but rank 0's writes can fail after it:
  // the write status travels with the timing, and a failed write ends every
  // rank normally (finalize, exit 1) instead of through an abort.
  double local[2] = {entryMilliseconds, written ? 0.0 : 1.0}, global[2];
  if (onHostData(local, sizeof(local), global, sizeof(global),
                 [&](const void *src, void *dst) {
                   return api.allReduce(src, dst, 2, TP_F64, TP_MAX);
                 }) != TP_OK) {
    discardOutputs(); // fail() ends the process without destructors
    fail(std::string("timing: ") + api.lastError());
  }
  maxEntryMilliseconds = global[0];
  return global[1] == 0.0;
}

void Launcher::printSummary() {
  if (options.quiet || rank != 0)
    return;
  std::string outputs;
  for (size_t j = 0; j < options.outputs.size(); ++j)
    outputs += (j ? ", " : "") + options.outputs[j];
  if (!options.showOutputPaths)
    outputs = plural(options.outputs.size(), "result");
  std::string timing = "max over ranks";
  if (options.warmup > 0 || options.repeat > 1)
    timing = "median of " + plural(size_t(options.repeat), "call") + " after " +
             std::to_string(options.warmup) + " warm-up, max over ranks";
  std::string backend = api.backendName();
  if (options.collectives == "host")
    backend += ", collectives over host memory";
  std::printf("tp-launch: @%s on %s (%s): tp_entry %.3f ms (%s); wrote %s\n",
              manifest.entry.c_str(), plural(size_t(size), "rank").c_str(),
              backend.c_str(), maxEntryMilliseconds, timing.c_str(),
              outputs.empty() ? "nothing" : outputs.c_str());
  // --rank-stats: one line per rank, the figures gathered in gatherStats.
  for (int r = 0; r < size && !rankStats.empty(); ++r) {
    const double *f = rankStats.data() + size_t(r) * statsFields;
    std::string weights;
    if (!options.weights.empty()) {
      char text[64];
      std::snprintf(text, sizeof(text), "; %.1f MiB read from --weights", f[5]);
      weights = text;
    }
    std::string device;
    if (api.gpu()) {
      char text[64];
      if (f[6] >= 0)
        std::snprintf(text, sizeof(text), "; peak device memory %.1f MiB",
                      f[6]);
      else
        std::snprintf(text, sizeof(text), "; peak device memory unknown");
      device = text;
      device += "; ";
      device += StepGraph::describe(StepGraph::State(int(f[7])));
      std::snprintf(text, sizeof(text), "; first call %.3f ms", f[8]);
      device += text;
    }
    std::printf("tp-launch: rank %d: tp_entry median %.3f ms min %.3f ms max "
                "%.3f ms (%s); peak RSS %.1f MiB (arguments %.1f MiB%s)%s\n",
                r, f[0], f[1], f[2],
                plural(size_t(options.repeat), "call").c_str(), f[3], f[4],
                weights.c_str(), device.c_str());
  }
  std::fflush(stdout);
}

void Launcher::releaseArguments() {
  graph.reset();
  for (void *buffer : argumentBuffers)
    memory->release(buffer);
  argumentBuffers.clear();
}

//===----------------------------------------------------------------------===//
// Choosing and loading the backend
//===----------------------------------------------------------------------===//

std::string executablePath() {
  char buffer[4096];
  ssize_t n = readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  if (n <= 0)
    return "";
  buffer[n] = '\0';
  return buffer;
}

/// The runtime library for `backend`: $TP_RUNTIME_LIB, else
/// <dir of tp-launch>/../lib/libtp_runtime_<backend>.so.
std::string runtimeLibraryPath(const std::string &backend) {
  if (const char *path = std::getenv("TP_RUNTIME_LIB"); path && *path)
    return path;
  std::string exe = executablePath();
  std::string bin = directoryOf(exe.empty() ? std::string(".") : exe);
  return bin + "/../lib/libtp_runtime_" + backend + ".so";
}

/// Which backend to load: --backend, else the model's target (read from the
/// file; if it cannot be read, the MPI backend when it exists, so that the
/// error is reported as before from the model loader).
std::string chooseBackend(const Options &options, bool optionsOk) {
  if (!options.backend.empty())
    return options.backend;
  if (optionsOk && !options.model.empty()) {
    std::string text, error;
    if (readElfString(options.model, text, error)) {
      std::string target = manifestTarget(text);
      if (target == "gpu")
        return "nccl";
      if (target == "cpu")
        return "mpi";
    }
  }
  if (const char *path = std::getenv("TP_RUNTIME_LIB");
      path && std::strstr(path, "nccl"))
    return "nccl";
  struct stat info;
  return stat(runtimeLibraryPath("mpi").c_str(), &info) == 0 ? "mpi" : "nccl";
}

template <typename T> void bind(void *library, const char *name, T &pointer) {
  pointer = reinterpret_cast<T>(dlsym(library, name));
  if (!pointer)
    fail(std::string("the runtime library does not export ") + name);
}

void loadBackend(const std::string &backend) {
  std::string path = runtimeLibraryPath(backend);
  void *library = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!library) {
    const char *reason = dlerror();
    fail("cannot load the " + backend + " runtime '" + path +
         "': " + (reason ? reason : "unknown error") +
         (backend == "nccl" ? " (GPU models need libtp_runtime_nccl.so and "
                              "the CUDA, cuBLASLt and NCCL libraries on the "
                              "library path)"
                            : ""));
  }
  RuntimeApi loaded;
  loaded.name = backend;
  bind(library, "tp_init", loaded.init);
  bind(library, "tp_finalize", loaded.finalize);
  bind(library, "tp_rank", loaded.rank);
  bind(library, "tp_size", loaded.size);
  bind(library, "tp_backend_name", loaded.backendName);
  bind(library, "tp_all_reduce", loaded.allReduce);
  bind(library, "tp_all_gather", loaded.allGather);
  bind(library, "tp_barrier", loaded.barrier);
  bind(library, "tp_last_error", loaded.lastError);
  bind(library, "tp_in_collective", loaded.inCollective);
  bind(library, "tp_abort", loaded.abort);
  if (backend == "nccl") {
    bind(library, "mgpuMemAlloc", loaded.device.memAlloc);
    bind(library, "mgpuMemFree", loaded.device.memFree);
    bind(library, "mgpuMemcpy", loaded.device.memcpy);
    bind(library, "tp_rt_sync", loaded.device.sync);
    loaded.timerStart =
        reinterpret_cast<void (*)()>(dlsym(library, "tp_rt_timer_start"));
    loaded.timerStop =
        reinterpret_cast<double (*)()>(dlsym(library, "tp_rt_timer_stop"));
    loaded.deviceMemoryPeak = reinterpret_cast<int64_t (*)()>(
        dlsym(library, "tp_rt_device_memory_peak"));
    loaded.graphBegin =
        reinterpret_cast<int32_t (*)()>(dlsym(library, "tp_rt_graph_begin"));
    loaded.graphEnd =
        reinterpret_cast<void *(*)()>(dlsym(library, "tp_rt_graph_end"));
    loaded.graphLaunch = reinterpret_cast<void (*)(void *)>(
        dlsym(library, "tp_rt_graph_launch"));
    loaded.graphDestroy = reinterpret_cast<void (*)(void *)>(
        dlsym(library, "tp_rt_graph_destroy"));
  }
  api = loaded;
}

/// --collectives: tells the GPU runtime before tp_init (the CPU backend's
/// collectives are MPI's, on host memory already).
void chooseCollectives(const std::string &backend, const std::string &kind) {
  if (backend != "nccl") {
    if (kind == "host")
      fail("tp-launch: --collectives host is for GPU models (the nccl "
           "backend); CPU models already exchange host memory through MPI",
           2);
    return;
  }
  using SetCollectives = tp_status (*)(const char *);
  auto set = reinterpret_cast<SetCollectives>(
      dlsym(RTLD_DEFAULT, "tp_set_collectives"));
  if (!set)
    fail("tp-launch: this runtime library has no tp_set_collectives "
         "(--collectives needs a newer libtp_runtime_nccl.so)",
         2);
  if (set(kind.c_str()) != TP_OK)
    fail(std::string("tp-launch: ") + api.lastError(), 2);
}

/// --spawn N: start N ranks of this program (without --spawn) and wait.
int spawnRanks(int argc, char **argv, const Options &options) {
  std::vector<std::string> arguments{argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--spawn") {
      ++i;
      continue;
    }
    if (arg.rfind("--spawn=", 0) == 0)
      continue;
    arguments.push_back(arg);
  }
  if (options.backend.empty()) {
    arguments.push_back("--backend");
    arguments.push_back("nccl");
  }
  boot::SpawnConfig config;
  config.executable = executablePath();
  config.arguments = arguments;
  config.ranks = options.spawn;
  // The ranks' own watchdogs fire at the timeout; this is the backstop.
  config.backstopSeconds =
      options.timeoutSeconds > 0 ? options.timeoutSeconds + 15 : 0;
  config.graceSeconds = 10;
  std::string error;
  int code = boot::spawnRanks(config, error);
  if (code < 0)
    fail("tp-launch: " + error);
  return code;
}

} // namespace

/// The compiled model mallocs its temporaries and frees them on every call
/// (buffer deallocation). By default glibc gives memory back to the kernel
/// (chunks from 128 KiB up are mmapped and unmapped when freed, and the top of
/// the heap is trimmed), so every call page-faults and zeroes its temporaries
/// again: that was half of the GPT-2 MLP's warm tp_entry at tp 1, more than
/// all of its loops outside the GEMMs (bench/README.md). Freed memory stays
/// in the process instead, for the next call: chunks below 32 MiB (the
/// largest threshold glibc takes) come from the heap, and the heap is not
/// trimmed. The peak resident memory is the same; larger chunks are still
/// mapped per call. TP_KEEP_FREED_MEMORY=0 leaves glibc's defaults (to
/// measure the difference: bench/cpu_non_gemm.py).
static void keepFreedMemory() {
#ifdef __GLIBC__
  const char *value = std::getenv("TP_KEEP_FREED_MEMORY");
  if (value && std::strcmp(value, "0") == 0)
    return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
#endif
}

int main(int argc, char **argv) {
  Options options;
  std::string error;
  const bool optionsOk = parseOptions(argc, argv, options, error);
  if (optionsOk && options.help) {
    std::fputs(usageText, stdout);
    return 0;
  }
  const std::string backend = chooseBackend(options, optionsOk);
  if (optionsOk && options.spawn > 0) {
    if (backend != "nccl")
      fail("tp-launch: --spawn runs GPU models (the nccl backend); model '" +
               options.model +
               "' is for target 'cpu': run it with mpiexec -n N tp-launch",
           2);
    return spawnRanks(argc, argv, options);
  }
  loadBackend(backend);
  if (optionsOk && !options.collectives.empty())
    chooseCollectives(backend, options.collectives);

  if (api.init(&argc, &argv) != TP_OK)
    fail(std::string("cannot initialize the runtime: ") + api.lastError());
  const int rank = api.rank(), size = api.size();
  if (!optionsOk) {
    if (rank == 0)
      std::fputs(usageText, stderr);
    fail("tp-launch: " + error, 2);
  }

  Watchdog watchdog;
  watchdog.start(options.timeoutSeconds, rank);
  on_exit(onExitDuringEntry, nullptr);

  Launcher launcher(options, rank, size);
  // Everything up to prepareArguments is local and identical on every rank
  // (rank 0 alone checks the output paths). On MPI the ranks then agree on
  // how it went; the NCCL backend's liveness channel already ends every rank
  // when one aborts (runtime/README.md).
  localSteps.active = !api.gpu();
  localSteps.thread = std::this_thread::get_id();
  launcher.loadModel();
  launcher.validateWeights();
  launcher.validateInputs();
  launcher.validateOutputs();
  launcher.prepareArguments();
  if (localSteps.active) {
    localSteps.active = false;
    agreeOnLocalSteps(nullptr, 0);
  }
  keepFreedMemory();
  launcher.runEntry();
  launcher.collectResults();
  launcher.assembleResults();
  launcher.gatherStats();
  std::string failure;
  bool written = launcher.writeOutputs(failure);
  bool ok = launcher.agreeOnOutputs(written) && written &&
            launcher.commitOutputs(failure);
  if (ok)
    launcher.printSummary();
  else if (!failure.empty()) // rank 0; the others end quietly
    std::fprintf(stderr, "tp: rank %d: %s\n", rank, failure.c_str());
  launcher.releaseArguments();

  // The watchdog also covers finalization, which waits for every rank.
  if (api.finalize() != TP_OK) {
    std::fprintf(stderr, "tp: rank %d: %s\n", rank, api.lastError());
    return 1;
  }
  watchdog.stop();
  return ok ? 0 : 1;
}
