#include "agent/pod/cri_config.h"

#include "agent/pod/labels.h"
#include "agent/pod/test_pods.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MakePod;

constexpr char kPod[] = R"yaml(
apiVersion: v1
kind: Pod
metadata:
  name: web-node1
  namespace: prod
  uid: "1234"
  labels: {app: web}
  annotations: {note: hi}
spec:
  nodeName: node1
  securityContext: {runAsUser: 1000, fsGroup: 2000, supplementalGroups: [3000], sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "0"}]}
  containers:
  - name: app
    image: busybox
    command: [sh, -c, "echo $(GREETING) $(POD)"]
    args: ["$(NODE)", "$$(NODE)"]
    workingDir: /tmp
    ports: [{containerPort: 80, hostPort: 8080}]
    env:
    - {name: GREETING, value: hello}
    - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
    - {name: UID, valueFrom: {fieldRef: {fieldPath: metadata.uid}}}
    - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
    - {name: IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: HOST, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}
    - {name: APP, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
    - {name: MEM, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
    - {name: COMBINED, value: "$(GREETING)-$(NS)"}
    resources:
      requests: {cpu: 250m, memory: 64Mi}
      limits: {cpu: 500m, memory: 128Mi}
    securityContext:
      runAsGroup: 10
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities: {add: [NET_ADMIN], drop: [ALL]}
      seccompProfile: {type: RuntimeDefault}
)yaml";

TEST(CriConfigTest, SandboxConfig) {
  auto pod = MakePod(kPod);
  CriConfigOptions o;
  o.pod_logs_dir = "/logs";
  o.cluster_dns = {"10.96.0.10"};
  o.cluster_domain = "cluster.local";
  o.host_resolv_conf = "nameserver 1.1.1.1\nsearch example.com\n";
  auto c = MakeSandboxConfig(pod, 2, o);
  EXPECT_EQ(c.metadata().name(), "web-node1");
  EXPECT_EQ(c.metadata().namespace_(), "prod");
  EXPECT_EQ(c.metadata().uid(), "1234");
  EXPECT_EQ(c.metadata().attempt(), 2u);
  EXPECT_EQ(c.hostname(), "web-node1");
  EXPECT_EQ(c.log_directory(), "/logs/prod_web-node1_1234");
  EXPECT_THAT(c.dns_config().servers(), ElementsAre("10.96.0.10"));
  EXPECT_THAT(c.dns_config().searches(),
              ElementsAre("prod.svc.cluster.local", "svc.cluster.local", "cluster.local", "example.com"));
  EXPECT_THAT(c.dns_config().options(), ElementsAre("ndots:5"));
  ASSERT_EQ(c.port_mappings_size(), 1);
  EXPECT_EQ(c.port_mappings(0).host_port(), 8080);
  EXPECT_EQ(c.port_mappings(0).protocol(), cri::TCP);
  EXPECT_EQ(c.labels().at(kPodUidLabel), "1234");
  EXPECT_EQ(c.labels().at("app"), "web");
  EXPECT_EQ(c.annotations().at("note"), "hi");
  const auto& sc = c.linux().security_context();
  EXPECT_EQ(sc.run_as_user().value(), 1000);
  EXPECT_THAT(sc.supplemental_groups(), ElementsAre(3000, 2000));
  EXPECT_EQ(sc.namespace_options().network(), cri::POD);
  EXPECT_EQ(sc.namespace_options().pid(), cri::CONTAINER);
  EXPECT_EQ(c.linux().sysctls().at("net.ipv4.ip_unprivileged_port_start"), "0");

  // The hash ignores the attempt but not the content.
  EXPECT_EQ(SandboxConfigHash(c), SandboxConfigHash(MakeSandboxConfig(pod, 0, o)));
  pod.metadata.annotations["kubernetes.io/config.seen"] = "2024-01-01T00:00:00Z";
  EXPECT_EQ(SandboxConfigHash(c), SandboxConfigHash(MakeSandboxConfig(pod, 0, o))) << "config.seen is not hashed";
  pod.spec.hostNetwork = true;
  EXPECT_NE(SandboxConfigHash(c), SandboxConfigHash(MakeSandboxConfig(pod, 2, o)));
}

TEST(CriConfigTest, DnsDefaultPolicyUsesTheHost) {
  auto pod = MakePod(kPod);
  pod.spec.dnsPolicy = "Default";
  CriConfigOptions o;
  o.host_resolv_conf = "nameserver 1.1.1.1\nnameserver 8.8.8.8\nsearch a.b\noptions edns0\n";
  auto c = MakeSandboxConfig(pod, 0, o);
  EXPECT_THAT(c.dns_config().servers(), ElementsAre("1.1.1.1", "8.8.8.8"));
  EXPECT_THAT(c.dns_config().searches(), ElementsAre("a.b"));
  EXPECT_THAT(c.dns_config().options(), ElementsAre("edns0"));
}

TEST(CriConfigTest, ContainerConfig) {
  auto pod = MakePod(kPod);
  CriConfigOptions o;
  ContainerRuntimeInputs in;
  in.restart_count = 3;
  in.pod_ip = "10.1.0.7";
  in.host_ip = "192.168.1.2";
  auto c = MakeContainerConfig(pod, pod.spec.containers[0], in, o);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->metadata().name(), "app");
  EXPECT_EQ(c->metadata().attempt(), 3u);
  EXPECT_EQ(c->image().image(), "busybox");
  EXPECT_THAT(c->command(), ElementsAre("sh", "-c", "echo hello web-node1"));
  EXPECT_THAT(c->args(), ElementsAre("node1", "$(NODE)"));
  EXPECT_EQ(c->working_dir(), "/tmp");
  std::map<std::string, std::string> env;
  for (const auto& kv : c->envs()) env[kv.key()] = kv.value();
  EXPECT_EQ(env["POD"], "web-node1");
  EXPECT_EQ(env["NS"], "prod");
  EXPECT_EQ(env["UID"], "1234");
  EXPECT_EQ(env["NODE"], "node1");
  EXPECT_EQ(env["IP"], "10.1.0.7");
  EXPECT_EQ(env["HOST"], "192.168.1.2");
  EXPECT_EQ(env["APP"], "web");
  EXPECT_EQ(env["MEM"], "128");
  EXPECT_EQ(env["COMBINED"], "hello-prod");
  EXPECT_EQ(c->log_path(), "app/3.log");
  EXPECT_EQ(c->labels().at(kContainerNameLabel), "app");
  EXPECT_EQ(c->labels().at(kPodNameLabel), "web-node1");
  EXPECT_EQ(c->annotations().at(kContainerRestartCountAnnotation), "3");
  EXPECT_EQ(c->annotations().at(kContainerHashAnnotation), ContainerHash(pod.spec.containers[0]));
  const auto& r = c->linux().resources();
  EXPECT_EQ(r.cpu_shares(), 256);
  EXPECT_EQ(r.cpu_quota(), 50000);
  EXPECT_EQ(r.cpu_period(), 100000);
  EXPECT_EQ(r.memory_limit_in_bytes(), 128 << 20);
  const auto& sc = c->linux().security_context();
  EXPECT_EQ(sc.run_as_user().value(), 1000);
  EXPECT_EQ(sc.run_as_group().value(), 10);
  EXPECT_TRUE(sc.no_new_privs());
  EXPECT_TRUE(sc.readonly_rootfs());
  EXPECT_THAT(sc.capabilities().add_capabilities(), ElementsAre("NET_ADMIN"));
  EXPECT_THAT(sc.capabilities().drop_capabilities(), ElementsAre("ALL"));
  EXPECT_EQ(sc.seccomp().profile_type(), cri::SecurityProfile::RuntimeDefault);
  EXPECT_FALSE(sc.masked_paths().empty());
}

TEST(CriConfigTest, QosClasses) {
  auto pod = MakePod(kPod);
  EXPECT_EQ(QosClass(pod), "Burstable");
  pod.spec.containers[0].resources.requests = pod.spec.containers[0].resources.limits;
  EXPECT_EQ(QosClass(pod), "Guaranteed");
  pod.spec.containers[0].resources = {};
  EXPECT_EQ(QosClass(pod), "BestEffort");
}

TEST(CriConfigTest, ConfigErrorsNameTheField) {
  auto pod = MakePod(kPod);
  pod.spec.containers[0].env.push_back(
      {"SECRET", "", nlohmann::json::parse(R"({"secretKeyRef":{"name":"s","key":"k"}})")});
  auto c = MakeContainerConfig(pod, pod.spec.containers[0], {}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("env[10] SECRET"));

  pod = MakePod(kPod);
  pod.spec.containers[0].volumeMounts.push_back({"data", false, "/data"});
  c = MakeContainerConfig(pod, pod.spec.containers[0], {}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("volumeMounts[0].name: volume \"data\""));

  pod = MakePod(kPod);
  pod.spec.containers[0].securityContext->runAsUser = 0;
  pod.spec.containers[0].securityContext->runAsNonRoot = true;
  c = MakeContainerConfig(pod, pod.spec.containers[0], {}, {});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("runAsNonRoot"));
}

}  // namespace
}  // namespace berth::agent
