#include "controlplane/apiserver/discovery.h"

#include "absl/strings/str_cat.h"

namespace berth::apiserver {

using nlohmann::json;

namespace {

void AddGroupVersion(std::vector<std::pair<std::string, std::vector<std::string>>>& groups,
                     const std::string& group, const std::string& version) {
  for (auto& [g, versions] : groups) {
    if (g != group) continue;
    for (const auto& v : versions) {
      if (v == version) return;
    }
    versions.push_back(version);
    return;
  }
  groups.push_back({group, {version}});
}

json SubresourceEntry(const k8s::kinds::KindInfo& k, const std::string& sub) {
  json r = {{"name", absl::StrCat(k.resource, "/", sub)}, {"singularName", ""}, {"namespaced", k.namespaced},
            {"kind", k.kind}};
  if (sub == "status") {
    r["verbs"] = {"get", "patch", "update"};
  } else if (sub == "scale") {
    r["group"] = "autoscaling";
    r["version"] = "v1";
    r["kind"] = "Scale";
    r["verbs"] = {"get", "patch", "update"};
  } else if (sub == "binding") {
    r["kind"] = "Binding";
    r["verbs"] = {"create"};
  } else if (sub == "log") {
    r["verbs"] = {"get"};
  } else if (sub == "exec" || sub == "attach") {
    r["kind"] = sub == "exec" ? "PodExecOptions" : "PodAttachOptions";
    r["verbs"] = {"create", "get"};
  } else if (sub == "portforward") {
    r["kind"] = "PodPortForwardOptions";
    r["verbs"] = {"create", "get"};
  } else if (sub == "finalize") {
    r["verbs"] = {"update"};
  } else if (sub == "eviction") {
    r["group"] = "policy";
    r["version"] = "v1";
    r["kind"] = "Eviction";
    r["verbs"] = {"create"};
  } else {
    r["verbs"] = {"get"};
  }
  return r;
}

}  // namespace

Discovery::Discovery(const std::vector<k8s::kinds::KindInfo>& kinds, std::vector<ExtraResource> extra)
    : kinds_(kinds), extra_(std::move(extra)) {
  for (const auto& k : kinds_) {
    if (!k.group.empty()) AddGroupVersion(groups_, k.group, k.version);
  }
  for (const auto& e : extra_) {
    if (!e.group.empty()) AddGroupVersion(groups_, e.group, e.version);
  }
}

json Discovery::CoreVersions(const std::string& server_address) const {
  return {{"kind", "APIVersions"},
          {"versions", {"v1"}},
          {"serverAddressByClientCIDRs", {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address}}}}};
}

json Discovery::Groups() const {
  json groups = json::array();
  for (const auto& [group, versions] : groups_) {
    json list = json::array();
    for (const auto& v : versions) list.push_back({{"groupVersion", absl::StrCat(group, "/", v)}, {"version", v}});
    groups.push_back({{"name", group},
                      {"versions", list},
                      {"preferredVersion", {{"groupVersion", absl::StrCat(group, "/", versions[0])},
                                            {"version", versions[0]}}}});
  }
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

std::optional<json> Discovery::Resources(const std::string& group, const std::string& version) const {
  json resources = json::array();
  bool served = false;
  for (const auto& k : kinds_) {
    if (k.group != group || k.version != version) continue;
    served = true;
    json r = {{"name", k.resource}, {"singularName", k.singular}, {"namespaced", k.namespaced},
              {"kind", k.kind},     {"verbs", k.verbs}};
    if (!k.short_names.empty()) r["shortNames"] = k.short_names;
    if (!k.categories.empty()) r["categories"] = k.categories;
    resources.push_back(r);
    for (const auto& sub : k.subresources) resources.push_back(SubresourceEntry(k, sub));
  }
  for (const auto& e : extra_) {
    if (e.group != group || e.version != version) continue;
    served = true;
    resources.push_back(e.resource);
  }
  if (!served) return std::nullopt;
  std::string gv = group.empty() ? version : absl::StrCat(group, "/", version);
  return json{{"kind", "APIResourceList"}, {"apiVersion", "v1"}, {"groupVersion", gv}, {"resources", resources}};
}

}  // namespace berth::apiserver
