#include "runtime-shim/cdi/cdi_registry.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/fs.h"
#include "common/logging.h"

namespace berth::cdi {
namespace {

void Append(const ContainerEdits& from, ContainerEdits* to) {
  to->env.insert(to->env.end(), from.env.begin(), from.env.end());
  to->device_nodes.insert(to->device_nodes.end(), from.device_nodes.begin(), from.device_nodes.end());
  to->mounts.insert(to->mounts.end(), from.mounts.begin(), from.mounts.end());
  to->hooks.insert(to->hooks.end(), from.hooks.begin(), from.hooks.end());
  to->additional_gids.insert(to->additional_gids.end(), from.additional_gids.begin(), from.additional_gids.end());
}

}  // namespace

CdiRegistry CdiRegistry::Load(const std::vector<std::string>& dirs) {
  CdiRegistry r;
  r.dirs_ = dirs;
  for (const auto& dir : dirs) {
    auto names = ListDir(dir);
    if (!names.ok()) continue;  // a missing dir holds no specs
    std::sort(names->begin(), names->end());
    for (const auto& name : *names) {
      if (!absl::EndsWith(name, ".json") && !absl::EndsWith(name, ".yaml") && !absl::EndsWith(name, ".yml")) {
        continue;
      }
      const std::string path = dir + "/" + name;
      auto text = ReadFile(path);
      if (!text.ok()) {
        r.errors_.push_back(absl::StrCat(path, ": ", text.status().message()));
        continue;
      }
      auto spec = ParseSpec(*text, path);
      if (!spec.ok()) {
        BERTH_LOG(Warning) << "CDI spec skipped" << Kv("error", spec.status().ToString());
        r.errors_.push_back(std::string(spec.status().message()));
        continue;
      }
      r.specs_.push_back(std::move(*spec));
      const Spec& s = r.specs_.back();
      for (size_t d = 0; d < s.devices.size(); ++d) {
        r.devices_[absl::StrCat(s.kind, "=", s.devices[d].name)] = {r.specs_.size() - 1, d};
      }
    }
  }
  return r;
}

absl::StatusOr<ContainerEdits> CdiRegistry::Resolve(const std::vector<std::string>& qualified_names) const {
  ContainerEdits out;
  std::set<size_t> specs_applied;
  std::vector<const Device*> devices;
  for (const auto& qualified : qualified_names) {
    auto parsed = ParseQualifiedName(qualified);
    if (!parsed.ok()) return parsed.status();
    auto it = devices_.find(qualified);
    if (it == devices_.end()) {
      std::string message = absl::StrCat("unresolvable CDI device \"", qualified, "\": no spec in ",
                                         absl::StrJoin(dirs_, ", "), " defines it");
      if (!errors_.empty()) absl::StrAppend(&message, " (specs skipped: ", absl::StrJoin(errors_, "; "), ")");
      return absl::NotFoundError(message);
    }
    if (specs_applied.insert(it->second.spec).second) Append(specs_[it->second.spec].edits, &out);
    devices.push_back(&specs_[it->second.spec].devices[it->second.device]);
  }
  for (const Device* d : devices) Append(d->edits, &out);
  return out;
}

}  // namespace berth::cdi
