// AgentMetrics: everything berth-agent's /metrics shows, in one place for
// node_agent.cc: a Registry with the process metrics and KubeletMetrics, and
// the InstrumentedRuntime the Kubelet talks through.
#pragma once

#include <string>

#include "agent/metrics/instrumented_runtime.h"
#include "agent/metrics/kubelet_metrics.h"
#include "agent/metrics/process_metrics.h"
#include "agent/metrics/registry.h"

namespace berth::agent::metrics {

class AgentMetrics {
 public:
  // `runtime`/`images`: the agent's runtime, uninstrumented.
  AgentMetrics(RuntimeService* runtime, ImageService* images)
      : kubelet_(&registry_, runtime), instrumented_(runtime, images, &kubelet_) {
    AddProcessMetrics(&registry_);
  }
  // What the Kubelet should use: every call is counted and timed.
  RuntimeService* runtime() { return &instrumented_; }
  ImageService* images() { return &instrumented_; }
  PodLifecycleObserver* observer() { return &kubelet_; }
  std::string Render() const { return registry_.Render(); }

 private:
  Registry registry_;
  KubeletMetrics kubelet_;
  InstrumentedRuntime instrumented_;
};

}  // namespace berth::agent::metrics
