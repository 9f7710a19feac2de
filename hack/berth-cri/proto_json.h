// CRI messages to and from JSON in protobuf's JSON mapping (field names in
// lowerCamelCase or as in the .proto, both accepted on input).
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/map.h"

namespace berth::cri_cli {

// Fills `message` from JSON text; `what` names the source in errors
// ("pod.json"). Unknown fields are errors, so typos do not pass silently.
absl::Status ParseJsonMessage(const std::string& text, const std::string& what,
                              google::protobuf::Message* message);

// The same, from a file.
absl::Status LoadJsonMessage(const std::string& path, google::protobuf::Message* message);

// A message as indented JSON.
absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message);

// crictl's inspect layout: {"status": <status>, "info": {<key>: <value>}},
// each info value embedded as JSON where it parses as JSON, as a string
// otherwise. Indented, ends with a newline.
absl::StatusOr<std::string> StatusWithInfoJson(
    const google::protobuf::Message& status,
    const google::protobuf::Map<std::string, std::string>& info);

}  // namespace berth::cri_cli
