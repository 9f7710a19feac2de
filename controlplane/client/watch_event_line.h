// One line of a watch response (`{"type": "ADDED", "object": {...}}`, as the
// API server streams them, one JSON object per line) as a WatchEvent. An
// ERROR event is its metav1.Status through StatusFromApi (410 Gone ->
// OutOfRange); a line that is not a watch event is DataLoss naming it.
#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "controlplane/client/api_client.h"

namespace berth::client {

absl::StatusOr<WatchEvent> DecodeWatchEventLine(absl::string_view line);

}  // namespace berth::client
