// Who is calling: a verified client certificate (CN is the user, each O a
// group) or a bearer token from a static token file (kube-apiserver's
// --token-auth-file CSV: token,user,uid,"group1,group2"). Anyone else is
// anonymous (system:anonymous in system:unauthenticated).
#pragma once

#include <map>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include <openssl/x509.h>

#include "absl/status/statusor.h"

namespace berth::apiserver {

struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
  bool anonymous() const { return name == "system:anonymous"; }
  bool InGroup(absl::string_view group) const;
};

UserInfo AnonymousUser();

// The user a verified client certificate names; InvalidArgument when it has
// no CN. Adds system:authenticated.
absl::StatusOr<UserInfo> UserFromCertificate(X509* cert);

class TokenAuthenticator {
 public:
  // Parses the CSV file; errors name the file and line.
  static absl::StatusOr<std::unique_ptr<TokenAuthenticator>> LoadFile(const std::string& path);
  static absl::StatusOr<std::unique_ptr<TokenAuthenticator>> Parse(absl::string_view csv,
                                                                    absl::string_view source);

  // The token's user (with system:authenticated), or nullptr.
  const UserInfo* Authenticate(absl::string_view token) const;
  size_t size() const { return users_.size(); }

 private:
  std::map<std::string, UserInfo, std::less<>> users_;
};

// "Authorization: Bearer <token>" -> "<token>", else "".
std::string BearerToken(absl::string_view authorization_header);

}  // namespace berth::apiserver
