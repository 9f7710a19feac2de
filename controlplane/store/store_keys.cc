// Key helpers shared by the backends (declared in store.h).
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "controlplane/store/store.h"

namespace berth::store {

std::string PrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    unsigned char last = static_cast<unsigned char>(end.back());
    if (last < 0xff) {
      end.back() = static_cast<char>(last + 1);
      return end;
    }
    end.pop_back();
  }
  // Every byte was 0xff: no end below the top of the key space.
  return std::string(1, '\0');
}

absl::Status ValidateKey(const std::string& key, const char* field) {
  if (key.empty() || key[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s %s: must start with '/'", field, absl::CHexEscape(key)));
  }
  if (key.size() > 1024) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is ", key.size(),
                                                   " bytes long: at most 1024 allowed"));
  }
  if (key.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s %s: must not contain a NUL byte", field, absl::CHexEscape(key)));
  }
  return absl::OkStatus();
}

absl::Status ValidateValue(const std::string& key, const std::string& value) {
  if (value.size() > kMaxValueBytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "value for key %s is %d bytes: at most %d allowed", absl::CHexEscape(key), value.size(),
        kMaxValueBytes));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ListStartKey(const std::string& prefix, const ListOptions& options) {
  if (absl::Status key = ValidateKey(prefix, "prefix"); !key.ok()) return key;
  if (options.limit < 0) {
    return absl::InvalidArgumentError(absl::StrCat("limit ", options.limit, ": must be >= 0"));
  }
  if (options.revision < 0) {
    return absl::InvalidArgumentError(absl::StrCat("revision ", options.revision, ": must be >= 0"));
  }
  if (options.continue_key.empty()) return prefix;
  if (!absl::StartsWith(options.continue_key, prefix)) {
    return absl::InvalidArgumentError(absl::StrCat("continue key \"", absl::CHexEscape(options.continue_key),
                                                   "\" is not under prefix \"", absl::CHexEscape(prefix), "\""));
  }
  return options.continue_key;
}

}  // namespace berth::store
