#include "agent/metrics/instrumented_runtime.h"

#include <type_traits>

#include "absl/time/clock.h"

namespace berth::agent::metrics {

#define BERTH_INSTRUMENTED_CALL(Name, target)                                                      \
  absl::Status InstrumentedRuntime::Name(const cri::Name##Request& req, cri::Name##Response* resp) { \
    static const std::string kOperation = KubeletOperationName(#Name);                              \
    absl::Time begin = absl::Now();                                                                 \
    absl::Status st = target->Name(req, resp);                                                      \
    metrics_->RuntimeOperation(kOperation, absl::Now() - begin, !st.ok());                          \
    if constexpr (std::is_same_v<cri::Name##Request, cri::RunPodSandboxRequest>) {                  \
      metrics_->PodSandboxStarted(!st.ok());                                                        \
    }                                                                                               \
    return st;                                                                                      \
  }
#define BERTH_INSTRUMENTED_RUNTIME_CALL(Name) BERTH_INSTRUMENTED_CALL(Name, runtime_)
#define BERTH_INSTRUMENTED_IMAGE_CALL(Name) BERTH_INSTRUMENTED_CALL(Name, images_)

BERTH_AGENT_RUNTIME_CALLS(BERTH_INSTRUMENTED_RUNTIME_CALL)
BERTH_AGENT_IMAGE_CALLS(BERTH_INSTRUMENTED_IMAGE_CALL)

absl::StatusOr<std::unique_ptr<ContainerEventStream>> InstrumentedRuntime::GetContainerEvents() {
  absl::Time begin = absl::Now();
  auto stream = runtime_->GetContainerEvents();
  metrics_->RuntimeOperation("get_container_events", absl::Now() - begin, !stream.ok());
  return stream;
}

}  // namespace berth::agent::metrics
