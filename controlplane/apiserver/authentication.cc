#include "controlplane/apiserver/authentication.h"

#include <openssl/objects.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/fs.h"

namespace berth::apiserver {

bool UserInfo::InGroup(absl::string_view group) const {
  for (const auto& g : groups) {
    if (g == group) return true;
  }
  return false;
}

UserInfo AnonymousUser() {
  UserInfo user;
  user.name = "system:anonymous";
  user.groups = {"system:unauthenticated"};
  return user;
}

namespace {

std::vector<std::string> SubjectEntries(X509_NAME* name, int nid) {
  std::vector<std::string> values;
  int index = -1;
  while ((index = X509_NAME_get_index_by_NID(name, nid, index)) >= 0) {
    X509_NAME_ENTRY* entry = X509_NAME_get_entry(name, index);
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(entry);
    unsigned char* utf8 = nullptr;
    int len = ASN1_STRING_to_UTF8(&utf8, data);
    if (len >= 0) {
      values.emplace_back(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
      OPENSSL_free(utf8);
    }
  }
  return values;
}

// Splits one CSV line, honouring double quotes.
std::vector<std::string> SplitCsvLine(absl::string_view line) {
  std::vector<std::string> fields;
  std::string current;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        current.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        current.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(current);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  fields.push_back(current);
  return fields;
}

}  // namespace

absl::StatusOr<UserInfo> UserFromCertificate(X509* cert) {
  X509_NAME* subject = X509_get_subject_name(cert);
  if (subject == nullptr) return absl::InvalidArgumentError("client certificate has no subject");
  std::vector<std::string> cn = SubjectEntries(subject, NID_commonName);
  if (cn.empty() || cn[0].empty()) {
    return absl::InvalidArgumentError("client certificate subject has no common name (CN)");
  }
  UserInfo user;
  user.name = cn[0];
  user.groups = SubjectEntries(subject, NID_organizationName);
  user.groups.push_back("system:authenticated");
  return user;
}

absl::StatusOr<std::unique_ptr<TokenAuthenticator>> TokenAuthenticator::LoadFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--token-auth-file: ", text.status().message()));
  }
  return Parse(*text, path);
}

absl::StatusOr<std::unique_ptr<TokenAuthenticator>> TokenAuthenticator::Parse(absl::string_view csv,
                                                                               absl::string_view source) {
  auto auth = std::make_unique<TokenAuthenticator>();
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(csv, '\n')) {
    ++line_number;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields = SplitCsvLine(line);
    if (fields.size() < 3) {
      return absl::InvalidArgumentError(absl::StrCat(
          "token file ", source, " line ", line_number,
          ": want at least 3 columns (token,user,uid[,\"group1,group2\"]), got ", fields.size()));
    }
    if (fields[0].empty() || fields[1].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("token file ", source, " line ", line_number, ": empty token or user name"));
    }
    UserInfo user;
    user.name = fields[1];
    user.uid = fields[2];
    if (fields.size() >= 4) {
      for (absl::string_view g : absl::StrSplit(fields[3], ',', absl::SkipWhitespace())) {
        user.groups.emplace_back(absl::StripAsciiWhitespace(g));
      }
    }
    user.groups.push_back("system:authenticated");
    if (!auth->users_.emplace(fields[0], std::move(user)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("token file ", source, " line ", line_number, ": duplicate token"));
    }
  }
  return auth;
}

const UserInfo* TokenAuthenticator::Authenticate(absl::string_view token) const {
  auto it = users_.find(token);
  return it == users_.end() ? nullptr : &it->second;
}

std::string BearerToken(absl::string_view header) {
  header = absl::StripAsciiWhitespace(header);
  if (header.size() < 7 || !absl::EqualsIgnoreCase(header.substr(0, 7), "bearer ")) return "";
  return std::string(absl::StripAsciiWhitespace(header.substr(7)));
}

}  // namespace berth::apiserver
