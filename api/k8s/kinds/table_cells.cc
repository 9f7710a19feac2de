#include "api/k8s/kinds/table_cells.h"

#include <cstdio>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/time.h"

namespace berth::k8s::kinds {

std::optional<int64_t> ParseRfc3339(std::string_view text) {
  int y, mo, d, h, mi, s, consumed = 0;
  std::string str(text);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) != 6 ||
      consumed != 19) {
    return std::nullopt;
  }
  size_t pos = 19;
  if (pos < str.size() && str[pos] == '.') {
    ++pos;
    while (pos < str.size() && std::isdigit(static_cast<unsigned char>(str[pos]))) ++pos;
  }
  int64_t offset = 0;
  if (pos < str.size() && (str[pos] == 'Z' || str[pos] == 'z')) {
    ++pos;
  } else if (pos < str.size() && (str[pos] == '+' || str[pos] == '-')) {
    int oh, om;
    if (std::sscanf(str.c_str() + pos + 1, "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset = (oh * 3600 + om * 60) * (str[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != str.size()) return std::nullopt;
  tm parts{};
  parts.tm_year = y - 1900;
  parts.tm_mon = mo - 1;
  parts.tm_mday = d;
  parts.tm_hour = h;
  parts.tm_min = mi;
  parts.tm_sec = s;
  return static_cast<int64_t>(timegm(&parts)) - offset;
}

std::string HumanDuration(int64_t seconds) {
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 60 * 2) return absl::StrCat(seconds, "s");
  int64_t minutes = seconds / 60;
  if (minutes < 10) {
    int64_t s = seconds % 60;
    return s == 0 ? absl::StrCat(minutes, "m") : absl::StrCat(minutes, "m", s, "s");
  }
  if (minutes < 60 * 3) return absl::StrCat(minutes, "m");
  int64_t hours = seconds / 3600;
  if (hours < 8) {
    int64_t m = minutes % 60;
    return m == 0 ? absl::StrCat(hours, "h") : absl::StrCat(hours, "h", m, "m");
  }
  if (hours < 48) return absl::StrCat(hours, "h");
  if (hours < 24 * 8) {
    int64_t h = hours % 24;
    return h == 0 ? absl::StrCat(hours / 24, "d") : absl::StrCat(hours / 24, "d", h, "h");
  }
  if (hours < 24 * 365 * 2) return absl::StrCat(hours / 24, "d");
  if (hours < 24 * 365 * 8) {
    int64_t dy = (hours / 24) % 365;
    return dy == 0 ? absl::StrCat(hours / 24 / 365, "y") : absl::StrCat(hours / 24 / 365, "y", dy, "d");
  }
  return absl::StrCat(hours / 24 / 365, "y");
}

std::string AgeSince(const nlohmann::json& timestamp, int64_t now_unix) {
  if (!timestamp.is_string()) return "<unknown>";
  auto t = ParseRfc3339(timestamp.get<std::string>());
  if (!t) return "<unknown>";
  return HumanDuration(now_unix - *t);
}

std::string Age(const nlohmann::json& timestamp) {
  return AgeSince(timestamp, NowUnixNanos() / 1000000000);
}

const nlohmann::json& At(const nlohmann::json& obj, std::string_view dotted_path) {
  static const nlohmann::json kNull;
  const nlohmann::json* cur = &obj;
  size_t start = 0;
  while (start <= dotted_path.size()) {
    size_t dot = dotted_path.find('.', start);
    if (dot == std::string_view::npos) dot = dotted_path.size();
    if (!cur->is_object()) return kNull;
    auto it = cur->find(std::string(dotted_path.substr(start, dot - start)));
    if (it == cur->end()) return kNull;
    cur = &*it;
    start = dot + 1;
  }
  return *cur;
}

std::string StringAt(const nlohmann::json& obj, std::string_view dotted_path) {
  const nlohmann::json& v = At(obj, dotted_path);
  return v.is_string() ? v.get<std::string>() : "";
}

int64_t IntAt(const nlohmann::json& obj, std::string_view dotted_path) {
  const nlohmann::json& v = At(obj, dotted_path);
  return v.is_number_integer() ? v.get<int64_t>() : 0;
}

std::string JoinOrNone(const std::vector<std::string>& values) {
  return values.empty() ? "<none>" : absl::StrJoin(values, ",");
}

std::string FormatLabelSelector(const nlohmann::json& selector) {
  std::vector<std::string> parts;
  const nlohmann::json& labels = At(selector, "matchLabels");
  if (labels.is_object()) {
    for (auto it = labels.begin(); it != labels.end(); ++it) {
      parts.push_back(it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump()));
    }
  }
  const nlohmann::json& exprs = At(selector, "matchExpressions");
  if (exprs.is_array()) {
    for (const auto& e : exprs) {
      std::string key = StringAt(e, "key");
      std::string op = StringAt(e, "operator");
      std::vector<std::string> values;
      if (const auto& v = At(e, "values"); v.is_array()) {
        for (const auto& x : v) values.push_back(x.is_string() ? x.get<std::string>() : x.dump());
      }
      if (op == "In") parts.push_back(key + " in (" + absl::StrJoin(values, ",") + ")");
      else if (op == "NotIn") parts.push_back(key + " notin (" + absl::StrJoin(values, ",") + ")");
      else if (op == "Exists") parts.push_back(key);
      else if (op == "DoesNotExist") parts.push_back("!" + key);
      else parts.push_back(key + " " + op + " (" + absl::StrJoin(values, ",") + ")");
    }
  }
  return JoinOrNone(parts);
}

namespace {
std::string ContainerField(const nlohmann::json& pod_spec, const char* field) {
  std::vector<std::string> out;
  const nlohmann::json& containers = At(pod_spec, "containers");
  if (containers.is_array()) {
    for (const auto& c : containers) out.push_back(StringAt(c, field));
  }
  return absl::StrJoin(out, ",");
}
}  // namespace

std::string ContainerNames(const nlohmann::json& pod_spec) { return ContainerField(pod_spec, "name"); }
std::string ContainerImages(const nlohmann::json& pod_spec) { return ContainerField(pod_spec, "image"); }

}  // namespace berth::k8s::kinds
