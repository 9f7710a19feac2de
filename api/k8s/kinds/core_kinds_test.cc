#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/k8s/kinds/field_error_text.h"
#include "api/k8s/kinds/kind_registry.h"

namespace berth::k8s::kinds {
namespace {

using json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::string> Messages(const std::vector<FieldError>& errs) { return FieldErrorTexts(errs); }

const KindInfo& Kind(const char* resource) { return *FindByResource("", "v1", resource); }

TEST(CoreKinds, ServiceDefaultsAndTable) {
  json svc = json::parse(R"({"apiVersion": "v1", "kind": "Service",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}], "clusterIP": "10.96.0.10"}})");
  Kind("services").set_defaults(svc);
  EXPECT_EQ(svc["spec"]["type"], "ClusterIP");
  EXPECT_EQ(svc["spec"]["sessionAffinity"], "None");
  EXPECT_EQ(svc["spec"]["ports"][0]["protocol"], "TCP");
  EXPECT_EQ(svc["spec"]["ports"][0]["targetPort"], 80);
  EXPECT_THAT(Kind("services").validate(svc, nullptr), IsEmpty());
  auto cells = Kind("services").row_cells(svc);
  EXPECT_EQ(cells[1], "ClusterIP");
  EXPECT_EQ(cells[2], "10.96.0.10");
  EXPECT_EQ(cells[3], "<none>");
  EXPECT_EQ(cells[4], "80/TCP");
  EXPECT_EQ(cells[6], "app=web");
  EXPECT_EQ(Kind("services").field_value(svc, "spec.clusterIP"), "10.96.0.10");
  EXPECT_EQ(Kind("services").field_value(svc, "spec.type"), "ClusterIP");
  svc["spec"]["type"] = "NodePort";
  svc["spec"]["ports"][0]["nodePort"] = 30080;
  EXPECT_EQ(Kind("services").row_cells(svc)[4], "80:30080/TCP");
}

TEST(CoreKinds, ServiceValidation) {
  json svc = json::parse(R"({"metadata": {"name": "web", "namespace": "default"},
    "spec": {"ports": [{"port": 80}, {"port": 70000, "protocol": "HTTP"}], "type": "Bogus"}})");
  Kind("services").set_defaults(svc);
  EXPECT_THAT(Messages(Kind("services").validate(svc, nullptr)),
              ElementsAre("spec.type: Unsupported value: \"Bogus\": supported values: \"ClusterIP\", "
                          "\"ExternalName\", \"LoadBalancer\", \"NodePort\"",
                          "spec.ports[0].name: Required value", "spec.ports[1].name: Required value",
                          "spec.ports[1].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
                          "spec.ports[1].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", "
                          "\"TCP\", \"UDP\"",
                          "spec.ports[1].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive"));
  json empty = {{"metadata", {{"name", "web"}, {"namespace", "default"}}}};
  Kind("services").set_defaults(empty);
  EXPECT_THAT(Messages(Kind("services").validate(empty, nullptr)), ElementsAre("spec.ports: Required value"));
}

TEST(CoreKinds, NamespaceSecretConfigMap) {
  json ns = {{"metadata", {{"name", "team-a"}}}};
  Kind("namespaces").set_defaults(ns);
  EXPECT_EQ(ns["spec"]["finalizers"], json::array({"kubernetes"}));
  EXPECT_EQ(ns["status"]["phase"], "Active");
  EXPECT_EQ(ns["metadata"]["labels"]["kubernetes.io/metadata.name"], "team-a");
  EXPECT_THAT(Kind("namespaces").validate(ns, nullptr), IsEmpty());
  EXPECT_EQ(Kind("namespaces").row_cells(ns)[1], "Active");
  EXPECT_EQ(Kind("namespaces").field_value(ns, "status.phase"), "Active");

  json secret = {{"metadata", {{"name", "s"}, {"namespace", "d"}}}, {"data", {{"a", "YWJj"}, {"b!", "???"}}}};
  Kind("secrets").set_defaults(secret);
  EXPECT_EQ(secret["type"], "Opaque");
  auto msgs = Messages(Kind("secrets").validate(secret, nullptr));
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_THAT(msgs[0], ::testing::StartsWith("data[b!]: Invalid value: \"b!\": a valid config key must consist"));
  EXPECT_EQ(msgs[1], "data[b!]: Invalid value: \"<secret contents redacted>\": must be base64-encoded bytes");
  EXPECT_EQ(Kind("secrets").field_value(secret, "type"), "Opaque");
  auto cells = Kind("secrets").row_cells(secret);
  EXPECT_EQ(cells[1], "Opaque");
  EXPECT_EQ(cells[2], 2);
  json with_string_data = {{"metadata", {{"name", "s"}, {"namespace", "d"}}},
                           {"data", {{"a", "eA=="}, {"b", "eQ=="}}},
                           {"stringData", {{"b", "plain"}, {"c", "text"}}}};
  Kind("secrets").set_defaults(with_string_data);
  EXPECT_FALSE(with_string_data.contains("stringData"));
  EXPECT_EQ(with_string_data["data"], json::parse(R"({"a": "eA==", "b": "cGxhaW4=", "c": "dGV4dA=="})"));
  json tls = {{"metadata", {{"name", "t"}, {"namespace", "d"}}}, {"type", "kubernetes.io/tls"}};
  EXPECT_THAT(Messages(Kind("secrets").validate(tls, nullptr)),
              ElementsAre("data[tls.key]: Required value", "data[tls.crt]: Required value"));

  json cm = {{"metadata", {{"name", "c"}, {"namespace", "d"}}}, {"data", {{"k", "v"}}},
             {"binaryData", {{"k", "AA=="}}}, {"immutable", true}};
  EXPECT_THAT(Messages(Kind("configmaps").validate(cm, nullptr)),
              ElementsAre("binaryData[k]: Invalid value: \"k\": duplicate of key present in data"));
  cm["binaryData"] = json::object();
  json cm2 = cm;
  cm2["data"]["k"] = "changed";
  EXPECT_THAT(Messages(Kind("configmaps").validate(cm2, &cm)),
              ElementsAre("data: Forbidden: field is immutable when `immutable` is set"));
  EXPECT_EQ(Kind("configmaps").row_cells(cm)[1], 1);
}

TEST(CoreKinds, NodeStatusRolesAndSelectors) {
  json node = json::parse(R"({"metadata": {"name": "n1", "labels": {"node-role.kubernetes.io/control-plane": ""}},
    "spec": {"unschedulable": true},
    "status": {"conditions": [{"type": "Ready", "status": "True"}], "nodeInfo": {"kubeletVersion": "v1.32.0"},
               "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}], "capacity": {"cpu": "2"}}})");
  const KindInfo& k = Kind("nodes");
  k.set_defaults(node);
  EXPECT_EQ(node["status"]["allocatable"]["cpu"], "2");
  auto cells = k.row_cells(node);
  EXPECT_EQ(cells[1], "Ready,SchedulingDisabled");
  EXPECT_EQ(cells[2], "control-plane");
  EXPECT_EQ(cells[4], "v1.32.0");
  EXPECT_EQ(cells[5], "10.0.0.1");
  EXPECT_EQ(k.field_value(node, "spec.unschedulable"), "true");
  node["status"]["conditions"][0]["status"] = "Unknown";
  EXPECT_EQ(k.row_cells(node)[1], "Unknown,SchedulingDisabled");
  json unnamespaced = node;
  unnamespaced["metadata"]["namespace"] = "default";
  EXPECT_THAT(Messages(k.validate(unnamespaced, nullptr)),
              ElementsAre("metadata.namespace: Forbidden: not allowed on this type"));
}

TEST(CoreKinds, EventsAndEndpoints) {
  json ev = json::parse(R"({"metadata": {"name": "web.1", "namespace": "default"},
    "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
    "reason": "Started", "message": "Started container", "type": "Normal", "count": 3,
    "source": {"component": "kubelet", "host": "n1"}})");
  const KindInfo& k = Kind("events");
  EXPECT_THAT(k.validate(ev, nullptr), IsEmpty());
  auto cells = k.row_cells(ev);
  EXPECT_EQ(cells[3], "pod/web");
  EXPECT_EQ(cells[5], "kubelet, n1");
  EXPECT_EQ(cells[8], "3");
  EXPECT_EQ(k.field_value(ev, "involvedObject.name"), "web");
  EXPECT_EQ(k.field_value(ev, "reason"), "Started");
  json ep = json::parse(R"({"metadata": {"name": "web", "namespace": "default"}, "subsets": [
    {"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}, {"ip": "10.0.0.3"}, {"ip": "10.0.0.4"}],
     "ports": [{"port": 80}]}]})");
  EXPECT_EQ(Kind("endpoints").row_cells(ep)[1], "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...");
}

}  // namespace
}  // namespace berth::k8s::kinds
