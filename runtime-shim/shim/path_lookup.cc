#include "runtime-shim/shim/path_lookup.h"

#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace berth::shim {

std::string EnvValue(const std::vector<std::string>& env, const std::string& key, bool* found) {
  std::string value;
  *found = false;
  for (const std::string& entry : env) {
    if (entry.size() > key.size() && entry.compare(0, key.size(), key) == 0 &&
        entry[key.size()] == '=') {
      value = entry.substr(key.size() + 1);
      *found = true;
    }
  }
  return value;
}

absl::StatusOr<std::string> LookupExecutable(const std::string& name,
                                             const std::vector<std::string>& env) {
  if (name.empty()) return absl::InvalidArgumentError("args[0] is empty");
  if (name.find('/') != std::string::npos) return name;
  bool found = false;
  std::string path = EnvValue(env, "PATH", &found);
  if (!found) path = kDefaultPath;
  for (absl::string_view dir : absl::StrSplit(path, ':')) {
    // An empty entry means the current directory, as in execvp.
    std::string candidate = dir.empty() ? name : absl::StrCat(dir, "/", name);
    struct stat st;
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return absl::NotFoundError(
      absl::StrCat("executable \"", name, "\" not found in PATH \"", path, "\""));
}

}  // namespace berth::shim
