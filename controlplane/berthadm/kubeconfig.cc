#include "controlplane/berthadm/kubeconfig.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "api/k8s/codec.h"
#include "common/fs.h"
#include "common/status_macros.h"

namespace berth::berthadm {

nlohmann::json Kubeconfig(const std::string& server, const std::string& ca_pem, const std::string& user,
                          const KeyAndCert& client, const std::string& cluster_name) {
  std::string context = absl::StrCat(user, "@", cluster_name);
  return {{"apiVersion", "v1"},
          {"kind", "Config"},
          {"clusters",
           {{{"name", cluster_name},
             {"cluster", {{"server", server}, {"certificate-authority-data", absl::Base64Escape(ca_pem)}}}}}},
          {"users",
           {{{"name", user},
             {"user",
              {{"client-certificate-data", absl::Base64Escape(client.cert_pem)},
               {"client-key-data", absl::Base64Escape(client.key_pem)}}}}}},
          {"contexts", {{{"name", context}, {"context", {{"cluster", cluster_name}, {"user", user}}}}}},
          {"current-context", context},
          {"preferences", nlohmann::json::object()}};
}

std::vector<KubeconfigFile> StandardKubeconfigs(const std::string& node_name) {
  return {{"admin.conf", "kubernetes-admin", {"system:masters"}},
          {"controller-manager.conf", "system:kube-controller-manager", {}},
          {"scheduler.conf", "system:kube-scheduler", {}},
          {"kubelet.conf", "system:node:" + node_name, {"system:nodes"}}};
}

namespace {

// The existing file's server and client certificate, when it has them.
absl::Status CheckExisting(const std::string& path, const std::string& server, const std::string& ca_pem) {
  auto refuse = [&](const std::string& why) {
    return absl::FailedPreconditionError(absl::StrCat(path, " exists but ", why, "; remove it to have it made again"));
  };
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto docs = k8s::YamlToJson(text);
  if (!docs.ok() || docs->size() != 1 || !(*docs)[0].is_object()) return refuse("is not a kubeconfig");
  const nlohmann::json& config = (*docs)[0];
  std::string got_server, cert_b64;
  if (auto c = config.find("clusters"); c != config.end() && c->is_array() && !c->empty()) {
    got_server = (*c)[0].value("/cluster/server"_json_pointer, "");
  }
  if (got_server != server) return refuse(absl::StrCat("points at \"", got_server, "\", not ", server));
  if (auto u = config.find("users"); u != config.end() && u->is_array() && !u->empty()) {
    cert_b64 = (*u)[0].value("/user/client-certificate-data"_json_pointer, "");
  }
  std::string cert_pem;
  if (!absl::Base64Unescape(cert_b64, &cert_pem) || !VerifySignedBy(cert_pem, ca_pem).ok()) {
    return refuse("its client certificate is not signed by this cluster's CA");
  }
  return absl::OkStatus();
}

}  // namespace

namespace {

absl::StatusOr<KeyAndCert> ReadCa(const std::string& pki_dir) {
  KeyAndCert ca;
  ASSIGN_OR_RETURN(ca.cert_pem, ReadFile(pki_dir + "/ca.crt"));
  ASSIGN_OR_RETURN(ca.key_pem, ReadFile(pki_dir + "/ca.key"));
  return ca;
}

// `file`'s kubeconfig at `path` with a client certificate issued now by `ca`.
absl::Status WriteWithNewClientCertificate(const std::string& path, const std::string& server, const KeyAndCert& ca,
                                           const KubeconfigFile& file, absl::Duration validity) {
  ASSIGN_OR_RETURN(KeyAndCert client,
                   IssueCertificate({.common_name = file.user, .organizations = file.groups, .client_auth = true,
                                     .validity = validity},
                                    &ca));
  return AtomicWriteFile(path, k8s::JsonToYaml(Kubeconfig(server, ca.cert_pem, file.user, client)), 0600);
}

// The server a kubeconfig file points at ("" when it names none).
absl::StatusOr<std::string> ServerOf(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto docs = k8s::YamlToJson(text);
  if (!docs.ok() || docs->size() != 1 || !(*docs)[0].is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a kubeconfig"));
  }
  const nlohmann::json& config = (*docs)[0];
  if (auto c = config.find("clusters"); c != config.end() && c->is_array() && !c->empty()) {
    return (*c)[0].value("/cluster/server"_json_pointer, "");
  }
  return std::string();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> RenewKubeconfigs(const std::string& pki_dir, const std::string& dir,
                                                          const std::vector<KubeconfigFile>& files,
                                                          absl::Duration validity) {
  ASSIGN_OR_RETURN(KeyAndCert ca, ReadCa(pki_dir));
  std::vector<std::string> renewed;
  for (const auto& f : files) {
    std::string path = absl::StrCat(dir, "/", f.file);
    if (!PathExists(path)) continue;
    ASSIGN_OR_RETURN(std::string server, ServerOf(path));
    RETURN_IF_ERROR(CheckExisting(path, server, ca.cert_pem));
    RETURN_IF_ERROR(WriteWithNewClientCertificate(path, server, ca, f, validity));
    renewed.push_back(f.file);
  }
  return renewed;
}

absl::StatusOr<std::vector<std::string>> WriteKubeconfigs(const std::string& pki_dir, const std::string& dir,
                                                          const std::string& server,
                                                          const std::vector<KubeconfigFile>& files,
                                                          absl::Duration validity) {
  ASSIGN_OR_RETURN(KeyAndCert ca, ReadCa(pki_dir));
  RETURN_IF_ERROR(MkdirAll(dir, 0755));
  std::vector<std::string> written;
  for (const auto& f : files) {
    std::string path = absl::StrCat(dir, "/", f.file);
    if (PathExists(path)) {
      RETURN_IF_ERROR(CheckExisting(path, server, ca.cert_pem));
      continue;
    }
    RETURN_IF_ERROR(WriteWithNewClientCertificate(path, server, ca, f, validity));
    written.push_back(f.file);
  }
  return written;
}

}  // namespace berth::berthadm
