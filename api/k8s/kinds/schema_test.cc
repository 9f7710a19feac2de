#include "api/k8s/kinds/schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/k8s/kinds/kind_registry.h"

namespace berth::k8s::kinds {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(Schema, EveryKindHasADefinitionWithTypeAndMetadata) {
  for (const auto& k : AllKinds()) {
    const Definition* def = KindDefinition(k.group, k.version, k.kind);
    ASSERT_NE(def, nullptr) << k.kind;
    for (const char* f : {"apiVersion", "kind", "metadata"}) EXPECT_NE(def->Find(f), nullptr) << k.kind << f;
    EXPECT_FALSE(def->description.empty()) << k.kind;
  }
  EXPECT_EQ(DefinitionName("coordination.k8s.io", "v1", "Lease"), "io.k8s.api.coordination.v1.Lease");
  EXPECT_EQ(DefinitionName("", "v1", "Pod"), "io.k8s.api.core.v1.Pod");
}

TEST(Schema, EveryFieldIsDescribedAndEveryReferenceResolved) {
  for (const auto& [name, def] : Definitions()) {
    for (const auto& f : def.fields) {
      EXPECT_FALSE(f.description.empty()) << name << "." << f.name;
      if (f.type.kind == TypeRef::Kind::kRef) {
        EXPECT_NE(f.type.def, nullptr) << name << "." << f.name;
      }
    }
  }
}

TEST(Schema, MergeKeysAndListTypes) {
  const Definition* spec = FindDefinition("io.k8s.api.core.v1.PodSpec");
  ASSERT_NE(spec, nullptr);
  const Field* containers = spec->Find("containers");
  ASSERT_NE(containers, nullptr);
  EXPECT_TRUE(containers->required);
  EXPECT_EQ(containers->patch_merge_key, "name");
  EXPECT_EQ(containers->patch_strategy, "merge");
  EXPECT_EQ(containers->list_type, "map");
  EXPECT_EQ(spec->Find("volumes")->patch_strategy, "merge,retainKeys");
  const Definition* container = ElementDefinition(containers->type);
  ASSERT_NE(container, nullptr);
  EXPECT_EQ(container->name, "io.k8s.api.core.v1.Container");
  EXPECT_EQ(container->Find("ports")->patch_merge_key, "containerPort");
  EXPECT_THAT(container->Find("ports")->list_map_keys, ElementsAre("containerPort", "protocol"));
  EXPECT_EQ(container->Find("volumeMounts")->patch_merge_key, "mountPath");
  EXPECT_EQ(container->Find("env")->patch_merge_key, "name");
  const Definition* meta = FindDefinition("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  EXPECT_EQ(meta->Find("finalizers")->list_type, "set");
  // events.k8s.io's Event uses its own EventSeries, and core's EventSource.
  const Definition* ev = FindDefinition("io.k8s.api.events.v1.Event");
  EXPECT_EQ(ev->Find("series")->type.def->name, "io.k8s.api.events.v1.EventSeries");
  EXPECT_EQ(ev->Find("deprecatedSource")->type.def->name, "io.k8s.api.core.v1.EventSource");
}

TEST(Schema, UnknownFieldsNamedByPath) {
  nlohmann::json pod = nlohmann::json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "p", "labelz": {}, "labels": {"any": "thing"}},
    "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "imagee": "x",
             "ports": [{"containerPort": 80, "hostport": 1}]}],
             "affinity": {"nodeAffinity": {}}, "ephemeralContainers": [{"anything": 1}],
             "volumes": [{"name": "v", "emptyDir": {}, "bogus": {}}]},
    "status": {"phase": "Running", "phaze": "x"},
    "extra": 1})");
  const Definition* def = KindDefinition("", "v1", "Pod");
  EXPECT_THAT(UnknownFields(pod, *def),
              ElementsAre("extra", "metadata.labelz", "spec.containers[1].imagee",
                          "spec.containers[1].ports[0].hostport", "spec.volumes[0].bogus",
                          "status.phaze"));
  EXPECT_THAT(TypeErrors(pod, *def), IsEmpty());
}

TEST(Schema, TypeErrorsNamedByPath) {
  nlohmann::json d = nlohmann::json::parse(R"({
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "labels": {"a": 1}},
    "spec": {"replicas": "3", "selector": {"matchLabels": {"a": "b"}},
             "template": {"spec": {"containers": {"name": "x"}}},
             "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 1}}}})");
  EXPECT_THAT(TypeErrors(d, *KindDefinition("apps", "v1", "Deployment")),
              ElementsAre("metadata.labels[a]: expected string, got integer",
                          "spec.replicas: expected integer, got string",
                          "spec.template.spec.containers: expected array, got object"));
}

}  // namespace
}  // namespace berth::k8s::kinds
