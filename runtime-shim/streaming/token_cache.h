// TokenCache: the streaming server's single-use tokens. A validated CRI
// Exec/Attach/PortForward request is kept under a random URL-safe token until
// a client consumes it (once) or it expires (default 1 minute), as the
// kubelet's streaming server does. The clock is injectable for tests.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <variant>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/cri/api.pb.h"

namespace berth::streaming {

using StreamRequest =
    std::variant<::runtime::v1::ExecRequest, ::runtime::v1::AttachRequest, ::runtime::v1::PortForwardRequest>;

class TokenCache {
 public:
  // Monotonic nanoseconds.
  using Clock = std::function<int64_t()>;

  explicit TokenCache(absl::Duration ttl = absl::Minutes(1), size_t max_in_flight = 1000,
                      Clock clock = nullptr);

  // Stores `request` under a new token (11 characters of base64url). Expired
  // entries are dropped first; ResourceExhausted when max_in_flight live
  // tokens remain.
  absl::StatusOr<std::string> Insert(StreamRequest request);

  // Takes the request out: NotFound for an unknown, used or expired token.
  absl::StatusOr<StreamRequest> Consume(const std::string& token);

  size_t size() const;

 private:
  struct Entry {
    StreamRequest request;
    int64_t expires_at;
  };
  void DropExpiredLocked(int64_t now);

  const int64_t ttl_nanos_;
  const size_t max_in_flight_;
  Clock clock_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace berth::streaming
