#include "agent/devices/container_devices.h"

#include <map>
#include <set>

#include "common/logging.h"

namespace berth::agent::devices {
namespace {

// Records `key` -> `value`; true when it is new, logs a conflicting repeat.
bool FirstWins(std::map<std::string, std::string>* seen, const std::string& what, const std::string& key,
               const std::string& value) {
  auto [it, inserted] = seen->emplace(key, value);
  if (!inserted && it->second != value) {
    BERTH_LOG(Warning) << "devices: conflicting settings, the first one is kept" << Kv("what", what)
                       << Kv("key", key) << Kv("kept", it->second) << Kv("ignored", value);
  }
  return inserted;
}

}  // namespace

void MergeAllocateResponses(const std::vector<v1beta1::ContainerAllocateResponse>& responses,
                            cri::ContainerConfig* config) {
  std::map<std::string, std::string> envs, mounts, devices, annotations;
  std::set<std::string> cdi;
  std::vector<cri::KeyValue> device_envs;
  for (const auto& r : responses) {
    // Protobuf maps have no stable order; sort so the container's env is deterministic.
    std::map<std::string, std::string> sorted_envs(r.envs().begin(), r.envs().end());
    for (const auto& [k, v] : sorted_envs) {
      if (!FirstWins(&envs, "env", k, v)) continue;
      cri::KeyValue kv;
      kv.set_key(k);
      kv.set_value(v);
      device_envs.push_back(std::move(kv));
    }
    for (const auto& m : r.mounts()) {
      if (!FirstWins(&mounts, "mount", m.container_path(), m.host_path())) continue;
      auto* out = config->add_mounts();
      out->set_container_path(m.container_path());
      out->set_host_path(m.host_path());
      out->set_readonly(m.read_only());
    }
    for (const auto& d : r.devices()) {
      if (!FirstWins(&devices, "device", d.container_path(), d.host_path())) continue;
      auto* out = config->add_devices();
      out->set_container_path(d.container_path());
      out->set_host_path(d.host_path());
      out->set_permissions(d.permissions());
    }
    std::map<std::string, std::string> sorted_annotations(r.annotations().begin(), r.annotations().end());
    for (const auto& [k, v] : sorted_annotations) {
      if (FirstWins(&annotations, "annotation", k, v)) (*config->mutable_annotations())[k] = v;
    }
    for (const auto& c : r.cdi_devices()) {
      if (cdi.insert(c.name()).second) config->add_cdi_devices()->set_name(c.name());
    }
  }
  if (device_envs.empty()) return;
  google::protobuf::RepeatedPtrField<cri::KeyValue> merged;
  for (auto& kv : device_envs) *merged.Add() = std::move(kv);
  for (const auto& kv : config->envs()) *merged.Add() = kv;
  config->mutable_envs()->Swap(&merged);
}

}  // namespace berth::agent::devices
