// A kubeconfig as a client uses it: the current context's cluster (server,
// CA) and user (client certificate and key, or a bearer token), each read
// inline (*-data, base64) or from a file (relative paths are relative to
// the kubeconfig's directory, as kubectl resolves them).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth::client {

struct KubeconfigCredentials {
  std::string server;           // "https://127.0.0.1:6443"
  std::string ca_pem;           // empty: the system's trust store
  bool insecure_skip_tls_verify = false;
  std::string client_cert_pem;  // with client_key_pem, or neither
  std::string client_key_pem;
  std::string token;            // bearer token (may be empty)
};

// The kubeconfig in `text` (YAML or JSON); `base_dir` resolves relative file
// paths. `context` overrides current-context when not empty. Errors name the
// field ("users[0].user.client-key-data: not base64").
absl::StatusOr<KubeconfigCredentials> ParseKubeconfig(absl::string_view text, const std::string& base_dir,
                                                      const std::string& context = "");
// The file at `path`; errors name the path.
absl::StatusOr<KubeconfigCredentials> LoadKubeconfig(const std::string& path, const std::string& context = "");

}  // namespace berth::client
