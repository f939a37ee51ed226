//===- StepGraph.h - tp-launch's CUDA graph of one step ---------*- C++ -*-===//
//
// Launch overhead: a step of generated code is dozens of kernel launches,
// cuBLASLt calls and collectives, each a few microseconds of host time. On
// the GPU tp-launch therefore runs call 0 of tp_entry plainly (it loads the
// kernel modules, creates cuBLASLt's handle, workspace and plans, and NCCL's
// state), captures call 1 into a CUDA graph (tp_rt_graph_begin / _end) and
// launches it, and replays that graph for every later call. The results
// descriptors tp_entry wrote while captured are kept and written back on
// every replay (the graph allocates the same addresses each time).
//
// When capture cannot start (collectives over host memory, TP_STRICT_SYNC)
// or fails (something in the step is not capturable: a host wait, a copy
// from host memory, ...), nothing captured has run: the results are
// forgotten, the call runs again plainly, and so do all later ones; run()
// returns the note to print. --no-cuda-graph turns capture off.
//
// Pure logic over the runtime's functions (fakes in runtime.gpu_logic).
//
//===----------------------------------------------------------------------===//

#ifndef TP_RUNTIME_LAUNCH_STEPGRAPH_H
#define TP_RUNTIME_LAUNCH_STEPGRAPH_H

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tp::launch {

/// tp_rt_graph_begin / _end / _launch / _destroy, with tp_last_error()
/// turned into `why`.
struct GraphFunctions {
  std::function<bool(std::string &why)> begin;
  std::function<void *(std::string &why)> end;
  std::function<void(void *)> launch;
  std::function<void(void *)> destroy;
};

class StepGraph {
public:
  enum class State {
    Off,           ///< --no-cuda-graph, or not a GPU run
    NotYet,        ///< calls so far: plain; the next one is captured
    Replaying,     ///< captured; every later call replays the graph
    CaptureFailed, ///< the capture was discarded; plain calls
    Unavailable,   ///< capture refused here (reason()); plain calls
  };

  StepGraph() = default;
  StepGraph(bool enabled, GraphFunctions functions);
  ~StepGraph();
  StepGraph(const StepGraph &) = delete;
  StepGraph &operator=(const StepGraph &) = delete;

  /// Turns capture on with these functions (before the first run).
  void enable(GraphFunctions functions);

  /// Runs call `call` (0-based) of the step: `entry` calls tp_entry, which
  /// fills `results` (the results struct). Returns a note to print ("" if
  /// nothing to say).
  std::string run(int call, const std::function<void()> &entry,
                  std::vector<int64_t> &results);

  /// Frees the graph (before the runtime finalizes).
  void reset();

  State state() const { return state_; }
  const std::string &reason() const { return reason_; }
  /// A short description for --rank-stats ("CUDA graph replayed", ...).
  static const char *describe(State state);

private:
  State state_ = State::Off;
  GraphFunctions functions_;
  void *graph_ = nullptr;
  std::vector<int64_t> captured_;
  std::string reason_;
};

} // namespace tp::launch

#endif // TP_RUNTIME_LAUNCH_STEPGRAPH_H
