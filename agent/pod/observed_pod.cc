#include "agent/pod/observed_pod.h"

#include <algorithm>
#include <map>

#include "absl/strings/numbers.h"
#include "agent/pod/labels.h"
#include "common/status_macros.h"

namespace berth::agent {
namespace {

std::string Get(const google::protobuf::Map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? "" : it->second;
}

}  // namespace

const ObservedContainer* ObservedPod::Latest(const std::string& name) const {
  for (const auto& c : containers) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

const ObservedContainer* ObservedPod::Previous(const std::string& name) const {
  bool seen = false;
  for (const auto& c : containers) {
    if (c.name != name) continue;
    if (seen) return &c;
    seen = true;
  }
  return nullptr;
}

absl::StatusOr<std::vector<ObservedPod>> ObservePods(RuntimeService& runtime, const std::string& uid) {
  cri::ListPodSandboxRequest list_sandboxes;
  cri::ListContainersRequest list_containers;
  if (!uid.empty()) {
    (*list_sandboxes.mutable_filter()->mutable_label_selector())[kPodUidLabel] = uid;
    (*list_containers.mutable_filter()->mutable_label_selector())[kPodUidLabel] = uid;
  }
  cri::ListPodSandboxResponse sandboxes;
  RETURN_IF_ERROR(runtime.ListPodSandbox(list_sandboxes, &sandboxes));
  cri::ListContainersResponse containers;
  RETURN_IF_ERROR(runtime.ListContainers(list_containers, &containers));

  std::map<std::string, ObservedPod> pods;
  for (const auto& s : sandboxes.items()) {
    std::string pod_uid = Get(s.labels(), kPodUidLabel);
    if (pod_uid.empty()) continue;
    ObservedPod& pod = pods[pod_uid];
    pod.uid = pod_uid;
    pod.name = s.metadata().name();
    pod.namespace_ = s.metadata().namespace_();
    ObservedSandbox o;
    o.id = s.id();
    o.ready = s.state() == cri::SANDBOX_READY;
    o.attempt = s.metadata().attempt();
    o.created_at = s.created_at();
    o.config_hash = Get(s.annotations(), kSandboxHashAnnotation);
    if (o.ready) {
      cri::PodSandboxStatusRequest req;
      req.set_pod_sandbox_id(s.id());
      cri::PodSandboxStatusResponse resp;
      if (runtime.PodSandboxStatus(req, &resp).ok()) {
        const auto& net = resp.status().network();
        if (!net.ip().empty()) o.ips.push_back(net.ip());
        for (const auto& ip : net.additional_ips()) o.ips.push_back(ip.ip());
        o.host_network =
            resp.status().linux().namespaces().options().network() == cri::NODE;
      }
    }
    pod.sandboxes.push_back(std::move(o));
  }
  for (const auto& c : containers.containers()) {
    std::string pod_uid = Get(c.labels(), kPodUidLabel);
    if (pod_uid.empty()) continue;
    ObservedPod& pod = pods[pod_uid];
    pod.uid = pod_uid;
    if (pod.name.empty()) {
      pod.name = Get(c.labels(), kPodNameLabel);
      pod.namespace_ = Get(c.labels(), kPodNamespaceLabel);
    }
    ObservedContainer o;
    o.id = c.id();
    o.name = Get(c.labels(), kContainerNameLabel);
    if (o.name.empty()) o.name = c.metadata().name();
    o.sandbox_id = c.pod_sandbox_id();
    o.hash = Get(c.annotations(), kContainerHashAnnotation);
    if (!absl::SimpleAtoi(Get(c.annotations(), kContainerRestartCountAnnotation), &o.restart_count)) {
      o.restart_count = static_cast<int32_t>(c.metadata().attempt());
    }
    o.state = c.state();
    o.created_at = c.created_at();
    o.image = c.image().image();
    o.image_ref = c.image_ref();
    cri::ContainerStatusRequest req;
    req.set_container_id(c.id());
    cri::ContainerStatusResponse resp;
    if (runtime.ContainerStatus(req, &resp).ok()) {
      const auto& st = resp.status();
      o.state = st.state();
      o.started_at = st.started_at();
      o.finished_at = st.finished_at();
      o.exit_code = st.exit_code();
      o.reason = st.reason();
      o.message = st.message();
      if (!st.image().image().empty()) o.image = st.image().image();
      if (!st.image_ref().empty()) o.image_ref = st.image_ref();
    }
    pod.containers.push_back(std::move(o));
  }
  std::vector<ObservedPod> out;
  for (auto& [id, pod] : pods) {
    std::sort(pod.sandboxes.begin(), pod.sandboxes.end(),
              [](const auto& a, const auto& b) { return a.created_at > b.created_at; });
    std::sort(pod.containers.begin(), pod.containers.end(), [](const auto& a, const auto& b) {
      if (a.restart_count != b.restart_count) return a.restart_count > b.restart_count;
      return a.created_at > b.created_at;
    });
    out.push_back(std::move(pod));
  }
  return out;
}

}  // namespace berth::agent
