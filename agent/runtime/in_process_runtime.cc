#include "agent/runtime/in_process_runtime.h"

namespace berth::agent {
namespace {

class SubscriptionStream final : public ContainerEventStream {
 public:
  SubscriptionStream(ContainerEvents* events) : events_(events), sub_(events->Subscribe()) {}
  ~SubscriptionStream() override { events_->Unsubscribe(sub_); }

  std::optional<cri::ContainerEventResponse> Next(absl::Duration timeout) override {
    return sub_->Next(timeout);
  }
  // The in-process fan-out ends only when the runtime goes away.
  bool ended() const override { return false; }

 private:
  ContainerEvents* events_;
  std::shared_ptr<ContainerEvents::Subscription> sub_;
};

}  // namespace

#define BERTH_AGENT_IN_PROCESS_CALL(Name)                                                 \
  absl::Status InProcessRuntime::Name(const cri::Name##Request& req, cri::Name##Response* resp) { \
    return runtime_->Name(req, resp);                                                     \
  }
BERTH_AGENT_RUNTIME_CALLS(BERTH_AGENT_IN_PROCESS_CALL)
BERTH_AGENT_IMAGE_CALLS(BERTH_AGENT_IN_PROCESS_CALL)
#undef BERTH_AGENT_IN_PROCESS_CALL

absl::StatusOr<std::unique_ptr<ContainerEventStream>> InProcessRuntime::GetContainerEvents() {
  return std::make_unique<SubscriptionStream>(&runtime_->events());
}

}  // namespace berth::agent
