// Objects exactly as kubectl 1.32 writes them (`kubectl create ... --dry-run=client
// -o json`): no unknown fields, no type errors, and valid once defaulted,
// as kube-apiserver accepts them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/k8s/kinds/kind_registry.h"

namespace berth::k8s::kinds {
namespace {

using json = nlohmann::json;
using ::testing::IsEmpty;

struct Manifest {
  const char* group;
  const char* resource;
  const char* text;
};

const Manifest kManifests[] = {
    {"apps", "deployments",
     R"({"kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": "web", "creationTimestamp": null, "labels": {"app": "web"}}, "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"creationTimestamp": null, "labels": {"app": "web"}}, "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25", "ports": [{"containerPort": 80}], "resources": {}}]}}, "strategy": {}}, "status": {}})"},
    {"", "services",
     R"({"kind": "Service", "apiVersion": "v1", "metadata": {"name": "web", "creationTimestamp": null, "labels": {"app": "web"}}, "spec": {"ports": [{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080}], "selector": {"app": "web"}, "type": "NodePort"}, "status": {"loadBalancer": {}}})"},
    {"batch", "jobs",
     R"({"kind": "Job", "apiVersion": "batch/v1", "metadata": {"name": "pi", "creationTimestamp": null}, "spec": {"template": {"metadata": {"creationTimestamp": null}, "spec": {"containers": [{"name": "pi", "image": "perl", "command": ["perl", "-e", "1"], "resources": {}}], "restartPolicy": "Never"}}}, "status": {}})"},
    {"", "secrets",
     R"({"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "s", "creationTimestamp": null}, "data": {"a": "Yg=="}})"},
};

TEST(KubectlManifests, AcceptedAsKubeApiserverAcceptsThem) {
  for (const auto& m : kManifests) {
    const KindInfo* kind = FindByResource(m.group, "v1", m.resource);
    ASSERT_NE(kind, nullptr) << m.resource;
    json obj = json::parse(m.text);
    EXPECT_THAT(kind->unknown_fields(obj), IsEmpty()) << m.resource;
    EXPECT_THAT(kind->type_errors(obj), IsEmpty()) << m.resource;
    // What the REST layer adds before defaulting.
    obj["metadata"]["namespace"] = "default";
    obj["metadata"]["uid"] = "6f1d8e0c-1111-4222-8333-944455556666";
    obj["metadata"]["creationTimestamp"] = "2024-01-01T00:00:00Z";
    kind->set_defaults(obj);
    std::vector<std::string> errs;
    for (const auto& e : kind->validate(obj, nullptr)) errs.push_back(e.field + ": " + e.message);
    EXPECT_THAT(errs, IsEmpty()) << m.resource << " " << obj.dump();
    EXPECT_EQ(kind->row_cells(obj).size(), kind->columns.size()) << m.resource;
  }
}

}  // namespace
}  // namespace berth::k8s::kinds
