#include "controlplane/apiserver/protobuf_body.h"

#include <gtest/gtest.h>

#include <string>

namespace berth::apiserver {
namespace {

// Minimal protobuf writer for the test: length-delimited and varint fields.
std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string Bytes(int field, const std::string& data) { return Varint(field << 3 | 2) + Varint(data.size()) + data; }
std::string Int(int field, uint64_t v) { return Varint(field << 3) + Varint(v); }
// A negative int32/int64 is written as its 64-bit two's complement.
std::string NegativeInt(int field, int64_t v) { return Int(field, static_cast<uint64_t>(v)); }
std::string MapEntry(int field, const std::string& k, const std::string& v) {
  return Bytes(field, Bytes(1, k) + Bytes(2, v));
}
std::string Envelope(const std::string& api_version, const std::string& kind, const std::string& raw) {
  return std::string("k8s\0", 4) + Bytes(1, Bytes(1, api_version) + Bytes(2, kind)) + Bytes(2, raw) +
         Bytes(4, "application/vnd.kubernetes.protobuf");
}

TEST(ProtobufBodyTest, ConfigMapAsKubectlSendsIt) {
  std::string meta = Bytes(1, "c1") + Bytes(3, "default") + MapEntry(11, "app", "web") + Bytes(14, "f1");
  std::string raw = Bytes(1, meta) + MapEntry(2, "a", "1") + MapEntry(2, "b", "two") + Int(4, 1);
  auto obj = DecodeProtobufBody(Envelope("v1", "ConfigMap", raw));
  ASSERT_TRUE(obj.ok()) << obj.status();
  EXPECT_EQ((*obj)["apiVersion"], "v1");
  EXPECT_EQ((*obj)["kind"], "ConfigMap");
  EXPECT_EQ((*obj)["metadata"]["name"], "c1");
  EXPECT_EQ((*obj)["metadata"]["namespace"], "default");
  EXPECT_EQ((*obj)["metadata"]["labels"]["app"], "web");
  EXPECT_EQ((*obj)["metadata"]["finalizers"][0], "f1");
  EXPECT_EQ((*obj)["data"]["a"], "1");
  EXPECT_EQ((*obj)["data"]["b"], "two");
  EXPECT_EQ((*obj)["immutable"], true);
}

TEST(ProtobufBodyTest, SecretBytesBecomeBase64AndReviewsDecode) {
  std::string raw = Bytes(1, Bytes(1, "s")) + MapEntry(2, "password", "hunter2") + Bytes(3, "Opaque");
  auto secret = DecodeProtobufBody(Envelope("v1", "Secret", raw));
  ASSERT_TRUE(secret.ok()) << secret.status();
  EXPECT_EQ((*secret)["data"]["password"], "aHVudGVyMg==");
  EXPECT_EQ((*secret)["type"], "Opaque");
  std::string attrs = Bytes(1, "default") + Bytes(2, "create") + Bytes(3, "apps") + Bytes(5, "deployments");
  auto review = DecodeProtobufBody(
      Envelope("authorization.k8s.io/v1", "SelfSubjectAccessReview", Bytes(2, Bytes(1, attrs))));
  ASSERT_TRUE(review.ok()) << review.status();
  EXPECT_EQ((*review)["spec"]["resourceAttributes"]["verb"], "create");
  EXPECT_EQ((*review)["spec"]["resourceAttributes"]["resource"], "deployments");
}

// IntOrString {1: type, 2: intVal, 3: strVal}, all written as Go does.
std::string IntOrStringInt(int field, int v) { return Bytes(field, Int(1, 0) + Int(2, v) + Bytes(3, "")); }
std::string IntOrStringStr(int field, const std::string& v) {
  return Bytes(field, Int(1, 1) + Int(2, 0) + Bytes(3, v));
}
// Go's encoder writes every non-pointer field, zero or not: a container as
// kubectl writes it, with its zero-valued strings and bools.
std::string Container(const std::string& name, const std::string& image, const std::string& extra) {
  return Bytes(1, name) + Bytes(2, image) + Bytes(5, "") + extra + Bytes(8, "") + Bytes(13, "") + Bytes(14, "") +
         Int(16, 0) + Int(17, 0) + Int(18, 0) + Bytes(20, "");
}
std::string Meta(const std::string& name, const std::string& labels) {
  return Bytes(1, name) + Bytes(2, "") + Bytes(3, "") + Int(7, 0) + Bytes(8, "") + labels;
}

// kubectl create deployment web --image=busybox --replicas=2 --port=8080
TEST(ProtobufBodyTest, DeploymentAsKubectlCreateDeploymentSendsIt) {
  std::string pod_spec = Bytes(2, Container("busybox", "busybox", Bytes(6, Bytes(1, "") + Int(2, 0) + Int(3, 8080) +
                                                                                 Bytes(4, "") + Bytes(5, "")))) +
                         Bytes(3, "") + Bytes(6, "") + Int(11, 0);
  std::string spec = Int(1, 2) + Bytes(2, MapEntry(1, "app", "web")) +
                     Bytes(3, Bytes(1, Meta("", MapEntry(11, "app", "web"))) + Bytes(2, pod_spec)) + Bytes(4, "") +
                     Int(5, 0);
  std::string status = Int(1, 0) + Int(2, 0) + Int(3, 0) + Int(4, 0);
  std::string raw = Bytes(1, Meta("web", MapEntry(11, "app", "web"))) + Bytes(2, spec) + Bytes(3, status);
  auto obj = DecodeProtobufBody(Envelope("apps/v1", "Deployment", raw));
  ASSERT_TRUE(obj.ok()) << obj.status();
  EXPECT_EQ((*obj)["apiVersion"], "apps/v1");
  EXPECT_EQ((*obj)["kind"], "Deployment");
  EXPECT_EQ((*obj)["metadata"], nlohmann::json::parse(R"({"name":"web","labels":{"app":"web"}})"));
  EXPECT_EQ((*obj)["spec"]["replicas"], 2);
  EXPECT_EQ((*obj)["spec"]["selector"]["matchLabels"]["app"], "web");
  EXPECT_EQ((*obj)["spec"]["strategy"], nlohmann::json::object());
  EXPECT_FALSE((*obj)["spec"].contains("minReadySeconds"));
  EXPECT_FALSE(obj->contains("status"));  // all zero: accepted and left out
  const auto& tmpl = (*obj)["spec"]["template"];
  EXPECT_EQ(tmpl["metadata"]["labels"]["app"], "web");
  ASSERT_EQ(tmpl["spec"]["containers"].size(), 1u);
  EXPECT_EQ(tmpl["spec"]["containers"][0],
            nlohmann::json::parse(
                R"({"name":"busybox","image":"busybox","ports":[{"containerPort":8080}],"resources":{}})"));
  EXPECT_FALSE(tmpl["spec"].contains("restartPolicy"));
  EXPECT_FALSE(tmpl["spec"].contains("hostNetwork"));
}

// An explicit zero in a pointer field (replicas: 0) is kept; a string
// strategy field and a percent IntOrString come through.
TEST(ProtobufBodyTest, DeploymentZeroReplicasAndRollingUpdate) {
  std::string strategy = Bytes(1, "RollingUpdate") + Bytes(2, IntOrStringStr(1, "25%") + IntOrStringInt(2, 0));
  std::string raw = Bytes(1, Meta("d0", "")) + Bytes(2, Int(1, 0) + Bytes(4, strategy) + Int(6, 3));
  auto obj = DecodeProtobufBody(Envelope("apps/v1", "Deployment", raw));
  ASSERT_TRUE(obj.ok()) << obj.status();
  EXPECT_EQ((*obj)["spec"]["replicas"], 0);
  EXPECT_EQ((*obj)["spec"]["revisionHistoryLimit"], 3);
  EXPECT_EQ((*obj)["spec"]["strategy"]["type"], "RollingUpdate");
  EXPECT_EQ((*obj)["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"], "25%");
  EXPECT_EQ((*obj)["spec"]["strategy"]["rollingUpdate"]["maxSurge"], 0);  // a pointer: zero kept
}

// kubectl run p1 --image=busybox --labels=app=x --env=A=1 --port=80 --restart=Never --limits=cpu=100m -- sleep 10
TEST(ProtobufBodyTest, PodAsKubectlRunSendsIt) {
  std::string ports = Bytes(6, Int(3, 80) + Bytes(4, "TCP"));
  std::string env = Bytes(7, Bytes(1, "A") + Bytes(2, "1")) + Bytes(7, Bytes(1, "B") + Bytes(2, ""));
  std::string resources =
      Bytes(8, MapEntry(1, "cpu", Bytes(1, "100m")) + MapEntry(1, "memory", Bytes(1, "64Mi")) +
                   MapEntry(2, "cpu", Bytes(1, "50m")));
  std::string container = Bytes(1, "p1") + Bytes(2, "busybox") + Bytes(3, "sh") + Bytes(4, "sleep") +
                          Bytes(4, "10") + ports + env + resources + Int(16, 1) + Int(18, 1);
  std::string spec = Bytes(2, container) + Bytes(3, "Never") + Int(4, 0) + Bytes(6, "ClusterFirst") +
                     MapEntry(7, "disk", "ssd") + Int(21, 0) + NegativeInt(25, -5);
  std::string raw = Bytes(1, Meta("p1", MapEntry(11, "app", "x"))) + Bytes(2, spec) +
                    Bytes(3, Bytes(1, "") + Bytes(2, ""));  // status {phase: "", message: ""}
  auto obj = DecodeProtobufBody(Envelope("v1", "Pod", raw));
  ASSERT_TRUE(obj.ok()) << obj.status();
  EXPECT_EQ((*obj)["metadata"]["labels"]["app"], "x");
  const auto& spec_json = (*obj)["spec"];
  EXPECT_EQ(spec_json["restartPolicy"], "Never");
  EXPECT_EQ(spec_json["dnsPolicy"], "ClusterFirst");
  EXPECT_EQ(spec_json["terminationGracePeriodSeconds"], 0);  // pointer: explicit zero kept
  EXPECT_EQ(spec_json["automountServiceAccountToken"], false);
  EXPECT_EQ(spec_json["priority"], -5);
  EXPECT_EQ(spec_json["nodeSelector"]["disk"], "ssd");
  const auto& c = spec_json["containers"][0];
  EXPECT_EQ(c["command"], nlohmann::json::parse(R"(["sh"])"));
  EXPECT_EQ(c["args"], nlohmann::json::parse(R"(["sleep","10"])"));
  EXPECT_EQ(c["ports"], nlohmann::json::parse(R"([{"containerPort":80,"protocol":"TCP"}])"));
  EXPECT_EQ(c["env"], nlohmann::json::parse(R"([{"name":"A","value":"1"},{"name":"B"}])"));
  EXPECT_EQ(c["resources"],
            nlohmann::json::parse(R"({"limits":{"cpu":"100m","memory":"64Mi"},"requests":{"cpu":"50m"}})"));
  EXPECT_EQ(c["stdin"], true);
  EXPECT_EQ(c["tty"], true);
  EXPECT_FALSE(obj->contains("status"));
}

// kubectl expose deployment web --port=80 --target-port=8080, and a named target port.
TEST(ProtobufBodyTest, ServiceAsKubectlExposeSendsIt) {
  std::string port80 = Bytes(1, "") + Bytes(2, "TCP") + Int(3, 80) + IntOrStringInt(4, 8080) + Int(5, 0);
  std::string port443 = Bytes(1, "https") + Bytes(2, "TCP") + Int(3, 443) + IntOrStringStr(4, "web-https") + Int(5, 0);
  std::string port53 = Bytes(1, "dns") + Bytes(2, "UDP") + Int(3, 53) + IntOrStringInt(4, 0) + Int(5, 0);
  std::string spec = Bytes(1, port80) + Bytes(1, port443) + Bytes(1, port53) + MapEntry(2, "app", "web") +
                     Bytes(3, "") + Bytes(4, "NodePort") + Bytes(5, "192.0.2.1") + Bytes(7, "") + Int(12, 0);
  std::string raw = Bytes(1, Meta("web", MapEntry(11, "app", "web"))) + Bytes(2, spec) + Bytes(3, Bytes(1, ""));
  auto obj = DecodeProtobufBody(Envelope("v1", "Service", raw));
  ASSERT_TRUE(obj.ok()) << obj.status();
  const auto& spec_json = (*obj)["spec"];
  EXPECT_EQ(spec_json["type"], "NodePort");
  EXPECT_EQ(spec_json["selector"]["app"], "web");
  EXPECT_EQ(spec_json["externalIPs"], nlohmann::json::parse(R"(["192.0.2.1"])"));
  EXPECT_FALSE(spec_json.contains("clusterIP"));
  ASSERT_EQ(spec_json["ports"].size(), 3u);
  EXPECT_EQ(spec_json["ports"][0], nlohmann::json::parse(R"({"protocol":"TCP","port":80,"targetPort":8080})"));
  EXPECT_EQ(spec_json["ports"][1]["targetPort"], "web-https");
  EXPECT_EQ(spec_json["ports"][1]["name"], "https");
  EXPECT_FALSE(spec_json["ports"][2].contains("targetPort"));  // zero: the server defaults it to port
  EXPECT_EQ(spec_json["ports"][2]["protocol"], "UDP");
}

// kubectl create job j1 --image=busybox -- echo hi, with a privileged
// container, a toleration and an image pull secret in its template.
TEST(ProtobufBodyTest, JobWithSecurityContextAndTolerations) {
  std::string security = Bytes(15, Bytes(1, Bytes(1, "NET_ADMIN") + Bytes(2, "ALL")) + Int(2, 1) + Int(4, 0));
  std::string container = Container("j1", "busybox", Bytes(3, "echo") + Bytes(3, "hi") + security);
  std::string toleration = Bytes(1, "node.kubernetes.io/unreachable") + Bytes(2, "Exists") + Bytes(3, "") +
                           Bytes(4, "NoExecute") + Int(5, 300);
  std::string pod_spec =
      Bytes(2, container) + Bytes(3, "Never") + Bytes(15, Bytes(1, "regcred")) + Bytes(22, toleration);
  std::string spec = Int(2, 1) + Bytes(6, Bytes(1, Meta("", "")) + Bytes(2, pod_spec)) + Int(7, 0) + Int(10, 0);
  auto obj = DecodeProtobufBody(Envelope("batch/v1", "Job", Bytes(1, Meta("j1", "")) + Bytes(2, spec)));
  ASSERT_TRUE(obj.ok()) << obj.status();
  EXPECT_EQ((*obj)["spec"]["completions"], 1);
  EXPECT_EQ((*obj)["spec"]["backoffLimit"], 0);  // pointers: explicit zeros kept
  EXPECT_EQ((*obj)["spec"]["suspend"], false);
  const auto& ps = (*obj)["spec"]["template"]["spec"];
  EXPECT_EQ(ps["restartPolicy"], "Never");
  EXPECT_EQ(ps["imagePullSecrets"], nlohmann::json::parse(R"([{"name":"regcred"}])"));
  EXPECT_EQ(ps["tolerations"], nlohmann::json::parse(R"([{"key":"node.kubernetes.io/unreachable","operator":"Exists",
                                                         "effect":"NoExecute","tolerationSeconds":300}])"));
  EXPECT_EQ(ps["containers"][0]["command"], nlohmann::json::parse(R"(["echo","hi"])"));
  EXPECT_EQ(ps["containers"][0]["securityContext"],
            nlohmann::json::parse(
                R"({"capabilities":{"add":["NET_ADMIN"],"drop":["ALL"]},"privileged":true,"runAsUser":0})"));
}

TEST(ProtobufBodyTest, ServiceAccount) {
  std::string raw = Bytes(1, Meta("sa1", "")) + Bytes(2, Bytes(3, "sa1-token")) + Bytes(3, Bytes(1, "regcred")) +
                    Int(4, 0);
  auto obj = DecodeProtobufBody(Envelope("v1", "ServiceAccount", raw));
  ASSERT_TRUE(obj.ok()) << obj.status();
  EXPECT_EQ((*obj)["metadata"]["name"], "sa1");
  EXPECT_EQ((*obj)["secrets"], nlohmann::json::parse(R"([{"name":"sa1-token"}])"));
  EXPECT_EQ((*obj)["imagePullSecrets"], nlohmann::json::parse(R"([{"name":"regcred"}])"));
  EXPECT_EQ((*obj)["automountServiceAccountToken"], false);
}

// A field berth has no schema for is refused when it carries a value (not
// dropped), naming where it is; an unknown kind is refused as before.
TEST(ProtobufBodyTest, UnknownFieldWithValueOrUnknownKindRefused) {
  std::string volume = Bytes(1, Bytes(1, "data"));  // spec.volumes[0].name
  std::string spec = Bytes(2, Container("c", "busybox", "")) + volume;
  auto pod = DecodeProtobufBody(Envelope("v1", "Pod", Bytes(1, Meta("p", "")) + Bytes(2, spec)));
  ASSERT_EQ(pod.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(pod.status().message().find(R"(field number 1 of "spec")"), std::string::npos) << pod.status();
  EXPECT_NE(pod.status().message().find("v1 Pod"), std::string::npos) << pod.status();
  std::string probe = Bytes(10, Bytes(1, Bytes(1, Bytes(1, "ls"))));  // containers[0].livenessProbe.exec
  auto deep = DecodeProtobufBody(
      Envelope("v1", "Pod", Bytes(1, Meta("p", "")) + Bytes(2, Bytes(2, Container("c", "busybox", probe)))));
  ASSERT_EQ(deep.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(deep.status().message().find("spec.containers[0]"), std::string::npos) << deep.status();
  auto unknown_kind = DecodeProtobufBody(Envelope("apps/v1", "StatefulSet", ""));
  EXPECT_EQ(unknown_kind.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(unknown_kind.status().message().find("StatefulSet"), std::string::npos);
}

TEST(ProtobufBodyTest, BadInputNamed) {
  EXPECT_EQ(DecodeProtobufBody("{}").status().code(), absl::StatusCode::kInvalidArgument);
  // spec.replicas sent as a length-delimited field: malformed, named.
  auto wrong_wire = DecodeProtobufBody(Envelope("apps/v1", "Deployment", Bytes(2, Bytes(1, "2"))));
  EXPECT_EQ(wrong_wire.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_wire.status().message().find("spec.replicas"), std::string::npos) << wrong_wire.status();
  // A container list entry sent as a varint.
  auto wrong_list = DecodeProtobufBody(Envelope("v1", "Pod", Bytes(2, Int(2, 1))));
  EXPECT_EQ(wrong_list.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_list.status().message().find("spec.containers"), std::string::npos) << wrong_list.status();
  std::string truncated = Envelope("v1", "ConfigMap", Bytes(1, Bytes(1, "c1")));
  truncated.resize(truncated.size() - 3);
  EXPECT_FALSE(DecodeProtobufBody(truncated).ok());
}

}  // namespace
}  // namespace berth::apiserver
