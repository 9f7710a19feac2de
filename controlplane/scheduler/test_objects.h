// Pod and Node JSON objects for the scheduler's tests and benchmark, shaped as
// the API server stores them. Header-only; not part of the library.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace berth::scheduler::testing {

// A Ready node with the given allocatable (cpu, memory, pods, and any extra
// resources) and labels kubernetes.io/hostname plus `labels`.
inline nlohmann::json MakeNode(const std::string& name, const std::string& cpu, const std::string& memory,
                               int pods = 110, nlohmann::json labels = nlohmann::json::object(),
                               nlohmann::json extra_allocatable = nlohmann::json::object()) {
  labels["kubernetes.io/hostname"] = name;
  nlohmann::json allocatable = {{"cpu", cpu}, {"memory", memory}, {"pods", std::to_string(pods)}};
  allocatable.update(extra_allocatable);
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata", {{"name", name}, {"labels", labels}}},
          {"spec", nlohmann::json::object()},
          {"status",
           {{"capacity", allocatable},
            {"allocatable", allocatable},
            {"conditions", nlohmann::json::array({{{"type", "Ready"}, {"status", "True"}}})}}}};
}

// A pending pod with one container requesting `requests` ({"cpu":"100m"}).
inline nlohmann::json MakePod(const std::string& name, nlohmann::json requests = nlohmann::json::object(),
                              nlohmann::json labels = nlohmann::json::object()) {
  nlohmann::json container = {{"name", "c"}, {"image", "busybox"}};
  if (!requests.empty()) container["resources"] = {{"requests", requests}};
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"namespace", "default"}, {"uid", "uid-" + name}, {"labels", labels}}},
          {"spec", {{"containers", nlohmann::json::array({container})}}},
          {"status", {{"phase", "Pending"}}}};
}

}  // namespace berth::scheduler::testing
