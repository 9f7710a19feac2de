#include "agent/describe_command.h"

#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "agent/server/events_json.h"
#include "agent/server/http_server.h"
#include "agent/server/pod_describe.h"
#include "api/k8s/codec.h"

namespace berth::agent {

absl::StatusOr<DescribeTarget> ParseDescribeArgs(const std::vector<std::string>& args) {
  DescribeTarget target;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-n") {
      if (i + 1 >= args.size()) return absl::InvalidArgumentError("-n needs a namespace");
      target.namespace_ = args[++i];
      target.namespace_given = true;
    } else if (absl::StartsWith(a, "-n")) {
      target.namespace_ = a.substr(2);
      target.namespace_given = true;
    } else if (absl::StartsWith(a, "-")) {
      return absl::InvalidArgumentError(absl::StrCat("unknown option ", a, " (want POD [-n NAMESPACE])"));
    } else if (!target.name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("one pod at a time: got \"", target.name, "\" and \"", a, "\""));
    } else if (auto slash = a.find('/'); slash != std::string::npos) {
      target.namespace_ = a.substr(0, slash);
      target.namespace_given = true;
      target.name = a.substr(slash + 1);
    } else {
      target.name = a;
    }
  }
  if (target.name.empty()) return absl::InvalidArgumentError("which pod? usage: berth-agent describe POD [-n NAMESPACE]");
  if (target.namespace_.empty()) return absl::InvalidArgumentError("-n: the namespace is empty");
  return target;
}

absl::StatusOr<k8s::Pod> FindPod(const std::vector<k8s::Pod>& pods, const DescribeTarget& target) {
  for (const auto& pod : pods) {
    if (pod.metadata.namespace_ == target.namespace_ && pod.metadata.name == target.name) return pod;
  }
  for (const auto& pod : pods) {
    if (pod.metadata.namespace_ == target.namespace_ && !pod.spec.nodeName.empty() &&
        pod.metadata.name == absl::StrCat(target.name, "-", pod.spec.nodeName)) {
      return pod;
    }
  }
  std::vector<std::string> elsewhere;
  for (const auto& pod : pods) {
    bool same_name = pod.metadata.name == target.name ||
                     (!pod.spec.nodeName.empty() && pod.metadata.name == absl::StrCat(target.name, "-", pod.spec.nodeName));
    if (same_name) elsewhere.push_back(absl::StrCat(pod.metadata.namespace_, "/", pod.metadata.name));
  }
  std::string message = absl::StrCat("pods \"", target.name, "\" not found in namespace \"", target.namespace_, "\"");
  if (!elsewhere.empty()) absl::StrAppend(&message, " (the agent has ", absl::StrJoin(elsewhere, ", "), ")");
  return absl::NotFoundError(message);
}

int RunDescribeCommand(const KubeletConfig& config, const std::vector<std::string>& args) {
  auto fail = [](const std::string& message) {
    std::fprintf(stderr, "berth-agent describe: %s\n", message.c_str());
    return 1;
  };
  auto target = ParseDescribeArgs(args);
  if (!target.ok()) return fail(std::string(target.status().message()));
  std::string host = config.healthzBindAddress == "0.0.0.0" ? "127.0.0.1" : config.healthzBindAddress;
  auto body = HttpGet(host, config.healthzPort, "/pods");
  if (!body.ok()) return fail(absl::StrCat(body.status().message(), " (is berth-agent running?)"));
  auto list = nlohmann::json::parse(*body, nullptr, /*allow_exceptions=*/false);
  if (list.is_discarded() || !list.is_object() || !list.contains("items") || !list["items"].is_array()) {
    return fail("/pods: not a PodList");
  }
  std::vector<k8s::Pod> pods;
  for (const auto& item : list["items"]) {
    auto pod = k8s::PodFromJson(item);
    if (!pod.ok()) return fail(absl::StrCat("/pods: ", pod.status().message()));
    pods.push_back(std::move(*pod));
  }
  auto pod = FindPod(pods, *target);
  if (!pod.ok()) return fail(std::string(pod.status().message()));
  auto events_body = HttpGet(host, config.healthzPort,
                             absl::StrCat("/events?format=json&pod=", pod->metadata.namespace_, "/", pod->metadata.name));
  if (!events_body.ok()) return fail(std::string(events_body.status().message()));
  auto events = EventListFromJson(*events_body);
  if (!events.ok()) return fail(std::string(events.status().message()));
  std::fputs(DescribePod(*pod, *events, absl::Now(), absl::LocalTimeZone()).c_str(), stdout);
  return 0;
}

}  // namespace berth::agent
