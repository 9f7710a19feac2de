#include "runtime-shim/streaming/exec_status.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace berth::streaming {

std::string SuccessStatusJson() {
  nlohmann::json status = {{"metadata", nlohmann::json::object()}, {"status", "Success"}};
  return status.dump();
}

std::string NonZeroExitStatusJson(int exit_code) {
  nlohmann::json status = {
      {"metadata", nlohmann::json::object()},
      {"status", "Failure"},
      {"message", absl::StrCat("command terminated with non-zero exit code: ", exit_code)},
      {"reason", "NonZeroExitCode"},
      {"details", {{"causes", {{{"reason", "ExitCode"}, {"message", absl::StrCat(exit_code)}}}}}},
  };
  return status.dump();
}

std::string InternalErrorStatusJson(const std::string& message) {
  nlohmann::json status = {
      {"metadata", nlohmann::json::object()},
      {"status", "Failure"},
      {"message", message},
      {"reason", "InternalError"},
      {"code", 500},
  };
  return status.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace berth::streaming
