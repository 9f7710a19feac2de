// SHA-256 digests in the OCI form "sha256:<64 lowercase hex>", and layer chain ids.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace berth::image {

// Incremental SHA-256 (OpenSSL EVP).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(const void* data, size_t size);
  void Update(absl::string_view data) { Update(data.data(), data.size()); }
  // "sha256:<hex>"; the hasher is spent afterwards.
  std::string Finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

std::string Sha256Digest(absl::string_view data);

// The SHA-256 digest of a whole file.
absl::StatusOr<std::string> Sha256File(const std::string& path);

bool IsHex(absl::string_view s);

// The 64 hex characters of a "sha256:<hex>" digest, or InvalidArgument naming `field`.
absl::StatusOr<std::string> DigestHex(absl::string_view digest, absl::string_view field);

// OCI chain ids: chain[0] = diff[0], chain[i] = sha256(chain[i-1] + " " + diff[i]).
std::vector<std::string> ChainIds(const std::vector<std::string>& diff_ids);

}  // namespace berth::image
