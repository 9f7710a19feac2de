#include "cni-plugins/common/plugin.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <optional>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace berth::cniplugin {
namespace {

constexpr char kCodePayload[] = "berth.dev/cni-error-code";
constexpr char kDetailsPayload[] = "berth.dev/cni-error-details";

std::vector<int> VersionParts(const std::string& v) {
  std::vector<int> out;
  for (absl::string_view p : absl::StrSplit(v, '.')) {
    int n = 0;
    out.push_back(absl::SimpleAtoi(p, &n) ? n : 0);
  }
  while (out.size() < 3) out.push_back(0);
  return out;
}

}  // namespace

const std::vector<std::string>& SupportedVersions() {
  static const auto* versions =
      new std::vector<std::string>{"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"};
  return *versions;
}

bool VersionLess(const std::string& version, const std::string& than) {
  return VersionParts(version) < VersionParts(than);
}

absl::Status CniError(int code, absl::string_view msg, absl::string_view details) {
  absl::StatusCode sc = absl::StatusCode::kInternal;
  if (code == kInvalidConfig || code == kInvalidEnv || code == kDecodeFailure) {
    sc = absl::StatusCode::kInvalidArgument;
  } else if (code == kTryAgainLater) {
    sc = absl::StatusCode::kUnavailable;
  }
  absl::Status status(sc, msg);
  status.SetPayload(kCodePayload, absl::Cord(absl::StrCat(code)));
  if (!details.empty()) status.SetPayload(kDetailsPayload, absl::Cord(details));
  return status;
}

int CniCode(const absl::Status& status) {
  if (auto payload = status.GetPayload(kCodePayload)) {
    int code = 0;
    if (absl::SimpleAtoi(std::string(*payload), &code)) return code;
  }
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return kInvalidConfig;
    case absl::StatusCode::kUnavailable:
      return kTryAgainLater;
    default:
      return 999;
  }
}

nlohmann::json ErrorJson(const absl::Status& status, const std::string& cni_version) {
  nlohmann::json out = {{"cniVersion", cni_version.empty() ? "1.1.0" : cni_version},
                        {"code", CniCode(status)},
                        {"msg", std::string(status.message())}};
  if (auto details = status.GetPayload(kDetailsPayload)) out["details"] = std::string(*details);
  return out;
}

nlohmann::json VersionJson(const std::string& cni_version) {
  return {{"cniVersion", cni_version.empty() ? "1.1.0" : cni_version},
          {"supportedVersions", SupportedVersions()}};
}

absl::StatusOr<PluginArgs> ParseArgs(const std::function<const char*(const char*)>& getenv,
                                     absl::string_view stdin_data) {
  auto env = [&](const char* name) {
    const char* v = getenv(name);
    return v == nullptr ? std::string() : std::string(v);
  };
  PluginArgs args;
  args.command = env("CNI_COMMAND");
  if (args.command.empty()) return CniError(kInvalidEnv, "CNI_COMMAND is not set");
  if (args.command == "VERSION") {
    // The config may carry a cniVersion; anything else is ignored.
    auto j = nlohmann::json::parse(stdin_data, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("cniVersion") && j["cniVersion"].is_string()) {
      args.cni_version = j["cniVersion"].get<std::string>();
    }
    return args;
  }
  static const char* const kKnown[] = {"ADD", "DEL", "CHECK", "GC", "STATUS"};
  if (std::find(std::begin(kKnown), std::end(kKnown), args.command) == std::end(kKnown)) {
    return CniError(kInvalidEnv, absl::StrCat("unknown CNI_COMMAND \"", args.command, "\""));
  }
  args.container_id = env("CNI_CONTAINERID");
  args.netns = env("CNI_NETNS");
  args.ifname = env("CNI_IFNAME");
  args.args = env("CNI_ARGS");
  args.path = env("CNI_PATH");
  bool per_container = args.command == "ADD" || args.command == "DEL" || args.command == "CHECK";
  if (per_container) {
    if (args.container_id.empty()) return CniError(kInvalidEnv, "CNI_CONTAINERID is not set");
    if (args.ifname.empty()) return CniError(kInvalidEnv, "CNI_IFNAME is not set");
    // The spec's container id syntax, and a Linux interface name.
    bool id_ok = std::isalnum(static_cast<unsigned char>(args.container_id[0])) != 0;
    for (char c : args.container_id) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') id_ok = false;
    }
    if (!id_ok) {
      return CniError(kInvalidEnv, absl::StrCat("CNI_CONTAINERID \"", args.container_id,
                                                "\" is not [a-zA-Z0-9][a-zA-Z0-9_.-]*"));
    }
    bool ifname_ok = args.ifname.size() < 16 && args.ifname != "." && args.ifname != "..";
    for (char c : args.ifname) {
      if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c))) ifname_ok = false;
    }
    if (!ifname_ok) {
      return CniError(kInvalidEnv, absl::StrCat("CNI_IFNAME \"", args.ifname, "\" is not a valid interface name"));
    }
    if (args.command != "DEL" && args.netns.empty()) {
      return CniError(kInvalidEnv, "CNI_NETNS is not set");
    }
  }
  args.config = nlohmann::json::parse(stdin_data, nullptr, false);
  if (args.config.is_discarded()) {
    return CniError(kDecodeFailure, "cannot decode the network config on stdin as JSON");
  }
  if (!args.config.is_object()) {
    return CniError(kDecodeFailure, "the network config on stdin must be a JSON object");
  }
  auto version = args.config.find("cniVersion");
  if (version == args.config.end() || !version->is_string()) {
    return CniError(kInvalidConfig, "network config: cniVersion must be a string");
  }
  args.cni_version = version->get<std::string>();
  const auto& supported = SupportedVersions();
  if (std::find(supported.begin(), supported.end(), args.cni_version) == supported.end()) {
    return CniError(kIncompatibleVersion,
                    absl::StrCat("unsupported cniVersion \"", args.cni_version, "\""),
                    absl::StrCat("supported: ", absl::StrJoin(supported, ", ")));
  }
  auto name = args.config.find("name");
  if (name == args.config.end() || !name->is_string() || name->get<std::string>().empty()) {
    return CniError(kInvalidConfig, "network config: name must be a non-empty string");
  }
  return args;
}

int RunPlugin(const Handlers& handlers) {
  std::string input;
  if (!isatty(STDIN_FILENO)) {
    char buf[16384];
    for (;;) {
      ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      input.append(buf, static_cast<size_t>(n));
    }
  }
  auto args = ParseArgs([](const char* n) { return std::getenv(n); }, input);
  std::string version;
  auto fail = [&](const absl::Status& status) {
    std::cout << ErrorJson(status, version).dump() << std::endl;
    return 1;
  };
  if (!args.ok()) return fail(args.status());
  version = args->cni_version;
  if (args->command == "VERSION") {
    std::cout << VersionJson(version).dump() << std::endl;
    return 0;
  }
  const std::function<absl::StatusOr<nlohmann::json>(const PluginArgs&)>* handler = nullptr;
  if (args->command == "ADD") handler = &handlers.add;
  if (args->command == "DEL") handler = &handlers.del;
  if (args->command == "CHECK") handler = &handlers.check;
  if (args->command == "GC") handler = &handlers.gc;
  if (args->command == "STATUS") handler = &handlers.status;
  if (handler == nullptr || !*handler) {
    if (args->command == "GC" || args->command == "STATUS") return 0;  // nothing to do
    return fail(CniError(kInvalidEnv, absl::StrCat(args->command, " is not supported")));
  }
  auto out = (*handler)(*args);
  if (!out.ok()) return fail(out.status());
  if (!out->is_null()) std::cout << out->dump() << std::endl;
  return 0;
}

}  // namespace berth::cniplugin
