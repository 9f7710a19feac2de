// InstrumentedRuntime: a RuntimeService/ImageService decorator that reports
// every call to KubeletMetrics (kubelet_runtime_operations_total, _duration_seconds,
// _errors_total by operation_type; RunPodSandbox also as kubelet_started_pods_total),
// as the kubelet's instrumentedRuntimeService does.
#pragma once

#include <memory>

#include "agent/metrics/kubelet_metrics.h"
#include "agent/runtime/runtime_service.h"

namespace berth::agent::metrics {

class InstrumentedRuntime : public RuntimeService, public ImageService {
 public:
  InstrumentedRuntime(RuntimeService* runtime, ImageService* images, KubeletMetrics* metrics)
      : runtime_(runtime), images_(images), metrics_(metrics) {}

  BERTH_AGENT_RUNTIME_CALLS(BERTH_AGENT_DECLARE_CALL)
  BERTH_AGENT_IMAGE_CALLS(BERTH_AGENT_DECLARE_CALL)
  absl::StatusOr<std::unique_ptr<ContainerEventStream>> GetContainerEvents() override;

 private:
  RuntimeService* runtime_;
  ImageService* images_;
  KubeletMetrics* metrics_;
};

}  // namespace berth::agent::metrics
