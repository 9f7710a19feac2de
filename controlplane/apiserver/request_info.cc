#include "controlplane/apiserver/request_info.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

namespace berth::apiserver {

std::string PercentDecode(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < text.size() + 0 && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

QueryParams ParseQuery(absl::string_view query) {
  QueryParams params;
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    size_t eq = pair.find('=');
    if (eq == absl::string_view::npos) {
      params.emplace(PercentDecode(pair), "");
    } else {
      params.emplace(PercentDecode(pair.substr(0, eq)), PercentDecode(pair.substr(eq + 1)));
    }
  }
  return params;
}

std::string QueryValue(const QueryParams& params, const std::string& key) {
  auto it = params.find(key);
  return it == params.end() ? "" : it->second;
}

RequestInfo ParseRequestInfo(absl::string_view method, absl::string_view path,
                             const QueryParams& query) {
  RequestInfo info;
  info.path = std::string(path);
  info.verb = absl::AsciiStrToLower(method);
  std::vector<std::string> parts = absl::StrSplit(path, '/', absl::SkipEmpty());
  if (parts.size() < 2 || (parts[0] != "api" && parts[0] != "apis")) return info;
  info.api_prefix = parts[0];
  size_t i = 1;
  if (parts[0] == "apis") {
    if (parts.size() < 3) return info;
    info.group = parts[1];
    i = 2;
  }
  info.version = parts[i++];
  std::vector<std::string> rest(parts.begin() + i, parts.end());
  if (rest.empty()) return info;
  info.is_resource_request = true;

  std::string upper = absl::AsciiStrToUpper(method);
  if (upper == "POST") info.verb = "create";
  else if (upper == "GET" || upper == "HEAD") info.verb = "get";
  else if (upper == "PUT") info.verb = "update";
  else if (upper == "PATCH") info.verb = "patch";
  else if (upper == "DELETE") info.verb = "delete";
  else info.verb = "";

  bool watch_path = false;
  if (rest[0] == "watch") {
    watch_path = true;
    rest.erase(rest.begin());
    if (rest.empty()) {
      info.is_resource_request = false;
      return info;
    }
  }
  if (rest[0] == "namespaces" && rest.size() > 1) {
    info.namespace_ = rest[1];
    // /namespaces/<ns>/<resource>/...; but status and finalize are the
    // namespace's own subresources.
    if (rest.size() > 2 && rest[2] != "status" && rest[2] != "finalize") {
      rest.erase(rest.begin(), rest.begin() + 2);
    }
  }
  info.resource = rest[0];
  if (rest.size() >= 2) info.name = rest[1];
  if (rest.size() >= 3) info.subresource = rest[2];
  if (rest.size() > 3) {
    // Deeper paths (proxy) are kept in the subresource.
    for (size_t k = 3; k < rest.size(); ++k) info.subresource += "/" + rest[k];
  }
  if (info.resource == "namespaces" && rest.size() >= 2) info.namespace_ = info.name;

  if (watch_path && info.verb == "get") {
    info.verb = "watch";
  } else if (info.verb == "get" && info.name.empty()) {
    std::string watch = QueryValue(query, "watch");
    info.verb = (watch == "1" || watch == "true") ? "watch" : "list";
  } else if (info.verb == "delete" && info.name.empty()) {
    info.verb = "deletecollection";
  }
  return info;
}

}  // namespace berth::apiserver
