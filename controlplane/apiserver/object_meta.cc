#include "controlplane/apiserver/object_meta.h"

#include <openssl/rand.h>

#include <cctype>
#include <random>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace berth::apiserver {

std::string NewUid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    std::random_device rd;
    for (auto& c : b) c = static_cast<unsigned char>(rd());
  }
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  return absl::StrFormat("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                         b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                         b[15]);
}

std::string FormatRfc3339(int64_t unix_seconds) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(unix_seconds), absl::UTCTimeZone());
}

std::string NowRfc3339() { return FormatRfc3339(absl::ToUnixSeconds(absl::Now())); }

std::string GenerateName(const std::string& base) {
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  unsigned char r[5];
  if (RAND_bytes(r, sizeof r) != 1) {
    std::random_device rd;
    for (auto& c : r) c = static_cast<unsigned char>(rd());
  }
  std::string name = base.substr(0, std::min<size_t>(base.size(), 63 - 5));
  for (unsigned char c : r) name.push_back(kAlphabet[c % (sizeof kAlphabet - 1)]);
  return name;
}

std::map<std::string, std::string> Labels(const nlohmann::json& obj) {
  std::map<std::string, std::string> labels;
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return labels;
  auto l = meta->find("labels");
  if (l == meta->end() || !l->is_object()) return labels;
  for (auto it = l->begin(); it != l->end(); ++it) {
    if (it.value().is_string()) labels[it.key()] = it.value().get<std::string>();
  }
  return labels;
}

std::string MetaString(const nlohmann::json& obj, const char* field) {
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return "";
  auto v = meta->find(field);
  if (v == meta->end() || !v->is_string()) return "";
  return v->get<std::string>();
}

bool SpecChanged(const nlohmann::json& old_obj, const nlohmann::json& new_obj) {
  auto strip = [](const nlohmann::json& o) {
    nlohmann::json c = o;
    if (c.is_object()) {
      c.erase("metadata");
      c.erase("status");
      c.erase("apiVersion");
      c.erase("kind");
    }
    return c;
  };
  return strip(old_obj) != strip(new_obj);
}

nlohmann::json Comparable(const nlohmann::json& obj) {
  nlohmann::json c = obj;
  if (c.contains("metadata") && c["metadata"].is_object()) {
    c["metadata"].erase("resourceVersion");
    c["metadata"].erase("managedFields");
  }
  return c;
}

namespace {

bool IsLabelChars(const std::string& v) {
  if (v.empty() || v.size() > 63) return false;
  if (!std::isalnum(static_cast<unsigned char>(v.front())) || !std::isalnum(static_cast<unsigned char>(v.back()))) {
    return false;
  }
  for (char c : v) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string Dns1123LabelError(const std::string& value) {
  if (IsLabelChars(value)) return "";
  return absl::StrFormat(
      "Invalid value: \"%s\": a lowercase RFC 1123 label must consist of lower case alphanumeric "
      "characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  "
      "or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      value);
}

std::string Dns1123SubdomainError(const std::string& value) {
  bool ok = !value.empty() && value.size() <= 253;
  if (ok) {
    size_t start = 0;
    while (ok) {
      size_t dot = value.find('.', start);
      std::string part = value.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      ok = IsLabelChars(part);
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
  }
  if (ok) return "";
  return absl::StrFormat(
      "Invalid value: \"%s\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
      "characters, '-' or '.', and must start and end with an alphanumeric character (e.g. "
      "'example.com', regex used for validation is "
      "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      value);
}

}  // namespace berth::apiserver
