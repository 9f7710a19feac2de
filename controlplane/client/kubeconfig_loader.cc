#include "controlplane/client/kubeconfig_loader.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "api/k8s/codec.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"

namespace berth::client {
namespace {

// The entry of `list` ("clusters", "users", "contexts") named `name`, with its
// index for error messages.
absl::StatusOr<std::pair<const nlohmann::json*, size_t>> Named(const nlohmann::json& config, const char* list,
                                                               const std::string& name) {
  auto it = config.find(list);
  if (it == config.end() || !it->is_array()) return absl::InvalidArgumentError(absl::StrCat(list, ": missing"));
  for (size_t i = 0; i < it->size(); ++i) {
    const nlohmann::json& entry = (*it)[i];
    if (entry.is_object() && entry.value("name", "") == name) return std::make_pair(&entry, i);
  }
  return absl::InvalidArgumentError(absl::StrCat(list, ": no entry named \"", name, "\""));
}

std::string StringField(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// `<key>-data` (base64) or `<key>` (a file), or "" when neither is set.
absl::StatusOr<std::string> DataOrFile(const nlohmann::json& object, const std::string& field_path,
                                       const std::string& key, const std::string& base_dir) {
  std::string data = StringField(object, (key + "-data").c_str());
  if (!data.empty()) {
    std::string decoded;
    if (!absl::Base64Unescape(data, &decoded)) {
      return absl::InvalidArgumentError(absl::StrCat(field_path, ".", key, "-data: not base64"));
    }
    return decoded;
  }
  std::string file = StringField(object, key.c_str());
  if (file.empty()) return std::string();
  if (file[0] != '/') file = absl::StrCat(base_dir, "/", file);
  auto text = ReadFile(file);
  if (!text.ok()) return Annotate(text.status(), absl::StrCat(field_path, ".", key));
  return *text;
}

}  // namespace

absl::StatusOr<KubeconfigCredentials> ParseKubeconfig(absl::string_view text, const std::string& base_dir,
                                                      const std::string& context) {
  auto docs = k8s::YamlToJson(std::string_view(text.data(), text.size()));
  if (!docs.ok()) return Annotate(docs.status(), "kubeconfig");
  if (docs->size() != 1 || !(*docs)[0].is_object()) {
    return absl::InvalidArgumentError("kubeconfig: want one YAML or JSON object");
  }
  const nlohmann::json& config = (*docs)[0];
  std::string context_name = context.empty() ? StringField(config, "current-context") : context;
  if (context_name.empty()) return absl::InvalidArgumentError("current-context: not set");
  ASSIGN_OR_RETURN(auto ctx, Named(config, "contexts", context_name));
  const nlohmann::json ctx_body = ctx.first->value("context", nlohmann::json::object());
  std::string cluster_name = StringField(ctx_body, "cluster");
  std::string user_name = StringField(ctx_body, "user");
  if (cluster_name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("contexts[", ctx.second, "].context.cluster: not set"));
  }

  KubeconfigCredentials creds;
  ASSIGN_OR_RETURN(auto cluster, Named(config, "clusters", cluster_name));
  std::string cluster_path = absl::StrCat("clusters[", cluster.second, "].cluster");
  const nlohmann::json cluster_body = cluster.first->value("cluster", nlohmann::json::object());
  creds.server = StringField(cluster_body, "server");
  if (creds.server.empty()) return absl::InvalidArgumentError(cluster_path + ".server: not set");
  if (!absl::StartsWith(creds.server, "https://") && !absl::StartsWith(creds.server, "http://")) {
    return absl::InvalidArgumentError(
        absl::StrCat(cluster_path, ".server: \"", creds.server, "\" is not an http(s) URL"));
  }
  while (creds.server.size() > 1 && creds.server.back() == '/') creds.server.pop_back();
  creds.insecure_skip_tls_verify = cluster_body.value("insecure-skip-tls-verify", false);
  ASSIGN_OR_RETURN(creds.ca_pem, DataOrFile(cluster_body, cluster_path, "certificate-authority", base_dir));

  if (!user_name.empty()) {
    ASSIGN_OR_RETURN(auto user, Named(config, "users", user_name));
    std::string user_path = absl::StrCat("users[", user.second, "].user");
    const nlohmann::json user_body = user.first->value("user", nlohmann::json::object());
    ASSIGN_OR_RETURN(creds.client_cert_pem, DataOrFile(user_body, user_path, "client-certificate", base_dir));
    ASSIGN_OR_RETURN(creds.client_key_pem, DataOrFile(user_body, user_path, "client-key", base_dir));
    if (creds.client_cert_pem.empty() != creds.client_key_pem.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          user_path, creds.client_cert_pem.empty() ? ".client-certificate" : ".client-key",
          ": not set (a client certificate needs its key and the key its certificate)"));
    }
    creds.token = StringField(user_body, "token");
    if (creds.token.empty() && user_body.contains("tokenFile")) {
      std::string file = StringField(user_body, "tokenFile");
      if (!file.empty() && file[0] != '/') file = absl::StrCat(base_dir, "/", file);
      auto token = ReadFile(file);
      if (!token.ok()) return Annotate(token.status(), user_path + ".tokenFile");
      creds.token = std::string(absl::StripAsciiWhitespace(*token));
    }
  }
  return creds;
}

absl::StatusOr<KubeconfigCredentials> LoadKubeconfig(const std::string& path, const std::string& context) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? std::string(".") : std::string(path, 0, std::max<size_t>(slash, 1));
  auto creds = ParseKubeconfig(text, dir, context);
  if (!creds.ok()) return Annotate(creds.status(), path);
  return creds;
}

}  // namespace berth::client
