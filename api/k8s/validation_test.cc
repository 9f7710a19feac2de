#include "api/k8s/validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/k8s/defaults.h"

namespace berth::k8s {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kLabelMsg[] =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
    "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
constexpr char kSubdomainMsg[] =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
    "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
    "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

Pod ValidPod() {
  Pod p;
  p.metadata.name = "web";
  p.metadata.namespace_ = "default";
  p.metadata.labels = {{"app", "web"}, {"example.com/tier", "front_end.1"}};
  p.metadata.annotations = {{"kubernetes.io/config.source", "file"}};
  Container c;
  c.name = "app";
  c.image = "nginx:1.27";
  c.ports = {ContainerPort{"http", 0, 80, "", ""}, ContainerPort{"dns", 0, 53, "UDP", ""},
             ContainerPort{"dns-tcp", 0, 53, "TCP", ""}};
  c.resources.limits["cpu"] = *Quantity::Parse("1");
  c.resources.requests["cpu"] = *Quantity::Parse("500m");
  c.volumeMounts = {VolumeMount{"data", false, "/data", "", "", std::nullopt}};
  Probe probe;
  probe.tcpSocket = TCPSocketAction{IntOrString::Str("http"), ""};
  c.livenessProbe = probe;
  c.readinessProbe = probe;
  p.spec.containers.push_back(c);
  Container init;
  init.name = "setup";
  init.image = "busybox";
  p.spec.initContainers.push_back(init);
  Container sidecar = init;
  sidecar.name = "log-shipper";
  sidecar.restartPolicy = "Always";
  sidecar.readinessProbe = probe;
  p.spec.initContainers.push_back(sidecar);
  Volume v;
  v.name = "data";
  v.emptyDir = EmptyDirVolumeSource{};
  p.spec.volumes.push_back(v);
  SetDefaultsPod(&p);
  return p;
}

std::vector<std::string> Errors(const Pod& p) {
  std::vector<std::string> out;
  for (const auto& e : ValidatePod(p)) out.push_back(e.ToString());
  return out;
}

TEST(ValidationTest, ValidPodPasses) {
  EXPECT_THAT(Errors(ValidPod()), IsEmpty());
  EXPECT_TRUE(ValidatePodStatus(ValidPod()).ok());
}

TEST(ValidationTest, MetadataName) {
  Pod p = ValidPod();
  p.metadata.name = "";
  EXPECT_THAT(Errors(p), ElementsAre("metadata.name: Required value: name or generateName is required"));
  p.metadata.name = "Web_1";
  EXPECT_THAT(Errors(p), ElementsAre(std::string("metadata.name: Invalid value: \"Web_1\": ") + kSubdomainMsg));
  p.metadata.name = std::string(254, 'a');
  EXPECT_THAT(Errors(p), ElementsAre("metadata.name: Invalid value: \"" + p.metadata.name +
                                     "\": must be no more than 253 characters"));
  p.metadata.name = "a.b-c";
  EXPECT_THAT(Errors(p), IsEmpty());
}

TEST(ValidationTest, Namespace) {
  Pod p = ValidPod();
  p.metadata.namespace_ = "kube.system";
  EXPECT_THAT(Errors(p), ElementsAre(std::string("metadata.namespace: Invalid value: \"kube.system\": ") + kLabelMsg));
}

TEST(ValidationTest, Labels) {
  Pod p = ValidPod();
  p.metadata.labels = {{"bad key", "ok"}};
  EXPECT_THAT(Errors(p),
              ElementsAre("metadata.labels: Invalid value: \"bad key\": name part must consist of alphanumeric "
                          "characters, '-', '_' or '.', and must start and end with an alphanumeric character "
                          "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
                          "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"));
  p.metadata.labels = {{"Example.com/x", "v"}};
  EXPECT_THAT(Errors(p), ElementsAre(std::string("metadata.labels: Invalid value: \"Example.com/x\": prefix part ") +
                                     kSubdomainMsg));
  p.metadata.labels = {{"a/b/c", "v"}};
  EXPECT_THAT(Errors(p),
              ElementsAre("metadata.labels: Invalid value: \"a/b/c\": a qualified name must consist of alphanumeric "
                          "characters, '-', '_' or '.', and must start and end with an alphanumeric character "
                          "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
                          "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix "
                          "and '/' (e.g. 'example.com/MyName')"));
  p.metadata.labels = {{std::string(64, 'k'), "v"}};
  auto errs = Errors(p);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0], "metadata.labels: Invalid value: \"" + std::string(64, 'k') +
                         "\": name part must be no more than 63 characters");
  p.metadata.labels = {{"k", "-bad"}};
  EXPECT_THAT(Errors(p),
              ElementsAre("metadata.labels: Invalid value: \"-bad\": a valid label must be an empty string or "
                          "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                          "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for "
                          "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"));
  p.metadata.labels = {{"k", std::string(64, 'v')}};
  EXPECT_THAT(Errors(p), ElementsAre("metadata.labels: Invalid value: \"" + std::string(64, 'v') +
                                     "\": must be no more than 63 characters"));
  p.metadata.labels = {{"k", ""}};
  EXPECT_THAT(Errors(p), IsEmpty());
}

TEST(ValidationTest, Annotations) {
  Pod p = ValidPod();
  p.metadata.annotations = {{"Mixed.Case/Key", "any value at all"}};  // keys are checked lowercased
  EXPECT_THAT(Errors(p), IsEmpty());
  p.metadata.annotations = {{"/x", "v"}};
  EXPECT_THAT(Errors(p), ElementsAre("metadata.annotations: Invalid value: \"/x\": prefix part must be non-empty"));
  p.metadata.annotations = {{"big", std::string(256 * 1024, 'x')}};
  EXPECT_THAT(Errors(p), ElementsAre("metadata.annotations: Too long: may not be more than 262144 bytes"));
}

TEST(ValidationTest, ContainersRequired) {
  Pod p = ValidPod();
  p.spec.containers.clear();
  EXPECT_THAT(Errors(p), ElementsAre("spec.containers: Required value"));
}

TEST(ValidationTest, ContainerNames) {
  Pod p = ValidPod();
  p.spec.containers[0].name = "Foo";
  EXPECT_THAT(Errors(p), ElementsAre(std::string("spec.containers[0].name: Invalid value: \"Foo\": ") + kLabelMsg));
  p = ValidPod();
  p.spec.containers[0].name = "";
  EXPECT_THAT(Errors(p), ElementsAre("spec.containers[0].name: Required value"));
  p = ValidPod();
  p.spec.containers.push_back(p.spec.containers[0]);
  p.spec.containers[1].ports.clear();
  EXPECT_THAT(Errors(p), ElementsAre("spec.containers[1].name: Duplicate value: \"app\""));
  p = ValidPod();
  p.spec.initContainers[0].name = "app";
  EXPECT_THAT(Errors(p), ElementsAre("spec.initContainers[0].name: Duplicate value: \"app\""));
}

TEST(ValidationTest, ImageRequired) {
  Pod p = ValidPod();
  p.spec.containers[0].image = "";
  EXPECT_THAT(Errors(p), ElementsAre("spec.containers[0].image: Required value"));
}

TEST(ValidationTest, Ports) {
  Pod p = ValidPod();
  auto& ports = p.spec.containers[0].ports;
  ports = {ContainerPort{"", 0, 0, "TCP", ""}, ContainerPort{"", 70000, 65536, "TCP", ""},
           ContainerPort{"", 0, 80, "ICMP", ""}, ContainerPort{"", 0, 81, "", ""}};
  EXPECT_THAT(Errors(p),
              ElementsAre("spec.containers[0].ports[0].containerPort: Required value",
                          "spec.containers[0].ports[1].containerPort: Invalid value: 65536: must be between 1 and "
                          "65535, inclusive",
                          "spec.containers[0].ports[1].hostPort: Invalid value: 70000: must be between 1 and 65535, "
                          "inclusive",
                          "spec.containers[0].ports[2].protocol: Unsupported value: \"ICMP\": supported values: "
                          "\"SCTP\", \"TCP\", \"UDP\"",
                          "spec.containers[0].ports[3].protocol: Required value"));
}

TEST(ValidationTest, PortUniqueness) {
  Pod p = ValidPod();
  p.spec.containers[0].ports = {ContainerPort{"web", 0, 80, "TCP", ""}, ContainerPort{"web", 0, 80, "TCP", ""},
                                ContainerPort{"", 0, 80, "UDP", ""}};
  EXPECT_THAT(Errors(p), ElementsAre("spec.containers[0].ports[1].name: Duplicate value: \"web\"",
                                     "spec.containers[0].ports[1].containerPort: Duplicate value: \"80/TCP\""));
  p = ValidPod();
  Container other = p.spec.containers[0];
  other.name = "other";
  other.ports = {ContainerPort{"", 8080, 80, "TCP", ""}};
  other.volumeMounts.clear();
  p.spec.containers[0].ports = {ContainerPort{"", 8080, 81, "TCP", ""}};
  p.spec.containers.push_back(other);
  EXPECT_THAT(Errors(p), ElementsAre("spec.containers[1].ports[0].hostPort: Duplicate value: \"TCP//8080\""));
}

TEST(ValidationTest, PortNames) {
  EXPECT_THAT(IsValidPortName("http"), IsEmpty());
  EXPECT_THAT(IsValidPortName("a-very-long-port-name"), ElementsAre("must be no more than 15 characters"));
  EXPECT_THAT(IsValidPortName("HTTP"), ElementsAre("must contain only alpha-numeric characters (a-z, 0-9), and "
                                                   "hyphens (-)",
                                                   "must contain at least one letter (a-z)"));
  EXPECT_THAT(IsValidPortName("a--b"), ElementsAre("must not contain consecutive hyphens"));
  EXPECT_THAT(IsValidPortName("-ab"), ElementsAre("must not begin or end with a hyphen"));
  EXPECT_THAT(IsValidPortName("8080"), ElementsAre("must contain at least one letter (a-z)"));
}

TEST(ValidationTest, HostNetworkPorts) {
  Pod p = ValidPod();
  p.spec.hostNetwork = true;
  p.spec.containers[0].ports = {ContainerPort{"", 8080, 80, "TCP", ""}, ContainerPort{"http", 81, 81, "TCP", ""}};
  EXPECT_THAT(Errors(p), ElementsAre("spec.containers[0].ports[0].hostPort: Invalid value: 8080: must match "
                                     "`containerPort` when `hostNetwork` is true"));
}

TEST(ValidationTest, PodEnums) {
  Pod p = ValidPod();
  p.spec.restartPolicy = "Sometimes";
  p.spec.dnsPolicy = "";
  EXPECT_THAT(Errors(p), ElementsAre("spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: "
                                     "\"Always\", \"OnFailure\", \"Never\"",
                                     "spec.dnsPolicy: Required value"));
  p = ValidPod();
  p.spec.restartPolicy = "";
  p.spec.dnsPolicy = "Google";
  EXPECT_THAT(Errors(p), ElementsAre("spec.restartPolicy: Required value",
                                     "spec.dnsPolicy: Unsupported value: \"Google\": supported values: "
                                     "\"ClusterFirstWithHostNet\", \"ClusterFirst\", \"Default\", \"None\""));
  p = ValidPod();
  p.spec.dnsPolicy = "None";
  EXPECT_THAT(Errors(p), ElementsAre("spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"));
  p.spec.dnsConfig = PodDNSConfig{{"1.1.1.1"}, {}, {}};
  EXPECT_THAT(Errors(p), IsEmpty());
}

TEST(ValidationTest, ContainerEnums) {
  Pod p = ValidPod();
  p.spec.containers[0].imagePullPolicy = "Sometimes";
  p.spec.containers[0].terminationMessagePolicy = "";
  EXPECT_THAT(Errors(p), ElementsAre("spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": "
                                     "supported values: \"Always\", \"IfNotPresent\", \"Never\"",
                                     "spec.containers[0].terminationMessagePolicy: Required value"));
  p = ValidPod();
  p.spec.containers[0].imagePullPolicy = "";
  p.spec.containers[0].terminationMessagePolicy = "Log";
  EXPECT_THAT(Errors(p), ElementsAre("spec.containers[0].imagePullPolicy: Required value",
                                     "spec.containers[0].terminationMessagePolicy: Unsupported value: \"Log\": "
                                     "supported values: \"File\", \"FallbackToLogsOnError\""));
}

TEST(ValidationTest, RestartPolicyOnContainers) {
  Pod p = ValidPod();
  p.spec.initContainers[1].restartPolicy = "OnFailure";
  p.spec.containers[0].restartPolicy = "Always";
  EXPECT_THAT(Errors(p),
              ElementsAre("spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers",
                          "spec.initContainers[1].readinessProbe: Forbidden: may not be set for init containers "
                          "without restartPolicy=Always",
                          "spec.initContainers[1].restartPolicy: Unsupported value: \"OnFailure\": supported "
                          "values: \"Always\""));
}

TEST(ValidationTest, Resources) {
  Pod p = ValidPod();
  auto& r = p.spec.containers[0].resources;
  r.requests["cpu"] = *Quantity::Parse("2");
  r.limits["memory"] = *Quantity::Parse("-1Mi");
  EXPECT_THAT(Errors(p),
              ElementsAre("spec.containers[0].resources.limits[memory]: Invalid value: \"-1Mi\": must be greater "
                          "than or equal to 0",
                          "spec.containers[0].resources.requests[cpu]: Invalid value: \"2\": must be less than or "
                          "equal to cpu limit of 1"));
  r.limits.erase("memory");
  r.requests["cpu"] = *Quantity::Parse("1000m");
  EXPECT_THAT(Errors(p), IsEmpty());
}

TEST(ValidationTest, ProbeHandlers) {
  Pod p = ValidPod();
  p.spec.containers[0].livenessProbe = Probe{};
  SetDefaultsProbe(&*p.spec.containers[0].livenessProbe);
  p.spec.containers[0].readinessProbe->exec = ExecAction{};
  p.spec.containers[0].readinessProbe->httpGet = HTTPGetAction{"/", IntOrString::Int(0), "", "HTTP", {}};
  EXPECT_THAT(Errors(p),
              ElementsAre("spec.containers[0].livenessProbe: Required value: must specify a handler type",
                          "spec.containers[0].readinessProbe.httpGet: Forbidden: may not specify more than 1 "
                          "handler type",
                          "spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 "
                          "handler type",
                          "spec.containers[0].readinessProbe.exec.command: Required value",
                          "spec.containers[0].readinessProbe.httpGet.port: Invalid value: 0: must be between 1 and "
                          "65535, inclusive"));
}

TEST(ValidationTest, ProbeNumbers) {
  Pod p = ValidPod();
  auto& live = *p.spec.containers[0].livenessProbe;
  live.successThreshold = 2;
  live.periodSeconds = -1;
  auto& ready = *p.spec.containers[0].readinessProbe;
  ready.terminationGracePeriodSeconds = 5;
  ready.successThreshold = 3;  // allowed for readiness
  EXPECT_THAT(Errors(p),
              ElementsAre("spec.containers[0].livenessProbe.periodSeconds: Invalid value: -1: must be greater than "
                          "or equal to 0",
                          "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
                          "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 5: must "
                          "not be set for readinessProbes"));
}

TEST(ValidationTest, Lifecycle) {
  Pod p = ValidPod();
  p.spec.containers[0].lifecycle = Lifecycle{};
  p.spec.containers[0].lifecycle->preStop = LifecycleHandler{};
  p.spec.containers[0].lifecycle->postStart = LifecycleHandler{};
  p.spec.containers[0].lifecycle->postStart->sleep = SleepAction{-1};
  EXPECT_THAT(Errors(p),
              ElementsAre("spec.containers[0].lifecycle.postStart.sleep.seconds: Invalid value: -1: must be greater "
                          "than or equal to 0",
                          "spec.containers[0].lifecycle.preStop: Required value: must specify a handler type"));
}

TEST(ValidationTest, Volumes) {
  Pod p = ValidPod();
  Volume dup = p.spec.volumes[0];
  Volume none;
  none.name = "Bad_Name";
  Volume two;
  two.name = "two";
  two.hostPath = HostPathVolumeSource{"", std::string("Weird")};
  two.emptyDir = EmptyDirVolumeSource{};
  two.otherSources.fields["nfs"] = nlohmann::json::object();
  p.spec.volumes.push_back(dup);
  p.spec.volumes.push_back(none);
  p.spec.volumes.push_back(two);
  EXPECT_THAT(Errors(p),
              ElementsAre("spec.volumes[1].name: Duplicate value: \"data\"",
                          std::string("spec.volumes[2].name: Invalid value: \"Bad_Name\": ") + kLabelMsg,
                          "spec.volumes[2]: Required value: must specify a volume type",
                          "spec.volumes[3].emptyDir: Forbidden: may not specify more than 1 volume type",
                          "spec.volumes[3].nfs: Forbidden: may not specify more than 1 volume type",
                          "spec.volumes[3].hostPath.path: Required value",
                          "spec.volumes[3].hostPath.type: Unsupported value: \"Weird\": supported values: \"\", "
                          "\"BlockDevice\", \"CharDevice\", \"Directory\", \"DirectoryOrCreate\", \"File\", "
                          "\"FileOrCreate\", \"Socket\""));
}

TEST(ValidationTest, VolumeMounts) {
  Pod p = ValidPod();
  p.spec.containers[0].volumeMounts.push_back(VolumeMount{"missing", false, "/data", "", "", std::nullopt});
  p.spec.containers[0].volumeMounts.push_back(VolumeMount{"data", false, "", "../etc", "", std::nullopt});
  EXPECT_THAT(Errors(p),
              ElementsAre("spec.containers[0].volumeMounts[1].name: Not found: \"missing\"",
                          "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/data\": must be unique",
                          "spec.containers[0].volumeMounts[2].mountPath: Required value",
                          "spec.containers[0].volumeMounts[2].subPath: Invalid value: \"../etc\": must be a "
                          "relative path without '..'"));
}

TEST(ValidationTest, Env) {
  Pod p = ValidPod();
  p.spec.containers[0].env = {EnvVar{"", "", nullptr}, EnvVar{"1BAD", "x", nullptr},
                              EnvVar{"BOTH", "x", nlohmann::json::parse(R"({"fieldRef":{}})")},
                              EnvVar{"my.env-name_1", "", nullptr}};
  EXPECT_THAT(Errors(p),
              ElementsAre("spec.containers[0].env[0].name: Required value",
                          "spec.containers[0].env[1].name: Invalid value: \"1BAD\": a valid environment variable "
                          "name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start "
                          "with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for "
                          "validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')",
                          "spec.containers[0].env[2].valueFrom: Invalid value: \"\": may not be specified when "
                          "`value` is not empty"));
}

TEST(ValidationTest, GracePeriodAndDeadline) {
  Pod p = ValidPod();
  p.spec.terminationGracePeriodSeconds = -1;
  p.spec.activeDeadlineSeconds = 0;
  EXPECT_THAT(Errors(p),
              ElementsAre("spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0",
                          "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, "
                          "inclusive"));
  p.spec.terminationGracePeriodSeconds = 0;
  p.spec.activeDeadlineSeconds = 60;
  EXPECT_THAT(Errors(p), IsEmpty());
}

TEST(ValidationTest, PodFields) {
  Pod p = ValidPod();
  p.spec.hostname = "Host";
  p.spec.nodeSelector = {{"kubernetes.io/os", "linux"}, {"bad key", "x"}};
  p.spec.hostAliases = {HostAlias{"not-an-ip", {"ok.example"}}};
  p.spec.tolerations = {Toleration{"k", "Sometimes", "", "NoSchedule", std::nullopt}};
  p.spec.os = PodOS{"plan9"};
  auto errs = Errors(p);
  ASSERT_EQ(errs.size(), 5u) << testing::PrintToString(errs);
  EXPECT_EQ(errs[0].substr(0, 45), "spec.nodeSelector: Invalid value: \"bad key\": ");
  EXPECT_EQ(errs[1], std::string("spec.hostname: Invalid value: \"Host\": ") + kLabelMsg);
  EXPECT_EQ(errs[2], "spec.tolerations[0].operator: Unsupported value: \"Sometimes\": supported values: \"Equal\", "
                     "\"Exists\"");
  EXPECT_EQ(errs[3], "spec.hostAliases[0].ip: Invalid value: \"not-an-ip\": must be valid IP address");
  EXPECT_EQ(errs[4], "spec.os.name: Unsupported value: \"plan9\": supported values: \"linux\", \"windows\"");
}

TEST(ValidationTest, AllErrorsJoined) {
  Pod p = ValidPod();
  p.metadata.name = "";
  p.spec.containers[0].image = "";
  absl::Status s = ValidatePodStatus(p);
  EXPECT_EQ(s.message(), "Pod \"\" is invalid: [metadata.name: Required value: name or generateName is required, "
                         "spec.containers[0].image: Required value]");
  p = ValidPod();
  p.spec.containers[0].image = "";
  EXPECT_EQ(ValidatePodStatus(p).message(), "Pod \"web\" is invalid: spec.containers[0].image: Required value");
}

}  // namespace
}  // namespace berth::k8s
