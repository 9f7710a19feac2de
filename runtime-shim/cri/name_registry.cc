#include "runtime-shim/cri/name_registry.h"

#include "absl/strings/str_cat.h"

namespace berth {

absl::Status NameRegistry::Reserve(const std::string& name, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = names_.emplace(name, id);
  if (!inserted && it->second != id) {
    return absl::AlreadyExistsError(
        absl::StrCat("name \"", name, "\" is reserved for \"", it->second, "\""));
  }
  return absl::OkStatus();
}

void NameRegistry::Release(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  names_.erase(name);
}

void NameRegistry::ReleaseById(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = names_.begin(); it != names_.end();) {
    it = it->second == id ? names_.erase(it) : std::next(it);
  }
}

}  // namespace berth
