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

json Workload(const char* api_version, const char* kind) {
  json obj = json::parse(R"({"metadata": {"name": "web", "namespace": "default"},
    "spec": {"selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "app", "image": "nginx"}]}}}})");
  obj["apiVersion"] = api_version;
  obj["kind"] = kind;
  return obj;
}

TEST(WorkloadKinds, DeploymentDefaults) {
  const KindInfo& k = *FindByResource("apps", "v1", "deployments");
  json d = Workload("apps/v1", "Deployment");
  k.set_defaults(d);
  EXPECT_EQ(d["spec"]["replicas"], 1);
  EXPECT_EQ(d["spec"]["strategy"], json::parse(R"({"type": "RollingUpdate",
      "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})"));
  EXPECT_EQ(d["spec"]["revisionHistoryLimit"], 10);
  EXPECT_EQ(d["spec"]["progressDeadlineSeconds"], 600);
  // The pod template gets the pod defaults.
  EXPECT_EQ(d["spec"]["template"]["spec"]["restartPolicy"], "Always");
  EXPECT_EQ(d["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"], "Always");
  EXPECT_THAT(k.validate(d, nullptr), IsEmpty());
  // Recreate gets no rollingUpdate.
  json r = Workload("apps/v1", "Deployment");
  r["spec"]["strategy"] = {{"type", "Recreate"}};
  k.set_defaults(r);
  EXPECT_FALSE(r["spec"]["strategy"].contains("rollingUpdate"));
}

TEST(WorkloadKinds, DeploymentValidation) {
  const KindInfo& k = *FindByResource("apps", "v1", "deployments");
  json d = Workload("apps/v1", "Deployment");
  d["spec"]["template"]["metadata"]["labels"] = {{"app", "other"}};
  d["spec"]["replicas"] = -1;
  d["spec"]["template"]["spec"]["restartPolicy"] = "Never";
  k.set_defaults(d);
  EXPECT_THAT(Messages(k.validate(d, nullptr)),
              ElementsAre("spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                          "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: "
                          "`selector` does not match template `labels`",
                          "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: \"Always\""));
  json no_selector = Workload("apps/v1", "Deployment");
  no_selector["spec"].erase("selector");
  k.set_defaults(no_selector);
  EXPECT_THAT(Messages(k.validate(no_selector, nullptr)), ElementsAre("spec.selector: Required value"));
  json zero = Workload("apps/v1", "Deployment");
  zero["spec"]["strategy"] = {{"rollingUpdate", {{"maxUnavailable", 0}, {"maxSurge", "0%"}}}};
  k.set_defaults(zero);
  EXPECT_THAT(Messages(k.validate(zero, nullptr)),
              ElementsAre("spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"));
  // The selector is immutable in apps/v1.
  json old = Workload("apps/v1", "Deployment");
  k.set_defaults(old);
  json changed = old;
  changed["spec"]["selector"]["matchLabels"]["tier"] = "x";
  changed["spec"]["template"]["metadata"]["labels"]["tier"] = "x";
  EXPECT_THAT(Messages(k.validate(changed, &old)),
              ElementsAre(::testing::StartsWith("spec.selector: Invalid value: ")));
  EXPECT_THAT(k.validate(changed, &old)[0].message, ::testing::EndsWith("field is immutable"));
}

TEST(WorkloadKinds, DaemonSetStatefulSetReplicaSetDefaults) {
  json ds = Workload("apps/v1", "DaemonSet");
  FindByResource("apps", "v1", "daemonsets")->set_defaults(ds);
  EXPECT_EQ(ds["spec"]["updateStrategy"], json::parse(R"({"type": "RollingUpdate",
      "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})"));
  EXPECT_EQ(ds["spec"]["revisionHistoryLimit"], 10);
  EXPECT_THAT(FindByResource("apps", "v1", "daemonsets")->validate(ds, nullptr), IsEmpty());

  const KindInfo& sts_kind = *FindByResource("apps", "v1", "statefulsets");
  json sts = Workload("apps/v1", "StatefulSet");
  sts_kind.set_defaults(sts);
  EXPECT_EQ(sts["spec"]["podManagementPolicy"], "OrderedReady");
  EXPECT_EQ(sts["spec"]["updateStrategy"], json::parse(R"({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})"));
  EXPECT_EQ(sts["spec"]["replicas"], 1);
  EXPECT_EQ(sts["spec"]["revisionHistoryLimit"], 10);
  EXPECT_THAT(sts_kind.validate(sts, nullptr), IsEmpty());
  json sts2 = sts;
  sts2["spec"]["serviceName"] = "other";
  EXPECT_THAT(Messages(sts_kind.validate(sts2, &sts)),
              ElementsAre(::testing::StartsWith("spec: Forbidden: updates to statefulset spec for fields other than")));
  sts2 = sts;
  sts2["spec"]["replicas"] = 5;
  EXPECT_THAT(sts_kind.validate(sts2, &sts), IsEmpty());

  json rs = Workload("apps/v1", "ReplicaSet");
  FindByResource("apps", "v1", "replicasets")->set_defaults(rs);
  EXPECT_EQ(rs["spec"]["replicas"], 1);
}

TEST(WorkloadKinds, JobDefaultsAndValidation) {
  const KindInfo& k = *FindByResource("batch", "v1", "jobs");
  json job = json::parse(R"({"apiVersion": "batch/v1", "kind": "Job",
    "metadata": {"name": "pi", "namespace": "default", "uid": "1234"},
    "spec": {"template": {"spec": {"restartPolicy": "Never",
                                   "containers": [{"name": "pi", "image": "perl"}]}}}})");
  k.set_defaults(job);
  EXPECT_EQ(job["spec"]["parallelism"], 1);
  EXPECT_EQ(job["spec"]["completions"], 1);
  EXPECT_EQ(job["spec"]["backoffLimit"], 6);
  EXPECT_EQ(job["spec"]["completionMode"], "NonIndexed");
  EXPECT_EQ(job["spec"]["selector"]["matchLabels"]["batch.kubernetes.io/controller-uid"], "1234");
  EXPECT_EQ(job["spec"]["template"]["metadata"]["labels"]["job-name"], "pi");
  EXPECT_THAT(k.validate(job, nullptr), IsEmpty());
  // A Job's pods may not restart Always (the pod default when unset).
  json bad = job;
  bad["spec"]["template"]["spec"]["restartPolicy"] = "Always";
  EXPECT_THAT(Messages(k.validate(bad, nullptr)),
              ElementsAre("spec.template.spec.restartPolicy: Unsupported value: \"Always\": supported values: "
                          "\"OnFailure\", \"Never\""));
  // Parallelism without completions leaves completions unset.
  json par = json::parse(R"({"metadata": {"name": "w", "namespace": "d"}, "spec": {"parallelism": 3,
      "template": {"spec": {"restartPolicy": "OnFailure", "containers": [{"name": "a", "image": "b"}]}}}})");
  k.set_defaults(par);
  EXPECT_FALSE(par["spec"].contains("completions"));
  auto cells = k.row_cells(par);
  EXPECT_EQ(cells[1], "Running");
  EXPECT_EQ(cells[2], "0/1 of 3");
}

TEST(WorkloadKinds, TableColumnsAsKubectl) {
  const KindInfo& k = *FindByResource("apps", "v1", "deployments");
  std::vector<std::string> names, wide;
  for (const auto& c : k.columns) (c.priority == 0 ? names : wide).push_back(c.name);
  EXPECT_THAT(names, ElementsAre("Name", "Ready", "Up-to-date", "Available", "Age"));
  EXPECT_THAT(wide, ElementsAre("Containers", "Images", "Selector"));
  json d = Workload("apps/v1", "Deployment");
  k.set_defaults(d);
  d["spec"]["replicas"] = 3;
  d["status"] = {{"readyReplicas", 2}, {"updatedReplicas", 3}, {"availableReplicas", 2}};
  auto cells = k.row_cells(d);
  ASSERT_EQ(cells.size(), k.columns.size());
  EXPECT_EQ(cells[1], "2/3");
  EXPECT_EQ(cells[2], 3);
  EXPECT_EQ(cells[5], "app");
  EXPECT_EQ(cells[6], "nginx");
  EXPECT_EQ(cells[7], "app=web");
  const KindInfo& sts = *FindByResource("apps", "v1", "statefulsets");
  EXPECT_EQ(sts.columns.size(), 5u);
  const KindInfo& ds = *FindByResource("apps", "v1", "daemonsets");
  EXPECT_EQ(ds.columns[6].name, "Node Selector");
}

}  // namespace
}  // namespace berth::k8s::kinds

namespace berth::k8s::kinds {
namespace {

TEST(WorkloadKinds, MistypedObjectsAreReportedNeverDefaulted) {
  const KindInfo& k = *FindByResource("apps", "v1", "deployments");
  json d = Workload("apps/v1", "Deployment");
  d["spec"]["replicas"] = "3";
  d["spec"]["strategy"] = "fast";
  json before = d;
  k.set_defaults(d);
  EXPECT_EQ(d, before);
  auto msgs = Messages(k.validate(d, nullptr));
  EXPECT_THAT(msgs, ::testing::Contains("spec.replicas: Invalid value: expected integer, got string"));
  EXPECT_THAT(msgs, ::testing::Contains("spec.strategy: Invalid value: expected object, got string"));
  EXPECT_THAT(k.type_errors(d), ElementsAre("spec.replicas: expected integer, got string",
                                            "spec.strategy: expected object, got string"));
  auto not_object = k.validate(json::array({1}), nullptr);
  ASSERT_EQ(not_object.size(), 1u);
  EXPECT_EQ(not_object[0].type, "FieldValueInvalid");
}

}  // namespace
}  // namespace berth::k8s::kinds
