#include "api/k8s/defaults.h"

namespace berth::k8s {
namespace {

constexpr int32_t kDefaultMode = 0644;

void DefaultHandler(std::optional<HTTPGetAction>& http) {
  if (!http) return;
  if (http->path.empty()) http->path = "/";
  if (http->scheme.empty()) http->scheme = "HTTP";
}

void DefaultLifecycleHandler(std::optional<LifecycleHandler>& h) {
  if (h) DefaultHandler(h->httpGet);
}

void DefaultVolume(Volume& v) {
  if (v.SourceCount() == 0) v.emptyDir = EmptyDirVolumeSource{};
  if (v.hostPath && !v.hostPath->type) v.hostPath->type = "";
  if (v.configMap && !v.configMap->defaultMode) v.configMap->defaultMode = kDefaultMode;
  if (v.secret && !v.secret->defaultMode) v.secret->defaultMode = kDefaultMode;
  if (v.projected && !v.projected->defaultMode) v.projected->defaultMode = kDefaultMode;
}

// Requests copied from limits for every resource with a limit and no request.
void DefaultRequests(Container& c) {
  for (const auto& [name, q] : c.resources.limits) {
    if (!c.resources.requests.count(name)) c.resources.requests[name] = q;
  }
}

void DefaultHostNetworkPorts(std::vector<Container>& containers) {
  for (auto& c : containers) {
    for (auto& p : c.ports) {
      if (p.hostPort == 0) p.hostPort = p.containerPort;
    }
  }
}

}  // namespace

std::string DefaultImagePullPolicy(const std::string& image) {
  std::string name = image;
  bool digest = false;
  if (auto at = name.find('@'); at != std::string::npos) {
    name = name.substr(0, at);
    digest = true;
  }
  std::string tag;
  size_t slash = name.rfind('/');
  size_t colon = name.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    tag = name.substr(colon + 1);
  } else if (!digest) {
    tag = "latest";
  }
  return tag == "latest" ? "Always" : "IfNotPresent";
}

void SetDefaultsProbe(Probe* p) {
  if (p->timeoutSeconds == 0) p->timeoutSeconds = 1;
  if (p->periodSeconds == 0) p->periodSeconds = 10;
  if (p->successThreshold == 0) p->successThreshold = 1;
  if (p->failureThreshold == 0) p->failureThreshold = 3;
  DefaultHandler(p->httpGet);
}

void SetDefaultsContainer(Container* c) {
  if (c->imagePullPolicy.empty()) c->imagePullPolicy = DefaultImagePullPolicy(c->image);
  if (c->terminationMessagePath.empty()) c->terminationMessagePath = "/dev/termination-log";
  if (c->terminationMessagePolicy.empty()) c->terminationMessagePolicy = "File";
  for (auto& p : c->ports) {
    if (p.protocol.empty()) p.protocol = "TCP";
  }
  for (auto* probe : {&c->livenessProbe, &c->readinessProbe, &c->startupProbe}) {
    if (*probe) SetDefaultsProbe(&**probe);
  }
  if (c->lifecycle) {
    DefaultLifecycleHandler(c->lifecycle->postStart);
    DefaultLifecycleHandler(c->lifecycle->preStop);
  }
  DefaultRequests(*c);
}

void SetDefaultsPod(Pod* pod) {
  PodSpec& s = pod->spec;
  if (s.restartPolicy.empty()) s.restartPolicy = "Always";
  if (!s.terminationGracePeriodSeconds) s.terminationGracePeriodSeconds = 30;
  if (s.dnsPolicy.empty()) s.dnsPolicy = "ClusterFirst";
  if (s.schedulerName.empty()) s.schedulerName = "default-scheduler";
  if (!s.securityContext) s.securityContext = PodSecurityContext{};
  if (!s.enableServiceLinks) s.enableServiceLinks = true;
  if (s.hostNetwork) {
    DefaultHostNetworkPorts(s.initContainers);
    DefaultHostNetworkPorts(s.containers);
  }
  for (auto& c : s.initContainers) SetDefaultsContainer(&c);
  for (auto& c : s.containers) SetDefaultsContainer(&c);
  for (auto& v : s.volumes) DefaultVolume(v);
}

}  // namespace berth::k8s
