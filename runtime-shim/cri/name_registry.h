// Reserved names: a sandbox or container name maps to one id until released,
// so two creates with the same name can't both succeed (as containerd does).
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "absl/status/status.h"

namespace berth {

class NameRegistry {
 public:
  // AlreadyExists naming the holder when `name` is taken by another id.
  absl::Status Reserve(const std::string& name, const std::string& id);
  void Release(const std::string& name);
  void ReleaseById(const std::string& id);

 private:
  std::mutex mu_;
  std::map<std::string, std::string> names_;
};

}  // namespace berth
