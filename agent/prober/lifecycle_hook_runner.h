// postStart and preStop hooks (exec, httpGet, sleep) with the kubelet's
// semantics:
//  - a handler's verdict: exec fails on a non-zero exit or an error; httpGet
//    fails only when no HTTP response comes back (the status code is not
//    judged, as the kubelet's lifecycle handler does not; an HTTPS hook that
//    gets a plain HTTP answer is retried over HTTP); sleep fails only when
//    cancelled; tcpSocket is not a supported handler and fails.
//  - RunPostStart: on failure the container is killed through `kill` with
//    reason "FailedPostStartHook", and the error (the text for the
//    FailedPostStartHook event) is returned.
//  - RunPreStop: bounded by the termination grace period; returns the grace
//    left for the stop (never below the kubelet's 2 s minimum) and whether the
//    hook failed (for a FailedPreStopHook event).
#pragma once

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/prober/exec_in_container.h"
#include "api/k8s/pod.h"

namespace berth::agent::prober {

struct HookTarget {
  const k8s::Pod* pod = nullptr;              // for messages (namespace/name)
  const k8s::Container* container = nullptr;  // named ports, its name
  std::string container_id;
  std::string pod_ip;  // default host of httpGet
};

// Kills a container whose postStart hook failed: (container id, reason, message).
using KillContainerFn =
    std::function<absl::Status(const std::string& container_id, const std::string& reason, const std::string& message)>;

struct PreStopResult {
  absl::Status status;           // the hook's failure, if any
  bool completed = true;         // false when the grace period ran out first
  absl::Duration elapsed;
  int64_t remaining_grace_seconds = 0;  // for StopContainer; at least 2
};

class LifecycleHookRunner {
 public:
  // `second` is how long one second of the spec lasts (sleep); tests shrink it.
  explicit LifecycleHookRunner(ExecInContainer exec, absl::Duration second = absl::Seconds(1))
      : exec_(std::move(exec)), second_(second) {}

  // Runs one handler. `timeout` of zero means none (postStart); `stop`
  // cancels a sleep and ends the wait early.
  absl::Status Run(const HookTarget& target, const k8s::LifecycleHandler& handler, absl::Duration timeout,
                   std::stop_token stop = {}) const;

  // The container's postStart hook (nothing to do without one). On failure
  // `kill` is called and the hook's error is returned, its message the
  // event's text.
  absl::Status RunPostStart(const HookTarget& target, const KillContainerFn& kill, std::stop_token stop = {}) const;

  // The container's preStop hook with `grace_seconds` to run in; returns at
  // the latest when the grace period ends (a hook still running then is left
  // to its own timeout).
  PreStopResult RunPreStop(const HookTarget& target, int64_t grace_seconds, std::stop_token stop = {}) const;

 private:
  ExecInContainer exec_;
  absl::Duration second_;
};

// The kubelet's floor for the grace period left after a preStop hook.
inline constexpr int64_t kMinimumGracePeriodSeconds = 2;

}  // namespace berth::agent::prober
