// The CRI gRPC services over a Runtime: RuntimeService and ImageService,
// each call handed to the Runtime method of the same name; absl codes become
// the gRPC codes of the same name, failures are logged with the call.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "api/cri/api.grpc.pb.h"
#include "runtime-shim/cri/runtime.h"

namespace grpc {
class Server;
}

namespace berth {

// Serves both services on `endpoint` ("unix:///run/berth/berth.sock" or a
// plain path). The socket file is replaced if stale and made 0660.
absl::StatusOr<std::unique_ptr<grpc::Server>> ServeCri(Runtime* runtime, const std::string& endpoint);

}  // namespace berth
