#include "controlplane/berthadm/bootstrap_token.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace berth::berthadm {
namespace {

constexpr char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
constexpr size_t kIdLength = 6;
constexpr size_t kSecretLength = 16;

bool AllFromAlphabet(const std::string& s) {
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

// Uniform over the 36 characters: bytes >= 252 (7 * 36) are drawn again.
absl::StatusOr<std::string> RandomChars(size_t n) {
  std::string out;
  while (out.size() < n) {
    unsigned char buf[32];
    ssize_t got = getrandom(buf, sizeof buf, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("getrandom: ", std::strerror(errno)));
    }
    for (ssize_t i = 0; i < got && out.size() < n; ++i) {
      if (buf[i] < 252) out.push_back(kAlphabet[buf[i] % 36]);
    }
  }
  return out;
}

std::string Base64(const std::string& s) { return absl::Base64Escape(s); }

}  // namespace

absl::StatusOr<BootstrapToken> GenerateBootstrapToken() {
  BootstrapToken token;
  auto id = RandomChars(kIdLength);
  if (!id.ok()) return id.status();
  auto secret = RandomChars(kSecretLength);
  if (!secret.ok()) return secret.status();
  token.id = *id;
  token.secret = *secret;
  return token;
}

absl::StatusOr<BootstrapToken> ParseBootstrapToken(const std::string& text) {
  size_t dot = text.find('.');
  if (dot == std::string::npos || text.find('.', dot + 1) != std::string::npos) {
    return absl::InvalidArgumentError(
        "token: want the form \"[a-z0-9]{6}.[a-z0-9]{16}\" (one dot between id and secret)");
  }
  BootstrapToken token{text.substr(0, dot), text.substr(dot + 1)};
  if (token.id.size() != kIdLength || !AllFromAlphabet(token.id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("token: id \"", token.id, "\" is not 6 characters of [a-z0-9]"));
  }
  if (token.secret.size() != kSecretLength || !AllFromAlphabet(token.secret)) {
    return absl::InvalidArgumentError(
        absl::StrCat("token ", token.id, ".<secret>: the secret is not 16 characters of [a-z0-9]"));
  }
  return token;
}

nlohmann::json BootstrapTokenSecret(const BootstrapToken& token, absl::Duration ttl, absl::Time now,
                                    const std::string& description) {
  nlohmann::json data = {
      {"token-id", Base64(token.id)},
      {"token-secret", Base64(token.secret)},
      {"usage-bootstrap-authentication", Base64("true")},
      {"usage-bootstrap-signing", Base64("true")},
      {"auth-extra-groups", Base64("system:bootstrappers:kubeadm:default-node-token")},
  };
  if (!description.empty()) data["description"] = Base64(description);
  if (ttl > absl::ZeroDuration()) {
    data["expiration"] = Base64(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now + ttl, absl::UTCTimeZone()));
  }
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", "bootstrap-token-" + token.id}, {"namespace", "kube-system"}}},
          {"type", "bootstrap.kubernetes.io/token"},
          {"data", data}};
}

absl::StatusOr<bool> BootstrapTokenSecretValid(const nlohmann::json& secret, absl::Time now) {
  auto data = secret.find("data");
  if (data == secret.end() || !data->is_object()) return absl::InvalidArgumentError("secret: no data");
  auto expiration = data->find("expiration");
  if (expiration == data->end()) return true;
  std::string text;
  if (!expiration->is_string() || !absl::Base64Unescape(expiration->get<std::string>(), &text)) {
    return absl::InvalidArgumentError("data.expiration: not base64");
  }
  absl::Time when;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &when, &error)) {
    return absl::InvalidArgumentError(absl::StrCat("data.expiration: \"", text, "\" is not RFC 3339: ", error));
  }
  return now < when;
}

}  // namespace berth::berthadm
