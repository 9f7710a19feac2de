// stats: CPU, memory and writable-layer use of containers. The runtime
// reports cumulative CPU time, so CPU % comes from two samples --seconds
// apart (default 1), as crictl does when usage_nano_cores is not set.
#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

#include "absl/strings/str_format.h"
#include "hack/berth-cri/commands.h"
#include "hack/berth-cri/display.h"
#include "hack/berth-cri/proto_json.h"

namespace berth::cri_cli {
namespace {

namespace v1 = runtime::v1;

absl::StatusOr<std::vector<v1::ContainerStats>> Sample(const Invocation& inv, CriClient& client) {
  v1::ContainerStatsFilter filter;
  if (!inv.args.empty()) filter.set_id(inv.args[0]);
  filter.set_pod_sandbox_id(inv.Get("pod"));
  return client.ListContainerStats(filter);
}

}  // namespace

absl::StatusOr<int> StatsCommand(const Invocation& inv, CriClient& client) {
  absl::StatusOr<int64_t> seconds = inv.GetCount("seconds", 1);
  if (!seconds.ok()) return seconds.status();
  const std::string format = inv.Get("output", "table");
  if (format != "table" && format != "json") {
    return absl::InvalidArgumentError("flag --output: \"" + format + "\" is not json or table");
  }
  // Names and states, to show names and hide containers that are not running.
  v1::ContainerFilter list_filter;
  if (!inv.args.empty()) list_filter.set_id(inv.args[0]);
  list_filter.set_pod_sandbox_id(inv.Get("pod"));
  if (!inv.Has("all")) list_filter.mutable_state()->set_state(v1::CONTAINER_RUNNING);
  absl::StatusOr<std::vector<v1::Container>> containers = client.ListContainers(list_filter);
  if (!containers.ok()) return containers.status();
  std::map<std::string, std::string> names;
  for (const auto& c : *containers) names[c.id()] = c.metadata().name();

  absl::StatusOr<std::vector<v1::ContainerStats>> first = Sample(inv, client);
  if (!first.ok()) return first.status();
  if (format == "json") {
    v1::ListContainerStatsResponse response;
    for (const auto& s : *first) {
      if (names.count(s.attributes().id())) *response.add_stats() = s;
    }
    absl::StatusOr<std::string> json = ToJson(response);
    if (!json.ok()) return json.status();
    std::fputs(json->c_str(), stdout);
    return 0;
  }
  std::map<std::string, v1::ContainerStats> before;
  for (const auto& s : *first) before[s.attributes().id()] = s;
  std::vector<v1::ContainerStats> after = *first;
  if (*seconds > 0) {
    // A measuring interval, not a wait for something to happen.
    std::this_thread::sleep_for(std::chrono::seconds(*seconds));
    absl::StatusOr<std::vector<v1::ContainerStats>> second = Sample(inv, client);
    if (!second.ok()) return second.status();
    after = *second;
  }
  Table table({"CONTAINER", "NAME", "CPU %", "MEM", "DISK", "INODES"});
  for (const auto& s : after) {
    const std::string& id = s.attributes().id();
    if (!names.count(id)) continue;
    std::string cpu = "-";
    auto it = before.find(id);
    if (it != before.end() && s.cpu().timestamp() > it->second.cpu().timestamp()) {
      const double used = static_cast<double>(s.cpu().usage_core_nano_seconds().value() -
                                              it->second.cpu().usage_core_nano_seconds().value());
      const double elapsed = static_cast<double>(s.cpu().timestamp() - it->second.cpu().timestamp());
      cpu = absl::StrFormat("%.2f", 100.0 * used / elapsed);
    }
    table.AddRow({ShortId(id), names[id], cpu, HumanSize(s.memory().working_set_bytes().value()),
                  HumanSize(s.writable_layer().used_bytes().value()),
                  absl::StrFormat("%d", s.writable_layer().inodes_used().value())});
  }
  std::fputs(table.Render().c_str(), stdout);
  return 0;
}

}  // namespace berth::cri_cli
