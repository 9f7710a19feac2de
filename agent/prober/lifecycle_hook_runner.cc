#include "agent/prober/lifecycle_hook_runner.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/prober/prober.h"
#include "common/logging.h"

namespace berth::agent::prober {
namespace {

std::string PodName(const HookTarget& t) {
  if (t.pod == nullptr) return "";
  return absl::StrCat(t.pod->metadata.namespace_, "/", t.pod->metadata.name);
}

std::string ContainerName(const HookTarget& t) { return t.container ? t.container->name : ""; }

// Waits `d` unless `stop` comes first; false when stopped.
bool SleepFor(absl::Duration d, std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock<std::mutex> lock(mu);
  return !cv.wait_for(lock, stop, absl::ToChronoNanoseconds(d), [] { return false; });
}

}  // namespace

absl::Status LifecycleHookRunner::Run(const HookTarget& target, const k8s::LifecycleHandler& handler,
                                      absl::Duration timeout, std::stop_token stop) const {
  if (target.container == nullptr) return absl::InvalidArgumentError("lifecycle hook: no container given");
  const std::string where =
      absl::StrCat("for Container \"", ContainerName(target), "\" in Pod \"", PodName(target), "\"");
  if (handler.exec) {
    const auto& cmd = handler.exec->command;
    std::string what = absl::StrCat("Exec lifecycle hook ([", absl::StrJoin(cmd, " "), "]) ", where, " failed");
    if (!exec_) return absl::FailedPreconditionError(absl::StrCat(what, " - error: no exec function configured"));
    auto res = exec_(target.container_id, cmd, timeout);
    if (!res.ok()) {
      return absl::Status(res.status().code(), absl::StrCat(what, " - error: ", res.status().message(),
                                                            ", message: \"\""));
    }
    if (res->exit_code != 0) {
      return absl::UnknownError(absl::StrCat(what, " - error: command '", absl::StrJoin(cmd, " "), "' exited with ",
                                             res->exit_code, ": , message: \"", res->output, "\""));
    }
    return absl::OkStatus();
  }
  if (handler.httpGet) {
    std::string what = absl::StrCat("HTTP lifecycle hook (", handler.httpGet->path, ") ", where, " failed");
    auto req = HttpGetRequestFor(*handler.httpGet, *target.container, target.pod_ip, kLifecycleUserAgent);
    if (!req.ok()) return absl::Status(req.status().code(), absl::StrCat(what, " - error: ", req.status().message()));
    req->follow_other_hosts = true;
    absl::Duration limit = timeout > absl::ZeroDuration() ? timeout : absl::Hours(24);
    auto resp = HttpGet(*req, limit);
    if (!resp.ok() && req->url.scheme == "https" &&
        absl::StrContains(resp.status().message(), "wrong version number")) {
      // The server answered HTTPS with plain HTTP: the kubelet retries over HTTP.
      BERTH_LOG(Warning) << "HTTPS lifecycle hook got an HTTP response, retrying with HTTP"
                         << Kv("url", req->url.String());
      req->url.scheme = "http";
      std::erase_if(req->headers, [](const auto& h) { return absl::EqualsIgnoreCase(h.first, "Authorization"); });
      resp = HttpGet(*req, limit);
    }
    if (!resp.ok()) return absl::Status(resp.status().code(), absl::StrCat(what, " - error: ", resp.status().message()));
    return absl::OkStatus();
  }
  if (handler.sleep) {
    absl::Duration d = second_ * handler.sleep->seconds;
    bool cut = timeout > absl::ZeroDuration() && timeout < d;
    if (!SleepFor(cut ? timeout : d, stop) || cut) {
      return absl::CancelledError(absl::StrCat("Sleep lifecycle hook (", handler.sleep->seconds, ") ", where,
                                               " failed - error: container terminated before sleep hook finished"));
    }
    return absl::OkStatus();
  }
  if (handler.tcpSocket) {
    return absl::InvalidArgumentError(
        absl::StrCat("lifecycle hook ", where, ": tcpSocket is not supported as a lifecycle handler"));
  }
  return absl::InvalidArgumentError(absl::StrCat("lifecycle hook ", where, ": the handler has no action"));
}

absl::Status LifecycleHookRunner::RunPostStart(const HookTarget& target, const KillContainerFn& kill,
                                               std::stop_token stop) const {
  if (target.container == nullptr || !target.container->lifecycle || !target.container->lifecycle->postStart) {
    return absl::OkStatus();
  }
  absl::Status st = Run(target, *target.container->lifecycle->postStart, absl::ZeroDuration(), stop);
  if (st.ok()) return st;
  BERTH_LOG(Warning) << "postStart hook failed, killing the container" << Kv("pod", PodName(target))
                     << Kv("container", ContainerName(target)) << Kv("error", st.message());
  if (kill) {
    absl::Status k = kill(target.container_id, "FailedPostStartHook", std::string(st.message()));
    if (!k.ok()) {
      BERTH_LOG(Error) << "killing the container after its postStart hook failed" << Kv("error", k.message());
    }
  }
  return st;
}

PreStopResult LifecycleHookRunner::RunPreStop(const HookTarget& target, int64_t grace_seconds,
                                              std::stop_token stop) const {
  PreStopResult out;
  out.remaining_grace_seconds = std::max(grace_seconds, kMinimumGracePeriodSeconds);
  if (target.container == nullptr || !target.container->lifecycle || !target.container->lifecycle->preStop ||
      grace_seconds <= 0) {
    return out;
  }
  // The hook runs on its own thread with copies of what it needs, so that it
  // may outlive this call when the grace period ends first.
  struct Shared {
    std::mutex mu;
    std::condition_variable_any cv;
    bool done = false;
    absl::Status status;
    std::stop_source cancel;
    k8s::Container container;
    std::optional<k8s::Pod> pod;
    HookTarget target;
  };
  auto shared = std::make_shared<Shared>();
  shared->container = *target.container;
  if (target.pod) shared->pod = *target.pod;
  shared->target = target;
  shared->target.container = &shared->container;
  shared->target.pod = shared->pod ? &*shared->pod : nullptr;
  absl::Duration grace = second_ * grace_seconds;
  const absl::Time start = absl::Now();
  std::thread([runner = *this, shared, grace] {
    absl::Status st =
        runner.Run(shared->target, *shared->container.lifecycle->preStop, grace, shared->cancel.get_token());
    std::lock_guard<std::mutex> lock(shared->mu);
    shared->done = true;
    shared->status = std::move(st);
    shared->cv.notify_all();
  }).detach();
  {
    std::unique_lock<std::mutex> lock(shared->mu);
    shared->cv.wait_for(lock, stop, absl::ToChronoNanoseconds(grace), [&] { return shared->done; });
    out.completed = shared->done;
    if (shared->done) out.status = shared->status;
  }
  if (!out.completed) {
    shared->cancel.request_stop();
    std::string what = absl::StrCat("preStop hook for Container \"", ContainerName(target), "\" in Pod \"",
                                    PodName(target), "\"");
    out.status = stop.stop_requested()
                     ? absl::CancelledError(absl::StrCat(what, " was cancelled"))
                     : absl::DeadlineExceededError(absl::StrCat(what, " did not complete within ", grace_seconds, "s"));
  }
  out.elapsed = absl::Now() - start;
  int64_t spent = static_cast<int64_t>(absl::ToDoubleSeconds(out.elapsed) / absl::ToDoubleSeconds(second_));
  out.remaining_grace_seconds = std::max(grace_seconds - spent, kMinimumGracePeriodSeconds);
  if (!out.status.ok()) {
    BERTH_LOG(Warning) << "preStop hook failed" << Kv("pod", PodName(target)) << Kv("container", ContainerName(target))
                       << Kv("error", out.status.message());
  }
  return out;
}

}  // namespace berth::agent::prober
