#include "controlplane/berthadm/token_operations.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "controlplane/berthadm/cluster_info.h"
#include "controlplane/berthadm/cluster_info_jws.h"

namespace berth::berthadm {
namespace {

using json = nlohmann::json;
namespace res = client::resources;

constexpr char kClusterInfoNamespace[] = "kube-public";
constexpr char kClusterInfoName[] = "cluster-info";
constexpr char kTokenPrefix[] = "bootstrap-token-";

std::string DecodedField(const json& data, const std::string& key) {
  auto it = data.find(key);
  std::string out;
  if (it == data.end() || !it->is_string() || !absl::Base64Unescape(it->get<std::string>(), &out)) return "";
  return out;
}

// Applies `edit` to cluster-info's data and writes it back (retried on a
// conflict); nothing when cluster-info does not exist.
absl::Status EditClusterInfo(client::ApiClient& api, const std::function<void(json& data)>& edit) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto current = api.Get(res::kConfigMaps, kClusterInfoNamespace, kClusterInfoName);
    if (absl::IsNotFound(current.status())) return absl::OkStatus();
    if (!current.ok()) return current.status();
    json updated = *current;
    if (!updated.contains("data") || !updated["data"].is_object()) updated["data"] = json::object();
    edit(updated["data"]);
    auto written = api.Update(res::kConfigMaps, kClusterInfoNamespace, updated);
    if (written.ok()) return absl::OkStatus();
    if (!absl::IsAborted(written.status())) {
      return absl::Status(written.status().code(),
                          absl::StrCat("update kube-public/cluster-info: ", written.status().message()));
    }
  }
  return absl::AbortedError("update kube-public/cluster-info: kept conflicting with other writers");
}

std::string Ttl(absl::Duration left) {
  if (left <= absl::ZeroDuration()) return "<invalid>";
  int64_t hours = absl::ToInt64Hours(left);
  if (hours >= 48) return absl::StrCat(hours / 24, "d");
  if (hours >= 1) return absl::StrCat(hours, "h");
  return absl::StrCat(absl::ToInt64Minutes(left), "m");
}

}  // namespace

absl::Status UploadClusterInfo(client::ApiClient& api, const std::string& server, const std::string& ca_pem,
                               const std::vector<BootstrapToken>& tokens) {
  json config_map = ClusterInfoConfigMap(ClusterInfoKubeconfig(server, ca_pem), tokens);
  auto created = api.Create(res::kConfigMaps, kClusterInfoNamespace, config_map);
  if (created.ok()) return absl::OkStatus();
  if (!absl::IsAlreadyExists(created.status())) {
    return absl::Status(created.status().code(),
                        absl::StrCat("create kube-public/cluster-info: ", created.status().message()));
  }
  return EditClusterInfo(api, [&](json& data) { data = config_map["data"]; });
}

absl::Status CreateToken(client::ApiClient& api, const BootstrapToken& token, absl::Duration ttl,
                         const std::string& description, absl::Time now) {
  auto created = api.Create(res::kSecrets, "kube-system", BootstrapTokenSecret(token, ttl, now, description));
  if (!created.ok()) {
    return absl::Status(created.status().code(),
                        absl::StrCat("create the Secret of token ", token.id, ": ", created.status().message()));
  }
  return EditClusterInfo(api, [&](json& data) {
    if (data.contains("kubeconfig") && data["kubeconfig"].is_string()) {
      data[ClusterInfoSignatureKey(token.id)] = SignDetachedJws(data["kubeconfig"].get<std::string>(), token);
    }
  });
}

absl::StatusOr<std::vector<TokenRow>> ListTokens(client::ApiClient& api, absl::Time now) {
  client::ListOptions options;
  options.field_selector = "type=bootstrap.kubernetes.io/token";
  auto list = api.List(res::kSecrets, "kube-system", options);
  if (absl::IsInvalidArgument(list.status())) list = api.List(res::kSecrets, "kube-system");  // no field index
  if (!list.ok()) {
    return absl::Status(list.status().code(), absl::StrCat("list kube-system secrets: ", list.status().message()));
  }
  std::vector<TokenRow> rows;
  for (const json& secret : (*list)["items"]) {
    if (secret.value("type", "") != "bootstrap.kubernetes.io/token") continue;
    const json& data = secret.contains("data") ? secret["data"] : json::object();
    TokenRow row;
    row.token = absl::StrCat(DecodedField(data, "token-id"), ".", DecodedField(data, "token-secret"));
    std::string expiration = DecodedField(data, "expiration");
    if (expiration.empty()) {
      row.ttl = "<forever>";
      row.expires = "<never>";
    } else {
      absl::Time at;
      std::string error;
      row.expires = expiration;
      row.ttl = absl::ParseTime(absl::RFC3339_full, expiration, &at, &error) ? Ttl(at - now) : "<invalid>";
    }
    std::vector<std::string> usages;
    for (const auto& [key, value] : data.items()) {
      if (absl::StartsWith(key, "usage-bootstrap-") && DecodedField(data, key) == "true") {
        usages.push_back(key.substr(std::string("usage-bootstrap-").size()));
      }
    }
    std::sort(usages.begin(), usages.end());
    row.usages = absl::StrJoin(usages, ",");
    row.description = DecodedField(data, "description");
    row.extra_groups = DecodedField(data, "auth-extra-groups");
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [](const TokenRow& a, const TokenRow& b) { return a.token < b.token; });
  return rows;
}

std::string TokenTable(const std::vector<TokenRow>& rows) {
  std::string out = absl::StrFormat("%-24s %-10s %-21s %-24s %-24s %s\n", "TOKEN", "TTL", "EXPIRES", "USAGES",
                                    "DESCRIPTION", "EXTRA GROUPS");
  for (const TokenRow& r : rows) {
    absl::StrAppend(&out, absl::StrFormat("%-24s %-10s %-21s %-24s %-24s %s\n", r.token, r.ttl, r.expires, r.usages,
                                          r.description.empty() ? "<none>" : r.description, r.extra_groups));
  }
  return out;
}

absl::Status DeleteToken(client::ApiClient& api, const std::string& id_or_token) {
  std::string id = id_or_token;
  if (id_or_token.find('.') != std::string::npos) {
    ASSIGN_OR_RETURN(BootstrapToken token, ParseBootstrapToken(id_or_token));
    id = token.id;
  } else if (id.size() != 6 || !std::all_of(id.begin(), id.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
             })) {
    return absl::InvalidArgumentError(
        absl::StrCat("token id \"", id_or_token, "\": want 6 characters of [a-z0-9], or the whole token"));
  }
  auto deleted = api.Delete(res::kSecrets, "kube-system", kTokenPrefix + id);
  if (absl::IsNotFound(deleted.status())) return absl::NotFoundError(absl::StrCat("no bootstrap token with id ", id));
  if (!deleted.ok()) {
    return absl::Status(deleted.status().code(), absl::StrCat("delete token ", id, ": ", deleted.status().message()));
  }
  return EditClusterInfo(api, [&](json& data) { data.erase(ClusterInfoSignatureKey(id)); });
}

}  // namespace berth::berthadm
