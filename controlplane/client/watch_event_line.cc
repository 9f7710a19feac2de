#include "controlplane/client/watch_event_line.h"

#include "absl/strings/str_cat.h"

namespace berth::client {

absl::StatusOr<WatchEvent> DecodeWatchEventLine(absl::string_view line) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (!j.is_object() || !j.contains("type")) {
    return absl::DataLossError(absl::StrCat("watch: not a watch event: ", line.substr(0, 200)));
  }
  std::string type = j.value("type", "");
  WatchEvent event;
  if (type == "ADDED") {
    event.type = WatchEvent::Type::kAdded;
  } else if (type == "MODIFIED") {
    event.type = WatchEvent::Type::kModified;
  } else if (type == "DELETED") {
    event.type = WatchEvent::Type::kDeleted;
  } else if (type == "BOOKMARK") {
    event.type = WatchEvent::Type::kBookmark;
  } else if (type == "ERROR") {
    const nlohmann::json status = j.value("object", nlohmann::json::object());
    return StatusFromApi(status.value("code", 500), status.value("reason", ""), status.value("message", ""));
  } else {
    return absl::DataLossError(absl::StrCat("watch: unknown event type \"", type, "\""));
  }
  event.object = std::move(j["object"]);
  return event;
}

}  // namespace berth::client
