#include "api/k8s/codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace berth::k8s {
namespace {

using ::testing::HasSubstr;

// A kubeadm-style kube-apiserver static pod manifest.
constexpr char kApiServerYaml[] = R"(apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint: 10.0.0.5:6443
  creationTimestamp: null
  labels:
    component: kube-apiserver
    tier: control-plane
  name: kube-apiserver
  namespace: kube-system
spec:
  containers:
  - command:
    - kube-apiserver
    - --advertise-address=10.0.0.5
    - --allow-privileged=true
    - --secure-port=6443
    - --etcd-servers=https://127.0.0.1:2379
    image: registry.k8s.io/kube-apiserver:v1.32.0
    imagePullPolicy: IfNotPresent
    livenessProbe:
      failureThreshold: 8
      httpGet:
        host: 10.0.0.5
        path: /livez
        port: 6443
        scheme: HTTPS
      initialDelaySeconds: 10
      periodSeconds: 10
      timeoutSeconds: 15
    name: kube-apiserver
    readinessProbe:
      failureThreshold: 3
      httpGet:
        host: 10.0.0.5
        path: /readyz
        port: 6443
        scheme: HTTPS
      periodSeconds: 1
      timeoutSeconds: 15
    resources:
      requests:
        cpu: 250m
    startupProbe:
      failureThreshold: 24
      httpGet:
        host: 10.0.0.5
        path: /livez
        port: probe-port
        scheme: HTTPS
      initialDelaySeconds: 10
      periodSeconds: 10
      timeoutSeconds: 15
    volumeMounts:
    - mountPath: /etc/ssl/certs
      name: ca-certs
      readOnly: true
    - mountPath: /etc/kubernetes/pki
      name: k8s-certs
      readOnly: true
  hostNetwork: true
  priority: 2000001000
  priorityClassName: system-node-critical
  securityContext:
    seccompProfile:
      type: RuntimeDefault
  volumes:
  - hostPath:
      path: /etc/ssl/certs
      type: DirectoryOrCreate
    name: ca-certs
  - hostPath:
      path: /etc/kubernetes/pki
      type: DirectoryOrCreate
    name: k8s-certs
status: {}
)";

TEST(CodecTest, ApiServerManifestFields) {
  auto pods = DecodePods(kApiServerYaml);
  ASSERT_TRUE(pods.ok()) << pods.status();
  ASSERT_EQ(pods->size(), 1u);
  const Pod& p = (*pods)[0];
  EXPECT_EQ(p.metadata.name, "kube-apiserver");
  EXPECT_EQ(p.metadata.namespace_, "kube-system");
  EXPECT_FALSE(p.metadata.creationTimestamp.has_value());
  EXPECT_EQ(p.metadata.labels.at("tier"), "control-plane");
  EXPECT_TRUE(p.spec.hostNetwork);
  ASSERT_EQ(p.spec.containers.size(), 1u);
  const Container& c = p.spec.containers[0];
  EXPECT_EQ(c.command.size(), 5u);
  EXPECT_EQ(c.command[4], "--etcd-servers=https://127.0.0.1:2379");
  ASSERT_TRUE(c.livenessProbe && c.livenessProbe->httpGet);
  EXPECT_EQ(c.livenessProbe->httpGet->port, IntOrString::Int(6443));
  EXPECT_EQ(c.livenessProbe->failureThreshold, 8);
  EXPECT_EQ(c.startupProbe->httpGet->port, IntOrString::Str("probe-port"));
  EXPECT_EQ(c.resources.requests.at("cpu").MilliValue(), 250);
  EXPECT_TRUE(c.volumeMounts[0].readOnly);
  ASSERT_EQ(p.spec.volumes.size(), 2u);
  EXPECT_EQ(p.spec.volumes[1].hostPath->path, "/etc/kubernetes/pki");
  EXPECT_EQ(*p.spec.volumes[1].hostPath->type, "DirectoryOrCreate");
  EXPECT_EQ(*p.spec.priority, 2000001000);
  EXPECT_EQ(p.spec.securityContext->seccompProfile->type, "RuntimeDefault");
}

TEST(CodecTest, RoundTripJsonAndYaml) {
  auto pods = DecodePods(kApiServerYaml);
  ASSERT_TRUE(pods.ok()) << pods.status();
  const Pod& p = (*pods)[0];

  // The encoded JSON is the manifest's own JSON (no defaults added, empties omitted).
  auto docs = YamlToJson(kApiServerYaml);
  ASSERT_TRUE(docs.ok());
  nlohmann::json want = (*docs)[0];
  want["metadata"].erase("creationTimestamp");  // null: unset
  EXPECT_EQ(PodToJson(p), want) << PodToJson(p).dump(2);

  auto from_json = DecodePodJson(EncodePodJson(p, 2));
  ASSERT_TRUE(from_json.ok()) << from_json.status();
  EXPECT_EQ(*from_json, p);

  std::string yaml = EncodePodYaml(p);
  auto from_yaml = DecodePods(yaml);
  ASSERT_TRUE(from_yaml.ok()) << from_yaml.status() << "\n" << yaml;
  ASSERT_EQ(from_yaml->size(), 1u);
  EXPECT_EQ((*from_yaml)[0], p);
  EXPECT_EQ(EncodePodYaml((*from_yaml)[0]), yaml);
}

TEST(CodecTest, OmitsEmptyAndKeepsRequired) {
  Pod p;
  p.metadata.name = "x";
  Container c;
  c.name = "app";
  c.image = "nginx";
  p.spec.containers.push_back(c);
  ContainerStatus cs;
  cs.name = "app";
  p.status.containerStatuses.push_back(cs);
  nlohmann::json j = PodToJson(p);
  EXPECT_EQ(j["apiVersion"], "v1");
  EXPECT_EQ(j["kind"], "Pod");
  EXPECT_EQ(j["metadata"], nlohmann::json({{"name", "x"}}));
  EXPECT_EQ(j["spec"], nlohmann::json::parse(R"({"containers":[{"name":"app","image":"nginx","resources":{}}]})"));
  EXPECT_EQ(j["status"]["containerStatuses"][0],
            nlohmann::json::parse(R"({"name":"app","state":{},"lastState":{},"ready":false,
                                      "restartCount":0,"image":"","imageID":""})"));
}

TEST(CodecTest, QuotesYamlStringsThatLookLikeOtherTypes) {
  Pod p;
  p.metadata.name = "x";
  p.metadata.annotations["a"] = "true";
  p.metadata.annotations["b"] = "123";
  p.metadata.annotations["c"] = "";
  p.metadata.annotations["d"] = "null";
  p.metadata.annotations["e"] = "a: b";
  p.metadata.annotations["f"] = "#not a comment";
  p.metadata.annotations["g"] = "- dash";
  p.metadata.annotations["h"] = "two\nlines\n";
  p.metadata.annotations["i"] = "1.5e3";
  p.metadata.annotations["j"] = " padded ";
  p.metadata.annotations["k"] = "{x}";
  p.metadata.annotations["key with spaces"] = "'quoted'";
  p.metadata.annotations["l"] = "\"dq\"";
  auto back = DecodePods(EncodePodYaml(p));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ((*back)[0].metadata.annotations, p.metadata.annotations);
}

TEST(CodecTest, RawFieldsRoundTrip) {
  constexpr char kJson[] = R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","managedFields":[{"manager":"kubectl"}]},
    "spec":{"affinity":{"nodeAffinity":{"x":1}},"serviceAccount":"sa","topologySpreadConstraints":[{"maxSkew":1}],
      "overhead":{"cpu":"250m"},"setHostnameAsFQDN":false,
      "containers":[{"name":"a","image":"i","resources":{},"env":[{"name":"N","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}],
                     "envFrom":[{"configMapRef":{"name":"cm"}}]}],
      "volumes":[{"name":"claim","persistentVolumeClaim":{"claimName":"c"}},
                 {"name":"proj","projected":{"sources":[{"serviceAccountToken":{"path":"token"}}]}}]},"status":{}})";
  auto p = DecodePodJson(kJson);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->spec.volumes[0].otherSources.fields.at("persistentVolumeClaim")["claimName"], "c");
  EXPECT_EQ(p->spec.volumes[0].SourceCount(), 1);
  EXPECT_EQ(p->spec.containers[0].env[0].valueFrom["fieldRef"]["fieldPath"], "metadata.name");
  EXPECT_EQ(PodToJson(*p), nlohmann::json::parse(kJson));
}

TEST(CodecTest, StrictUnknownFieldsNamePaths) {
  constexpr char kJson[] = R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","nmae":"x"},
    "spec":{"containers":[{"name":"a","image":"i","ports":[{"containerPort":80,"prot":"TCP"}]}],"bogus":true}})";
  auto strict = DecodePodJson(kJson);
  ASSERT_FALSE(strict.ok());
  EXPECT_EQ(strict.status().message(),
            "strict decoding error: unknown field \"metadata.nmae\", unknown field "
            "\"spec.containers[0].ports[0].prot\", unknown field \"spec.bogus\"");
  auto lenient = DecodePodJson(kJson, DecodeOptions{.strict = false});
  ASSERT_TRUE(lenient.ok()) << lenient.status();
  EXPECT_EQ(lenient->spec.containers[0].ports[0].containerPort, 80);
  EXPECT_FALSE(PodToJson(*lenient)["spec"].contains("bogus"));
}

TEST(CodecTest, TypeErrorsNamePaths) {
  auto p = DecodePodJson(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},
    "spec":{"containers":[{"name":"a","image":"i","ports":[{"containerPort":"80"}],"resources":{"limits":{"cpu":"lots"}}}],
            "hostNetwork":"yes","terminationGracePeriodSeconds":1.5}})");
  ASSERT_FALSE(p.ok());
  std::string msg(p.status().message());
  EXPECT_THAT(msg, HasSubstr("spec.containers[0].ports[0].containerPort: expected integer, got string"));
  EXPECT_THAT(msg, HasSubstr("spec.containers[0].resources.limits[cpu]: quantities must match"));
  EXPECT_THAT(msg, HasSubstr("spec.hostNetwork: expected boolean, got string"));
  EXPECT_THAT(msg, HasSubstr("spec.terminationGracePeriodSeconds: expected integer, got number"));
  auto range = DecodePodJson(R"({"apiVersion":"v1","kind":"Pod","spec":{"priority":3000000000}})");
  ASSERT_FALSE(range.ok());
  EXPECT_THAT(range.status().message(), HasSubstr("spec.priority: value 3000000000 out of range"));
}

TEST(CodecTest, ApiVersionAndKindChecked) {
  auto wrong = DecodePodJson(R"({"apiVersion":"apps/v1","kind":"Deployment"})");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(),
            "apiVersion \"apps/v1\" kind \"Deployment\" is not a Pod (want apiVersion \"v1\" kind \"Pod\")");
  auto v2 = DecodePodJson(R"({"apiVersion":"v2","kind":"Pod"})");
  ASSERT_FALSE(v2.ok());
  EXPECT_THAT(v2.status().message(), HasSubstr("apiVersion \"v2\""));
  auto no_kind = DecodePodJson(R"({"apiVersion":"v1"})");
  ASSERT_FALSE(no_kind.ok());
  EXPECT_EQ(no_kind.status().message(), "Object 'Kind' is missing");
  auto no_version = DecodePodJson(R"({"kind":"Pod"})");
  ASSERT_FALSE(no_version.ok());
  EXPECT_EQ(no_version.status().message(), "Object 'apiVersion' is missing");
  auto yaml = DecodePods("apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: Service\n");
  ASSERT_FALSE(yaml.ok());
  EXPECT_THAT(yaml.status().message(), HasSubstr("document 1: apiVersion \"v1\" kind \"Service\""));
}

TEST(CodecTest, MultiDocumentYaml) {
  auto pods = DecodePods(R"(---
apiVersion: v1
kind: Pod
metadata: {name: one}
spec:
  containers: [{name: a, image: busybox}]
---
# an empty document is skipped
---
apiVersion: v1
kind: Pod
metadata:
  name: two
spec:
  containers:
  - name: b
    image: busybox
    args: ["sleep", "3600"]
    env:
    - name: QUOTED
      value: "8080"
    resources:
      limits: {cpu: 1, memory: 64Mi}
)");
  ASSERT_TRUE(pods.ok()) << pods.status();
  ASSERT_EQ(pods->size(), 2u);
  EXPECT_EQ((*pods)[0].metadata.name, "one");
  EXPECT_EQ((*pods)[1].metadata.name, "two");
  EXPECT_EQ((*pods)[1].spec.containers[0].args, (std::vector<std::string>{"sleep", "3600"}));
  EXPECT_EQ((*pods)[1].spec.containers[0].env[0].value, "8080");
  EXPECT_EQ((*pods)[1].spec.containers[0].resources.limits.at("cpu").String(), "1");
  EXPECT_EQ((*pods)[1].spec.containers[0].resources.limits.at("memory").String(), "64Mi");
}

TEST(CodecTest, YamlTypeMismatchNamesPath) {
  auto pods = DecodePods("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    args: [sleep, 10]\n");
  ASSERT_FALSE(pods.ok());
  EXPECT_THAT(pods.status().message(),
              HasSubstr("document 0: spec.containers[0].args[1]: expected string, got integer"));
}

TEST(CodecTest, ListDecoding) {
  constexpr char kList[] = R"({"apiVersion":"v1","kind":"List","items":[
    {"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}},
    {"apiVersion":"v1","kind":"Pod","metadata":{"name":"b"}}]})";
  auto pods = DecodePods(kList);
  ASSERT_TRUE(pods.ok()) << pods.status();
  ASSERT_EQ(pods->size(), 2u);
  EXPECT_EQ((*pods)[1].metadata.name, "b");

  auto yaml = DecodePods("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: c}\n");
  ASSERT_TRUE(yaml.ok()) << yaml.status();
  ASSERT_EQ(yaml->size(), 1u);
  EXPECT_EQ((*yaml)[0].metadata.name, "c");

  auto bad = DecodePods(R"({"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod","x":1}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "document 0: items[0]: strict decoding error: unknown field \"x\"");

  auto single = DecodePods(R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"solo"}})");
  ASSERT_TRUE(single.ok());
  EXPECT_EQ((*single)[0].metadata.name, "solo");
}

TEST(CodecTest, MalformedInput) {
  EXPECT_FALSE(DecodePods("{\"apiVersion\": ").ok());
  auto y = DecodePods("a: [1, 2\n");
  ASSERT_FALSE(y.ok());
  EXPECT_THAT(y.status().message(), HasSubstr("malformed YAML"));
  auto scalar = DecodePods("just a string\n");
  ASSERT_FALSE(scalar.ok());
  EXPECT_THAT(scalar.status().message(), HasSubstr("expected a JSON object, got string"));
}

}  // namespace
}  // namespace berth::k8s
