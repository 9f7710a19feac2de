#include "runtime-shim/streaming/token_cache.h"

#include <sys/random.h>

#include <cerrno>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/time.h"

namespace berth::streaming {
namespace {

absl::StatusOr<std::string> RandomToken() {
  char bytes[8];
  size_t got = 0;
  while (got < sizeof(bytes)) {
    ssize_t n = getrandom(bytes + got, sizeof(bytes) - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("getrandom for a streaming token");
    }
    got += static_cast<size_t>(n);
  }
  // Web-safe alphabet, no padding: 11 characters.
  return absl::WebSafeBase64Escape(absl::string_view(bytes, sizeof(bytes)));
}

}  // namespace

TokenCache::TokenCache(absl::Duration ttl, size_t max_in_flight, Clock clock)
    : ttl_nanos_(absl::ToInt64Nanoseconds(ttl)),
      max_in_flight_(max_in_flight),
      clock_(clock ? std::move(clock) : Clock(MonotonicNanos)) {}

void TokenCache::DropExpiredLocked(int64_t now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.expires_at <= now) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

absl::StatusOr<std::string> TokenCache::Insert(StreamRequest request) {
  int64_t now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  DropExpiredLocked(now);
  if (entries_.size() >= max_in_flight_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("maximum number of in-flight streaming requests (", max_in_flight_, ") exceeded"));
  }
  for (int attempt = 0; attempt < 4; ++attempt) {
    auto token = RandomToken();
    if (!token.ok()) return token.status();
    if (entries_.count(*token)) continue;
    entries_.emplace(*token, Entry{std::move(request), now + ttl_nanos_});
    return *token;
  }
  return absl::InternalError("could not make a unique streaming token");
}

absl::StatusOr<StreamRequest> TokenCache::Consume(const std::string& token) {
  int64_t now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(token);
  if (it == entries_.end()) {
    return absl::NotFoundError(absl::StrCat("streaming token \"", token, "\" is unknown or already used"));
  }
  Entry entry = std::move(it->second);
  entries_.erase(it);
  if (entry.expires_at <= now) {
    return absl::NotFoundError(absl::StrCat("streaming token \"", token, "\" has expired"));
  }
  return std::move(entry.request);
}

size_t TokenCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

}  // namespace berth::streaming
