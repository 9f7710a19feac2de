// What a request is about, from its method, path and query, as
// kube-apiserver's RequestInfoFactory derives it: API group and version,
// resource, namespace, name, subresource and the verb ("get", "list",
// "watch", "create", "update", "patch", "delete", "deletecollection").
#pragma once

#include <map>
#include <string>
#include "absl/strings/string_view.h"

namespace berth::apiserver {

using QueryParams = std::multimap<std::string, std::string>;

// "a=1&b=x%20y" -> {a:1, b:"x y"}; '+' is a space.
QueryParams ParseQuery(absl::string_view query);
// The first value of `key`, or "".
std::string QueryValue(const QueryParams& params, const std::string& key);
std::string PercentDecode(absl::string_view text);

struct RequestInfo {
  bool is_resource_request = false;  // under /api/v1 or /apis/<g>/<v>/<resource>
  std::string path;
  std::string verb;  // resource verbs above, or the lower-case HTTP method
  std::string api_prefix;  // "api" or "apis"
  std::string group;
  std::string version;
  std::string namespace_;
  std::string resource;
  std::string subresource;
  std::string name;
};

RequestInfo ParseRequestInfo(absl::string_view method, absl::string_view path,
                             const QueryParams& query);

}  // namespace berth::apiserver
