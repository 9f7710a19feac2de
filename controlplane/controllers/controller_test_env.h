// Test fixture for the controller loops: a LocalApiClient over an
// in-process API server on a temporary SQLite store (real validation,
// resourceVersion conflicts and watches), the informers one term of the
// ControllerManager would share, and a runner for the controllers under
// test; plus polling helpers with deadlines and a stand-in for the kubelet
// that marks pods Running and Ready.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "controlplane/client/local_api_test_env.h"
#include "controlplane/controllers/controller_manager.h"
#include "controlplane/controllers/controller_runner.h"
#include "controlplane/controllers/object_refs.h"
#include "gtest/gtest.h"

namespace berth::controllers {

class ControllerTestEnv {
 public:
  ControllerTestEnv() : informers_(env_.client()) {}
  ~ControllerTestEnv() {
    runner_.Stop();
    informers_.StopAll();
  }

  client::ApiClient* client() { return env_.client(); }
  client::Informer* informer(const client::ResourceRef& ref) { return informers_.For(ref); }
  const absl::Status& error() const { return env_.error(); }

  // Starts the informers, waits for their lists, runs `controllers`.
  void Run(const std::vector<Controller*>& controllers) {
    informers_.StartAll();
    ASSERT_TRUE(informers_.WaitForSync(absl::Seconds(10)));
    for (Controller* c : controllers) runner_.Run(c, 2);
  }

  // Polls `done` every 20 ms until it holds (true) or `timeout` passes.
  static bool WaitFor(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(20)) {
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (done()) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return done();
  }

  std::vector<nlohmann::json> List(const client::ResourceRef& ref, const std::string& ns,
                                   const std::string& label_selector = "") {
    client::ListOptions options;
    options.label_selector = label_selector;
    auto list = client()->List(ref, ns, options);
    if (!list.ok()) return {};
    return (*list)["items"].get<std::vector<nlohmann::json>>();
  }

  nlohmann::json Get(const client::ResourceRef& ref, const std::string& ns, const std::string& name) {
    auto obj = client()->Get(ref, ns, name);
    return obj.ok() ? *obj : nlohmann::json();
  }

  // The kubelet's part: every pod of `ns` not yet Ready becomes Running and
  // Ready (scheduled to a made-up node). Returns how many it changed.
  int MarkPodsReady(const std::string& ns) {
    int changed = 0;
    for (nlohmann::json pod : List(client::resources::kPods, ns)) {
      if (IsBeingDeleted(pod)) continue;
      const nlohmann::json& status = pod.value("status", nlohmann::json::object());
      if (status.value("phase", "") == "Running") continue;
      std::string now = FormatApiTime(absl::Now());
      pod["apiVersion"] = "v1";
      pod["kind"] = "Pod";
      pod["status"] = {{"phase", "Running"},
                       {"conditions", nlohmann::json::array({{{"type", "Ready"}, {"status", "True"},
                                                               {"lastTransitionTime", now}}})}};
      if (client()->Update(client::resources::kPods, ns, pod, "status").ok()) ++changed;
    }
    return changed;
  }

 private:
  client::LocalApiTestEnv env_;
  InformerSet informers_;
  ControllerRunner runner_;
};

}  // namespace berth::controllers
