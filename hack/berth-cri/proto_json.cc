#include "hack/berth-cri/proto_json.h"

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/fs.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"

namespace berth::cri_cli {

absl::Status ParseJsonMessage(const std::string& text, const std::string& what,
                              google::protobuf::Message* message) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(text, message, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": not a ", message->GetTypeName(),
                                                   " in protobuf JSON: ", status.message().as_string()));
  }
  return absl::OkStatus();
}

absl::Status LoadJsonMessage(const std::string& path, google::protobuf::Message* message) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return Annotate(text.status(), "read " + path);
  return ParseJsonMessage(*text, path, message);
}

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  std::string out;
  auto status = google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("print ", message.GetTypeName(), " as JSON: ", status.message().as_string()));
  }
  return out;
}

absl::StatusOr<std::string> StatusWithInfoJson(
    const google::protobuf::Message& status,
    const google::protobuf::Map<std::string, std::string>& info) {
  std::string status_text;
  auto printed = google::protobuf::util::MessageToJsonString(status, &status_text);
  if (!printed.ok()) {
    return absl::InternalError(
        absl::StrCat("print ", status.GetTypeName(), " as JSON: ", printed.message().as_string()));
  }
  nlohmann::ordered_json out;
  out["status"] = nlohmann::ordered_json::parse(status_text);
  nlohmann::ordered_json info_json = nlohmann::ordered_json::object();
  // Sorted keys: the protobuf map has no stable order.
  std::map<std::string, std::string> sorted(info.begin(), info.end());
  for (const auto& [key, value] : sorted) {
    nlohmann::ordered_json parsed = nlohmann::ordered_json::parse(value, nullptr, false);
    info_json[key] = parsed.is_discarded() ? nlohmann::ordered_json(value) : parsed;
  }
  out["info"] = std::move(info_json);
  return out.dump(2) + "\n";
}

}  // namespace berth::cri_cli
