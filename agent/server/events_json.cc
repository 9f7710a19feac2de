#include "agent/server/events_json.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace berth::agent {
namespace {

std::string FormatTimestamp(absl::Time t) { return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone()); }

absl::Time ParseTimestamp(const nlohmann::json& j) {
  absl::Time t = absl::UnixEpoch();
  std::string err;
  if (j.is_string()) absl::ParseTime(absl::RFC3339_full, j.get<std::string>(), &t, &err);
  return t;
}

std::string StringField(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

std::string PodEventObject(const std::string& namespace_, const std::string& name) {
  return absl::StrCat("pod/", namespace_, "/", name);
}

std::vector<EventRecord> AggregateEvents(const std::vector<Event>& events) {
  std::vector<EventRecord> out;
  std::map<std::tuple<std::string, std::string, std::string, std::string>, size_t> index;
  for (const auto& e : events) {
    auto key = std::make_tuple(e.object, e.type, e.reason, e.message);
    auto it = index.find(key);
    if (it != index.end()) {
      EventRecord& r = out[it->second];
      ++r.count;
      r.last = e.time;
      continue;
    }
    EventRecord r;
    r.type = e.type;
    r.reason = e.reason;
    r.message = e.message;
    r.source = "kubelet";
    r.first = r.last = e.time;
    absl::string_view object = e.object;
    if (absl::ConsumePrefix(&object, "pod/")) {
      r.kind = "Pod";
      size_t slash = object.find('/');
      r.namespace_ = std::string(object.substr(0, slash));
      r.name = slash == absl::string_view::npos ? "" : std::string(object.substr(slash + 1));
    } else if (absl::ConsumePrefix(&object, "file/")) {
      r.kind = "File";
      r.name = std::string(object);
    } else {
      r.name = std::string(object);
    }
    index[key] = out.size();
    out.push_back(std::move(r));
  }
  std::stable_sort(out.begin(), out.end(), [](const EventRecord& a, const EventRecord& b) { return a.last < b.last; });
  return out;
}

nlohmann::json EventListToJson(const std::vector<EventRecord>& events, const std::string& node_name) {
  nlohmann::json list = {{"kind", "EventList"}, {"apiVersion", "v1"}, {"metadata", nlohmann::json::object()}};
  list["items"] = nlohmann::json::array();
  for (const auto& e : events) {
    nlohmann::json involved = {{"kind", e.kind}, {"name", e.name}};
    if (!e.namespace_.empty()) involved["namespace"] = e.namespace_;
    nlohmann::json item = {
        {"metadata", {{"name", absl::StrCat(e.name, ".", absl::ToUnixNanos(e.first))}}},
        {"involvedObject", involved},
        {"type", e.type},
        {"reason", e.reason},
        {"message", e.message},
        {"source", {{"component", e.source}, {"host", node_name}}},
        {"firstTimestamp", FormatTimestamp(e.first)},
        {"lastTimestamp", FormatTimestamp(e.last)},
        {"count", e.count},
    };
    if (!e.namespace_.empty()) item["metadata"]["namespace"] = e.namespace_;
    list["items"].push_back(std::move(item));
  }
  return list;
}

absl::StatusOr<std::vector<EventRecord>> EventListFromJson(const std::string& json) {
  nlohmann::json list = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (list.is_discarded() || !list.is_object()) return absl::InvalidArgumentError("events: not a JSON object");
  auto items = list.find("items");
  if (items == list.end() || !items->is_array()) return absl::InvalidArgumentError("events: no \"items\" array");
  std::vector<EventRecord> out;
  for (const auto& item : *items) {
    if (!item.is_object()) return absl::InvalidArgumentError("events: an item is not an object");
    EventRecord r;
    r.type = StringField(item, "type");
    r.reason = StringField(item, "reason");
    r.message = StringField(item, "message");
    if (auto it = item.find("involvedObject"); it != item.end() && it->is_object()) {
      r.kind = StringField(*it, "kind");
      r.namespace_ = StringField(*it, "namespace");
      r.name = StringField(*it, "name");
    }
    if (auto it = item.find("source"); it != item.end() && it->is_object()) r.source = StringField(*it, "component");
    r.first = ParseTimestamp(item.value("firstTimestamp", nlohmann::json()));
    r.last = ParseTimestamp(item.value("lastTimestamp", nlohmann::json()));
    if (auto it = item.find("count"); it != item.end() && it->is_number_integer()) r.count = it->get<int>();
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace berth::agent
