// Pods and observed state for the agent/pod unit tests.
#pragma once

#include <string>

#include "agent/pod/observed_pod.h"
#include "agent/pod/pod_actions.h"
#include "api/k8s/codec.h"
#include "api/k8s/defaults.h"

namespace berth::agent::testing {

inline k8s::Pod MakePod(const std::string& yaml) {
  auto pods = k8s::DecodePods(yaml);
  if (!pods.ok() || pods->empty()) abort();
  k8s::Pod pod = (*pods)[0];
  k8s::SetDefaultsPod(&pod);
  if (pod.metadata.namespace_.empty()) pod.metadata.namespace_ = "default";
  if (pod.metadata.uid.empty()) pod.metadata.uid = "uid-1";
  return pod;
}

inline ObservedSandbox ReadySandbox(const std::string& id = "sb1", uint32_t attempt = 0) {
  ObservedSandbox s;
  s.id = id;
  s.ready = true;
  s.attempt = attempt;
  s.ips = {"10.0.0.5"};
  return s;
}

inline ObservedContainer Running(const k8s::Container& spec, const std::string& id, int restarts = 0) {
  ObservedContainer c;
  c.id = id;
  c.name = spec.name;
  c.sandbox_id = "sb1";
  c.hash = ContainerHash(spec);
  c.restart_count = restarts;
  c.state = cri::CONTAINER_RUNNING;
  c.started_at = 1'000'000'000;
  return c;
}

inline ObservedContainer Exited(const k8s::Container& spec, const std::string& id, int code, int restarts = 0) {
  ObservedContainer c = Running(spec, id, restarts);
  c.state = cri::CONTAINER_EXITED;
  c.exit_code = code;
  c.finished_at = 2'000'000'000;
  return c;
}

}  // namespace berth::agent::testing
