// Shared pieces of berth's CNI plugins: the CNI_* environment and stdin
// config, the VERSION answer, and errors as the CNI error object.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace berth::cniplugin {

// CNI error codes (spec "Error" section).
inline constexpr int kIncompatibleVersion = 1;
inline constexpr int kUnsupportedField = 2;
inline constexpr int kUnknownContainer = 3;
inline constexpr int kInvalidEnv = 4;
inline constexpr int kIoFailure = 5;
inline constexpr int kDecodeFailure = 6;
inline constexpr int kInvalidConfig = 7;
inline constexpr int kTryAgainLater = 11;
inline constexpr int kPluginSpecific = 100;  // 100+: our own

// Versions every berth plugin speaks.
const std::vector<std::string>& SupportedVersions();

// A Status carrying a CNI error code (kept in a payload); `details` optional.
absl::Status CniError(int code, absl::string_view msg, absl::string_view details = "");

// The CNI code of `status`: its payload, else from the absl code
// (InvalidArgument -> 7, Unavailable -> 11, else 999 generic).
int CniCode(const absl::Status& status);

// {"cniVersion", "code", "msg", "details"} for `status`.
nlohmann::json ErrorJson(const absl::Status& status, const std::string& cni_version);

struct PluginArgs {
  std::string command;       // ADD, DEL, CHECK, GC, STATUS, VERSION
  std::string container_id;  // CNI_CONTAINERID
  std::string netns;         // CNI_NETNS (may be empty on DEL)
  std::string ifname;        // CNI_IFNAME
  std::string args;          // CNI_ARGS
  std::string path;          // CNI_PATH
  nlohmann::json config;     // the stdin network config
  std::string cni_version;   // config's cniVersion
};

// Reads CNI_* from `getenv` and the config from `stdin_data`: missing or
// bad variables are code 4, unparsable stdin 6, a config without a usable
// cniVersion / name 7, an unsupported version 1. VERSION needs no config.
absl::StatusOr<PluginArgs> ParseArgs(const std::function<const char*(const char*)>& getenv,
                                     absl::string_view stdin_data);

// The VERSION answer.
nlohmann::json VersionJson(const std::string& cni_version);

// True when `version` (e.g. "0.3.1") is older than `than` ("0.4.0").
bool VersionLess(const std::string& version, const std::string& than);

// One handler per command; each returns the JSON to print (null: nothing).
struct Handlers {
  std::function<absl::StatusOr<nlohmann::json>(const PluginArgs&)> add, del, check, gc, status;
};

// The whole main(): parses, dispatches, prints the result or the error
// object on stdout; returns the exit code (0, or 1 on error).
int RunPlugin(const Handlers& handlers);

}  // namespace berth::cniplugin
