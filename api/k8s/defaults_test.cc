#include "api/k8s/defaults.h"

#include <gtest/gtest.h>

namespace berth::k8s {
namespace {

Pod MinimalPod() {
  Pod p;
  p.metadata.name = "p";
  Container c;
  c.name = "app";
  c.image = "nginx:1.27";
  p.spec.containers.push_back(c);
  return p;
}

TEST(DefaultsTest, PodSpec) {
  Pod p = MinimalPod();
  SetDefaultsPod(&p);
  EXPECT_EQ(p.spec.restartPolicy, "Always");
  EXPECT_EQ(p.spec.terminationGracePeriodSeconds, 30);
  EXPECT_EQ(p.spec.dnsPolicy, "ClusterFirst");
  EXPECT_EQ(p.spec.schedulerName, "default-scheduler");
  ASSERT_TRUE(p.spec.securityContext.has_value());
  EXPECT_EQ(*p.spec.securityContext, PodSecurityContext{});
  EXPECT_EQ(p.spec.enableServiceLinks, true);
}

TEST(DefaultsTest, KeepsSetValues) {
  Pod p = MinimalPod();
  p.spec.restartPolicy = "Never";
  p.spec.terminationGracePeriodSeconds = 0;
  p.spec.dnsPolicy = "Default";
  p.spec.schedulerName = "mine";
  p.spec.enableServiceLinks = false;
  p.spec.containers[0].imagePullPolicy = "Never";
  p.spec.containers[0].terminationMessagePath = "/tmp/msg";
  p.spec.containers[0].terminationMessagePolicy = "FallbackToLogsOnError";
  SetDefaultsPod(&p);
  EXPECT_EQ(p.spec.restartPolicy, "Never");
  EXPECT_EQ(p.spec.terminationGracePeriodSeconds, 0);
  EXPECT_EQ(p.spec.dnsPolicy, "Default");
  EXPECT_EQ(p.spec.schedulerName, "mine");
  EXPECT_EQ(p.spec.enableServiceLinks, false);
  EXPECT_EQ(p.spec.containers[0].imagePullPolicy, "Never");
  EXPECT_EQ(p.spec.containers[0].terminationMessagePath, "/tmp/msg");
  EXPECT_EQ(p.spec.containers[0].terminationMessagePolicy, "FallbackToLogsOnError");
}

TEST(DefaultsTest, Container) {
  Pod p = MinimalPod();
  p.spec.initContainers.push_back(p.spec.containers[0]);
  SetDefaultsPod(&p);
  for (const Container* c : {&p.spec.containers[0], &p.spec.initContainers[0]}) {
    EXPECT_EQ(c->terminationMessagePath, "/dev/termination-log");
    EXPECT_EQ(c->terminationMessagePolicy, "File");
    EXPECT_EQ(c->imagePullPolicy, "IfNotPresent");
  }
}

TEST(DefaultsTest, ImagePullPolicyFromTag) {
  EXPECT_EQ(DefaultImagePullPolicy("nginx"), "Always");
  EXPECT_EQ(DefaultImagePullPolicy("nginx:latest"), "Always");
  EXPECT_EQ(DefaultImagePullPolicy("registry:5000/team/nginx"), "Always");
  EXPECT_EQ(DefaultImagePullPolicy("registry:5000/team/nginx:latest"), "Always");
  EXPECT_EQ(DefaultImagePullPolicy("nginx:1.27"), "IfNotPresent");
  EXPECT_EQ(DefaultImagePullPolicy("registry:5000/nginx:1.27"), "IfNotPresent");
  EXPECT_EQ(DefaultImagePullPolicy("nginx@sha256:0123456789abcdef"), "IfNotPresent");
  EXPECT_EQ(DefaultImagePullPolicy("nginx:latest@sha256:0123456789abcdef"), "Always");
}

TEST(DefaultsTest, PortProtocol) {
  Pod p = MinimalPod();
  p.spec.containers[0].ports = {ContainerPort{"", 0, 80, "", ""}, ContainerPort{"", 0, 53, "UDP", ""}};
  SetDefaultsPod(&p);
  EXPECT_EQ(p.spec.containers[0].ports[0].protocol, "TCP");
  EXPECT_EQ(p.spec.containers[0].ports[1].protocol, "UDP");
  EXPECT_EQ(p.spec.containers[0].ports[0].hostPort, 0);  // not host network
}

TEST(DefaultsTest, Probes) {
  Pod p = MinimalPod();
  Probe probe;
  probe.httpGet = HTTPGetAction{};
  probe.httpGet->port = IntOrString::Int(8080);
  p.spec.containers[0].livenessProbe = probe;
  p.spec.containers[0].readinessProbe = probe;
  Probe custom;
  custom.exec = ExecAction{{"true"}};
  custom.timeoutSeconds = 5;
  custom.periodSeconds = 2;
  custom.successThreshold = 1;
  custom.failureThreshold = 7;
  p.spec.containers[0].startupProbe = custom;
  SetDefaultsPod(&p);
  for (const auto& pr : {*p.spec.containers[0].livenessProbe, *p.spec.containers[0].readinessProbe}) {
    EXPECT_EQ(pr.timeoutSeconds, 1);
    EXPECT_EQ(pr.periodSeconds, 10);
    EXPECT_EQ(pr.successThreshold, 1);
    EXPECT_EQ(pr.failureThreshold, 3);
    EXPECT_EQ(pr.httpGet->path, "/");
    EXPECT_EQ(pr.httpGet->scheme, "HTTP");
  }
  const Probe& s = *p.spec.containers[0].startupProbe;
  EXPECT_EQ(s.timeoutSeconds, 5);
  EXPECT_EQ(s.periodSeconds, 2);
  EXPECT_EQ(s.failureThreshold, 7);
}

TEST(DefaultsTest, RequestsFromLimits) {
  Pod p = MinimalPod();
  auto& r = p.spec.containers[0].resources;
  r.limits["cpu"] = *Quantity::Parse("500m");
  r.limits["memory"] = *Quantity::Parse("128Mi");
  r.requests["cpu"] = *Quantity::Parse("100m");
  SetDefaultsPod(&p);
  EXPECT_EQ(r.requests.at("cpu").String(), "100m");      // kept
  EXPECT_EQ(r.requests.at("memory").String(), "128Mi");  // from the limit
}

TEST(DefaultsTest, HostNetworkPorts) {
  Pod p = MinimalPod();
  p.spec.hostNetwork = true;
  p.spec.containers[0].ports = {ContainerPort{"", 0, 6443, "", ""}, ContainerPort{"", 9000, 9000, "", ""}};
  SetDefaultsPod(&p);
  EXPECT_EQ(p.spec.containers[0].ports[0].hostPort, 6443);
  EXPECT_EQ(p.spec.containers[0].ports[1].hostPort, 9000);
}

TEST(DefaultsTest, Volumes) {
  Pod p = MinimalPod();
  Volume bare;
  bare.name = "bare";
  Volume host;
  host.name = "host";
  host.hostPath = HostPathVolumeSource{"/etc", std::nullopt};
  Volume cm;
  cm.name = "cm";
  cm.configMap = ConfigMapVolumeSource{};
  cm.configMap->name = "c";
  Volume secret;
  secret.name = "s";
  secret.secret = SecretVolumeSource{};
  secret.secret->defaultMode = 0400;
  p.spec.volumes = {bare, host, cm, secret};
  SetDefaultsPod(&p);
  EXPECT_TRUE(p.spec.volumes[0].emptyDir.has_value());
  EXPECT_EQ(p.spec.volumes[1].hostPath->type, "");
  EXPECT_EQ(p.spec.volumes[2].configMap->defaultMode, 0644);
  EXPECT_EQ(p.spec.volumes[3].secret->defaultMode, 0400);
}

TEST(DefaultsTest, LifecycleHttpGet) {
  Pod p = MinimalPod();
  p.spec.containers[0].lifecycle = Lifecycle{};
  p.spec.containers[0].lifecycle->preStop = LifecycleHandler{};
  p.spec.containers[0].lifecycle->preStop->httpGet = HTTPGetAction{};
  SetDefaultsPod(&p);
  EXPECT_EQ(p.spec.containers[0].lifecycle->preStop->httpGet->path, "/");
  EXPECT_EQ(p.spec.containers[0].lifecycle->preStop->httpGet->scheme, "HTTP");
}

}  // namespace
}  // namespace berth::k8s
