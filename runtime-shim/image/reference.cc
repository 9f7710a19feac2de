#include "runtime-shim/image/reference.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "runtime-shim/image/digest.h"

namespace berth::image {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// A path component: lowercase alphanumerics separated by '.', '_', '__' or '-'s.
bool ValidComponent(absl::string_view c) {
  if (c.empty() || !IsLowerAlnum(c.front()) || !IsLowerAlnum(c.back())) return false;
  for (char ch : c) {
    if (!IsLowerAlnum(ch) && ch != '.' && ch != '_' && ch != '-') return false;
  }
  return true;
}

bool ValidDomain(absl::string_view d) {
  if (d.empty()) return false;
  for (char ch : d) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '-' || ch == ':';
    if (!ok) return false;
  }
  return true;
}

bool ValidTag(absl::string_view t) {
  if (t.empty() || t.size() > 128 || t.front() == '.' || t.front() == '-') return false;
  for (char ch : t) {
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string Reference::Name() const {
  if (!tag.empty()) return absl::StrCat(repository, ":", tag);
  return absl::StrCat(repository, "@", digest);
}

absl::StatusOr<Reference> ParseReference(absl::string_view ref) {
  auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("image reference '", ref, "': ", why));
  };
  Reference out;
  absl::string_view rest = ref;
  if (size_t at = rest.find('@'); at != absl::string_view::npos) {
    out.digest = std::string(rest.substr(at + 1));
    if (!DigestHex(out.digest, "digest").ok()) return invalid("bad digest");
    rest = rest.substr(0, at);
  }
  size_t last_slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != absl::string_view::npos &&
      (last_slash == absl::string_view::npos || colon > last_slash)) {
    out.tag = std::string(rest.substr(colon + 1));
    if (!ValidTag(out.tag)) return invalid("bad tag");
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) return invalid("empty name");

  std::string domain = "docker.io";
  absl::string_view path = rest;
  if (size_t slash = rest.find('/'); slash != absl::string_view::npos) {
    absl::string_view first = rest.substr(0, slash);
    if (first.find('.') != absl::string_view::npos || first.find(':') != absl::string_view::npos ||
        first == "localhost") {
      if (!ValidDomain(first)) return invalid("bad domain");
      domain = std::string(first);
      path = rest.substr(slash + 1);
    }
  }
  if (domain == "index.docker.io") domain = "docker.io";
  std::vector<absl::string_view> components = absl::StrSplit(path, '/');
  for (absl::string_view c : components) {
    if (!ValidComponent(c)) return invalid(absl::StrCat("bad path component '", c, "'"));
  }
  std::string full_path(path);
  if (domain == "docker.io" && components.size() == 1) full_path = absl::StrCat("library/", path);
  out.repository = absl::StrCat(domain, "/", full_path);
  if (out.tag.empty() && out.digest.empty()) out.tag = "latest";
  return out;
}

absl::StatusOr<std::string> NormalizeName(absl::string_view ref) {
  absl::StatusOr<Reference> parsed = ParseReference(ref);
  if (!parsed.ok()) return parsed.status();
  return parsed->Name();
}

}  // namespace berth::image
