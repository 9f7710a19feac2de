#include "runtime-shim/image/registry/registry_config_file.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "runtime-shim/image/reference.h"

namespace berth::image::registry {
namespace {

// "host", "host:port", "[v6]:port": what a registry host may look like.
bool IsHostPort(absl::string_view s) {
  if (s.empty()) return false;
  absl::string_view host = s, port;
  if (s[0] == '[') {
    size_t close = s.find(']');
    if (close == absl::string_view::npos || close == 1) return false;
    for (char c : s.substr(1, close - 1)) {
      if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
    }
    absl::string_view rest = s.substr(close + 1);
    if (rest.empty()) return true;
    if (rest[0] != ':') return false;
    port = rest.substr(1);
    host = "";
  } else if (size_t colon = s.rfind(':'); colon != absl::string_view::npos) {
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (port.empty()) return false;
  }
  if (!port.empty()) {
    int n = 0;
    if (!absl::SimpleAtoi(port, &n) || n < 1 || n > 65535) return false;
    for (char c : port) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    }
  }
  if (s[0] == '[') return true;
  if (host.empty() || host.front() == '.' || host.front() == '-' || host.back() == '.') return false;
  for (char c : host) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') return false;
  }
  return true;
}

std::string Shown(const YAML::Node& node) {
  if (node.IsScalar()) return absl::StrCat("\"", node.Scalar(), "\"");
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return "null";
}

absl::Status Bad(const std::string& source, const std::string& path, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(source, ": ", path, ": ", why));
}

absl::StatusOr<std::string> String(const YAML::Node& node, const std::string& source, const std::string& path) {
  if (!node.IsScalar()) return Bad(source, path, absl::StrCat("must be a string, not ", Shown(node)));
  return node.Scalar();
}

absl::StatusOr<bool> Bool(const YAML::Node& node, const std::string& source, const std::string& path) {
  if (node.IsScalar()) {
    std::string v = absl::AsciiStrToLower(node.Scalar());
    if (v == "true") return true;
    if (v == "false") return false;
  }
  return Bad(source, path, absl::StrCat(Shown(node), " is not true or false"));
}

absl::Status ParseAuth(const YAML::Node& node, const std::string& source, const std::string& path, HostConfig& hc) {
  if (!node.IsMap()) return Bad(source, path, absl::StrCat("must be a mapping, not ", Shown(node)));
  for (const auto& kv : node) {
    std::string key = kv.first.Scalar();
    std::string at = absl::StrCat(path, ".", key);
    if (key == "username") {
      ASSIGN_OR_RETURN(hc.username, String(kv.second, source, at));
    } else if (key == "password") {
      ASSIGN_OR_RETURN(hc.password, String(kv.second, source, at));
    } else if (key == "identity_token") {
      ASSIGN_OR_RETURN(hc.identity_token, String(kv.second, source, at));
    } else {
      return Bad(source, at, "unknown key (want username, password or identity_token)");
    }
  }
  if (!hc.identity_token.empty() && (!hc.username.empty() || !hc.password.empty())) {
    return Bad(source, path, "identity_token and username/password exclude each other");
  }
  if (hc.identity_token.empty() && hc.username.empty() != hc.password.empty()) {
    return Bad(source, path, "username and password go together");
  }
  return absl::OkStatus();
}

absl::Status ParseHost(const YAML::Node& node, const std::string& source, const std::string& path, HostConfig& hc) {
  if (node.IsNull()) return absl::OkStatus();
  if (!node.IsMap()) return Bad(source, path, absl::StrCat("must be a mapping, not ", Shown(node)));
  for (const auto& kv : node) {
    std::string key = kv.first.Scalar();
    std::string at = absl::StrCat(path, ".", key);
    if (key == "mirrors") {
      if (!kv.second.IsSequence()) return Bad(source, at, absl::StrCat("must be a list, not ", Shown(kv.second)));
      for (size_t i = 0; i < kv.second.size(); ++i) {
        std::string item_path = absl::StrCat(at, "[", i, "]");
        ASSIGN_OR_RETURN(std::string mirror, String(kv.second[i], source, item_path));
        absl::string_view m = absl::StripSuffix(mirror, "/");
        if (!absl::ConsumePrefix(&m, "https://")) absl::ConsumePrefix(&m, "http://");
        if (!IsHostPort(m)) {
          return Bad(source, item_path,
                     absl::StrCat("\"", mirror, "\" is not [http://|https://]host[:port] (no path)"));
        }
        hc.mirrors.push_back(mirror);
      }
    } else if (key == "auth") {
      RETURN_IF_ERROR(ParseAuth(kv.second, source, at, hc));
    } else if (key == "ca_file") {
      ASSIGN_OR_RETURN(hc.ca_file, String(kv.second, source, at));
      if (hc.ca_file.empty() || hc.ca_file[0] != '/') {
        return Bad(source, at, absl::StrCat("\"", hc.ca_file, "\" must be an absolute path"));
      }
      if (::access(hc.ca_file.c_str(), R_OK) != 0) {
        return Bad(source, at, absl::StrCat("\"", hc.ca_file, "\" is not a readable file"));
      }
    } else if (key == "insecure") {
      ASSIGN_OR_RETURN(hc.insecure, Bool(kv.second, source, at));
    } else {
      return Bad(source, at, "unknown key (want mirrors, auth, ca_file or insecure)");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RegistryConfig> ParseRegistryConfig(const std::string& text, const std::string& source) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not YAML: ", e.what()));
  }
  RegistryConfig config;
  if (root.IsNull()) return config;
  if (!root.IsMap()) return Bad(source, "(top level)", absl::StrCat("must be a mapping, not ", Shown(root)));
  for (const auto& kv : root) {
    std::string key = kv.first.Scalar();
    if (key != "registries") return Bad(source, key, "unknown key (want registries)");
    if (kv.second.IsNull()) continue;
    if (!kv.second.IsMap()) {
      return Bad(source, "registries", absl::StrCat("must be a mapping of host to settings, not ", Shown(kv.second)));
    }
    for (const auto& host : kv.second) {
      std::string name = host.first.Scalar();
      std::string path = absl::StrCat("registries.", name);
      if (!IsHostPort(name)) {
        return Bad(source, path, absl::StrCat("\"", name, "\" is not a registry host[:port]"));
      }
      if (config.hosts.count(name)) return Bad(source, path, "given twice");
      RETURN_IF_ERROR(ParseHost(host.second, source, path, config.hosts[name]));
    }
  }
  return config;
}

absl::StatusOr<RegistryConfig> LoadRegistryConfig(const std::string& path, bool missing_ok) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (absl::IsNotFound(text.status()) && missing_ok) return RegistryConfig{};
  if (!text.ok()) return text.status();
  return ParseRegistryConfig(*text, path);
}

absl::Status AddInsecureHosts(RegistryConfig& config, const std::vector<std::string>& hosts) {
  for (const std::string& host : hosts) {
    if (!IsHostPort(host)) {
      return absl::InvalidArgumentError(absl::StrCat("--insecure-registry: \"", host, "\" is not host[:port]"));
    }
  }
  for (const std::string& host : hosts) config.hosts[host].insecure = true;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ResolveManifestUrls(const RegistryConfig& config,
                                                             const std::string& reference) {
  ASSIGN_OR_RETURN(Reference ref, ParseReference(reference));
  std::string target = ref.digest.empty() ? ref.tag : ref.digest;
  std::vector<std::string> urls;
  for (const Endpoint& ep : EndpointsFor(config, ref.repository)) {
    urls.push_back(absl::StrCat(ep.base, "/v2/", RepositoryPath(ref.repository), "/manifests/", target));
  }
  return urls;
}

}  // namespace berth::image::registry
