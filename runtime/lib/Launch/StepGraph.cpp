//===- StepGraph.cpp - tp-launch's CUDA graph of one step -----------------===//

#include "Launch/StepGraph.h"

#include <algorithm>

namespace tp::launch {

StepGraph::StepGraph(bool enabled, GraphFunctions functions)
    : state_(enabled ? State::NotYet : State::Off),
      functions_(std::move(functions)) {}

StepGraph::~StepGraph() { reset(); }

void StepGraph::enable(GraphFunctions functions) {
  reset();
  functions_ = std::move(functions);
  state_ = State::NotYet;
}

void StepGraph::reset() {
  if (graph_ && functions_.destroy)
    functions_.destroy(graph_);
  graph_ = nullptr;
}

std::string StepGraph::run(int call, const std::function<void()> &entry,
                           std::vector<int64_t> &results) {
  switch (state_) {
  case State::Replaying:
    std::copy(captured_.begin(), captured_.end(), results.begin());
    functions_.launch(graph_);
    return "";
  case State::NotYet:
    break;
  default:
    entry();
    return "";
  }
  if (call == 0) { // the warm-up call: lazy loads, plans, NCCL state
    entry();
    return "";
  }
  std::string why;
  if (!functions_.begin(why)) {
    state_ = State::Unavailable;
    reason_ = why;
    entry();
    return "CUDA graph not used: " + why;
  }
  entry();
  graph_ = functions_.end(why);
  if (!graph_) {
    // Nothing captured ran, and the results point at nothing real.
    state_ = State::CaptureFailed;
    reason_ = why;
    std::fill(results.begin(), results.end(), 0);
    entry();
    return "CUDA graph capture failed (" + why +
           "); tp_entry runs as plain calls";
  }
  state_ = State::Replaying;
  captured_ = results;
  functions_.launch(graph_);
  return "";
}

const char *StepGraph::describe(State state) {
  switch (state) {
  case State::Off:
    return "no CUDA graph";
  case State::NotYet:
    return "CUDA graph not captured (one call)";
  case State::Replaying:
    return "CUDA graph replayed";
  case State::CaptureFailed:
    return "CUDA graph capture failed";
  case State::Unavailable:
    return "CUDA graph unavailable";
  }
  return "";
}

} // namespace tp::launch
