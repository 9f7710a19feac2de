#include "controlplane/apiserver/bootstrap_token_auth.h"

#include <openssl/crypto.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/logging.h"
#include "controlplane/berthadm/bootstrap_token.h"

namespace berth::apiserver {
namespace {

// A base64 data field of the Secret, decoded ("" when absent or malformed).
std::string DataField(const nlohmann::json& secret, const char* key) {
  const nlohmann::json* data = secret.contains("data") ? &secret["data"] : nullptr;
  if (data == nullptr || !data->is_object() || !data->contains(key) || !(*data)[key].is_string()) return "";
  std::string out;
  if (!absl::Base64Unescape((*data)[key].get<std::string>(), &out)) return "";
  return out;
}

std::optional<UserInfo> Refuse(const std::string& id, absl::string_view why) {
  BERTH_LOG(Info) << "apiserver: bootstrap token refused" << Kv("id", id) << Kv("reason", why);
  return std::nullopt;
}

}  // namespace

bool BootstrapTokenAuthenticator::LooksLikeBootstrapToken(absl::string_view token) {
  return berthadm::ParseBootstrapToken(std::string(token)).ok();
}

std::optional<UserInfo> BootstrapTokenAuthenticator::Authenticate(absl::string_view token) const {
  auto parsed = berthadm::ParseBootstrapToken(std::string(token));
  if (!parsed.ok()) return std::nullopt;
  std::optional<nlohmann::json> secret = lookup_("bootstrap-token-" + parsed->id);
  if (!secret) return Refuse(parsed->id, "no Secret kube-system/bootstrap-token-<id>");
  if (secret->value("type", "") != "bootstrap.kubernetes.io/token") {
    return Refuse(parsed->id, "the Secret's type is not bootstrap.kubernetes.io/token");
  }
  if (secret->contains("metadata") && (*secret)["metadata"].contains("deletionTimestamp")) {
    return Refuse(parsed->id, "the Secret is being deleted");
  }
  std::string stored = DataField(*secret, "token-secret");
  if (stored.size() != parsed->secret.size() ||
      CRYPTO_memcmp(stored.data(), parsed->secret.data(), stored.size()) != 0) {
    return Refuse(parsed->id, "wrong secret");
  }
  if (DataField(*secret, "token-id") != parsed->id) return Refuse(parsed->id, "the Secret's token-id differs");
  if (DataField(*secret, "usage-bootstrap-authentication") != "true") {
    return Refuse(parsed->id, "usage-bootstrap-authentication is not \"true\"");
  }
  auto valid = berthadm::BootstrapTokenSecretValid(*secret, now_());
  if (!valid.ok()) return Refuse(parsed->id, valid.status().message());
  if (!*valid) return Refuse(parsed->id, "expired");
  UserInfo user;
  user.name = "system:bootstrap:" + parsed->id;
  user.groups = {"system:bootstrappers"};
  for (absl::string_view g : absl::StrSplit(DataField(*secret, "auth-extra-groups"), ',', absl::SkipEmpty())) {
    g = absl::StripAsciiWhitespace(g);
    // As kube-apiserver: extra groups must stay under system:bootstrappers:.
    if (!absl::StartsWith(g, "system:bootstrappers:")) {
      return Refuse(parsed->id, "auth-extra-groups names a group outside system:bootstrappers:");
    }
    user.groups.emplace_back(g);
  }
  user.groups.push_back("system:authenticated");
  return user;
}

}  // namespace berth::apiserver
