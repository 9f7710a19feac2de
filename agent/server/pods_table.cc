#include "agent/server/pods_table.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "api/k8s/codec.h"

namespace berth::agent {

std::string HumanAge(absl::Duration d) {
  // kubectl's duration.HumanDuration: two units while they say something.
  int64_t s = absl::ToInt64Seconds(d);
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  if (s < 120) return absl::StrCat(s, "s");
  int64_t m = s / 60;
  if (m < 10) return s % 60 == 0 ? absl::StrCat(m, "m") : absl::StrCat(m, "m", s % 60, "s");
  if (m < 180) return absl::StrCat(m, "m");
  int64_t h = m / 60;
  if (h < 8) return m % 60 == 0 ? absl::StrCat(h, "h") : absl::StrCat(h, "h", m % 60, "m");
  if (h < 48) return absl::StrCat(h, "h");
  if (h < 24 * 8) return h % 24 == 0 ? absl::StrCat(h / 24, "d") : absl::StrCat(h / 24, "d", h % 24, "h");
  if (h < 24 * 365 * 2) return absl::StrCat(h / 24, "d");
  int64_t days = h / 24;
  if (h < 24 * 365 * 8) {
    return days % 365 == 0 ? absl::StrCat(days / 365, "y") : absl::StrCat(days / 365, "y", days % 365, "d");
  }
  return absl::StrCat(days / 365, "y");
}

std::string PodStatusColumn(const k8s::Pod& pod) {
  const auto& st = pod.status;
  std::string reason = st.reason.empty() ? st.phase : st.reason;
  bool initializing = false;
  for (size_t i = 0; i < st.initContainerStatuses.size(); ++i) {
    const auto& c = st.initContainerStatuses[i];
    bool sidecar = i < pod.spec.initContainers.size() && pod.spec.initContainers[i].restartPolicy &&
                   *pod.spec.initContainers[i].restartPolicy == "Always";
    if (c.state.terminated && c.state.terminated->exitCode == 0) continue;
    if (sidecar && c.started.value_or(false)) continue;
    if (c.state.terminated) {
      reason = c.state.terminated->reason.empty()
                   ? absl::StrCat("Init:ExitCode:", c.state.terminated->exitCode)
                   : absl::StrCat("Init:", c.state.terminated->reason);
    } else if (c.state.waiting && !c.state.waiting->reason.empty() && c.state.waiting->reason != "PodInitializing") {
      reason = absl::StrCat("Init:", c.state.waiting->reason);
    } else {
      reason = absl::StrCat("Init:", i, "/", pod.spec.initContainers.size());
    }
    initializing = true;
    break;
  }
  if (!initializing) {
    bool has_running = false;
    for (auto it = st.containerStatuses.rbegin(); it != st.containerStatuses.rend(); ++it) {
      const auto& c = *it;
      if (c.state.waiting && !c.state.waiting->reason.empty()) {
        reason = c.state.waiting->reason;
      } else if (c.state.terminated) {
        if (!c.state.terminated->reason.empty()) {
          reason = c.state.terminated->reason;
        } else if (c.state.terminated->signal != 0) {
          reason = absl::StrCat("Signal:", c.state.terminated->signal);
        } else {
          reason = absl::StrCat("ExitCode:", c.state.terminated->exitCode);
        }
      } else if (c.ready && c.state.running) {
        has_running = true;
      }
    }
    if (reason == "Completed" && has_running) reason = "Running";
  }
  return reason;
}

absl::StatusOr<std::string> FormatPodsTable(const std::string& text, absl::Time now) {
  nlohmann::json list = nlohmann::json::parse(text, nullptr, false);
  if (list.is_discarded() || !list.is_object() || !list.contains("items") || !list["items"].is_array()) {
    return absl::InvalidArgumentError("not a PodList");
  }
  std::string out;
  char line[512];
  snprintf(line, sizeof(line), "%-50s %-7s %-26s %-9s %s\n", "NAME", "READY", "STATUS", "RESTARTS", "AGE");
  out += line;
  k8s::DecodeOptions lenient;
  lenient.strict = false;
  for (const auto& item : list["items"]) {
    auto pod = k8s::PodFromJson(item, lenient);
    if (!pod.ok()) return pod.status();
    int ready = 0, total = 0, restarts = 0;
    for (const auto& c : pod->status.containerStatuses) {
      ++total;
      ready += c.ready ? 1 : 0;
      restarts += c.restartCount;
    }
    for (const auto& c : pod->status.initContainerStatuses) restarts += c.restartCount;
    if (total == 0) total = static_cast<int>(pod->spec.containers.size());
    std::string age = "<unknown>";
    absl::Time start;
    std::string err;
    const auto& ts = pod->status.startTime ? pod->status.startTime : pod->metadata.creationTimestamp;
    if (ts && absl::ParseTime(absl::RFC3339_full, *ts, &start, &err)) age = HumanAge(now - start);
    std::string name = pod->metadata.namespace_ == "default"
                           ? pod->metadata.name
                           : absl::StrCat(pod->metadata.namespace_, "/", pod->metadata.name);
    snprintf(line, sizeof(line), "%-50s %-7s %-26s %-9d %s\n", name.c_str(),
             absl::StrCat(ready, "/", total).c_str(), PodStatusColumn(*pod).c_str(), restarts, age.c_str());
    out += line;
  }
  return out;
}

}  // namespace berth::agent
