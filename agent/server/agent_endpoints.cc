#include "agent/server/agent_endpoints.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/server/events_json.h"
#include "api/k8s/codec.h"

namespace berth::agent {
namespace {

constexpr char kText[] = "text/plain; charset=utf-8";
constexpr char kMetricsText[] = "text/plain; version=0.0.4; charset=utf-8";

std::string PercentDecode(absl::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < in.size() && isxdigit(static_cast<unsigned char>(in[i + 1])) &&
               isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

HttpResponse ServeEvents(const AgentEndpointSources& sources, const std::map<std::string, std::string>& query) {
  std::string object;
  if (auto it = query.find("pod"); it != query.end()) {
    std::vector<std::string> parts = absl::StrSplit(it->second, absl::MaxSplits('/', 1));
    if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
      return {400, kText, absl::StrCat("pod=\"", it->second, "\": want NAMESPACE/NAME\n")};
    }
    object = PodEventObject(parts[0], parts[1]);
  }
  std::vector<Event> events = sources.events(object);
  auto format = query.find("format");
  if (format != query.end() && format->second == "json") {
    return {200, "application/json", EventListToJson(AggregateEvents(events), sources.node_name).dump()};
  }
  if (format != query.end() && format->second != "text") {
    return {400, kText, absl::StrCat("format=\"", format->second, "\": want json or text\n")};
  }
  std::string out;
  for (const auto& e : events) {
    absl::StrAppend(&out, absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", e.time, absl::UTCTimeZone()), " ", e.type, " ",
                    e.object, " ", e.reason, ": ", e.message, "\n");
  }
  return {200, kText, out};
}

}  // namespace

std::map<std::string, std::string> ParseQuery(const std::string& target) {
  std::map<std::string, std::string> out;
  size_t q = target.find('?');
  if (q == std::string::npos) return out;
  for (absl::string_view pair : absl::StrSplit(absl::string_view(target).substr(q + 1), '&', absl::SkipEmpty())) {
    size_t eq = pair.find('=');
    if (eq == absl::string_view::npos) {
      out[PercentDecode(pair)] = "";
    } else {
      out[PercentDecode(pair.substr(0, eq))] = PercentDecode(pair.substr(eq + 1));
    }
  }
  return out;
}

HttpResponse ServeAgentEndpoint(const AgentEndpointSources& sources, const std::string& target) {
  std::string path = target.substr(0, target.find('?'));
  if (path == "/healthz") {
    if (!sources.healthy()) return {500, kText, "kubelet not started\n"};
    return {200, kText, "ok"};
  }
  if (path == "/pods" || path == "/pods/") {
    nlohmann::json list = {{"kind", "PodList"}, {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()}};
    list["items"] = nlohmann::json::array();
    for (const auto& pod : sources.pods()) list["items"].push_back(k8s::PodToJson(pod));
    return {200, "application/json", list.dump()};
  }
  if (path == "/events") return ServeEvents(sources, ParseQuery(target));
  if (path == "/metrics" && sources.metrics) return {200, kMetricsText, sources.metrics()};
  return {404, kText, absl::StrCat("404 page not found: ", path, "\n")};
}

}  // namespace berth::agent
