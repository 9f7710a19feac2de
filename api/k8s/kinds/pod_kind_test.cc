#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/k8s/kinds/field_error_text.h"
#include "api/k8s/kinds/kind_builders.h"
#include "api/k8s/kinds/kind_registry.h"
#include "common/time.h"

namespace berth::k8s::kinds {
namespace {

using json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

const KindInfo& Pods() { return *FindByResource("", "v1", "pods"); }

std::vector<std::string> Messages(const std::vector<FieldError>& errs) { return FieldErrorTexts(errs); }

json MinimalPod() {
  return json::parse(R"({"apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"containers": [{"name": "app", "image": "nginx:1.25",
                             "ports": [{"containerPort": 80}]}],
             "imagePullSecrets": [{"name": "regcred"}]}})");
}

TEST(PodKind, DefaultsAsKubeApiserverKeepingUnmodelledFields) {
  json pod = MinimalPod();
  Pods().set_defaults(pod);
  EXPECT_EQ(pod["spec"]["restartPolicy"], "Always");
  EXPECT_EQ(pod["spec"]["dnsPolicy"], "ClusterFirst");
  EXPECT_EQ(pod["spec"]["schedulerName"], "default-scheduler");
  EXPECT_EQ(pod["spec"]["terminationGracePeriodSeconds"], 30);
  EXPECT_EQ(pod["spec"]["enableServiceLinks"], true);
  EXPECT_EQ(pod["status"]["phase"], "Pending");
  EXPECT_EQ(PodRowAt(pod, 0).status, "Pending");
  EXPECT_EQ(pod["status"]["qosClass"], "BestEffort");
  // QoS: limits for cpu and memory equal to the requests (defaulted from
  // the limits) is Guaranteed; a request alone is Burstable.
  json guaranteed = MinimalPod();
  guaranteed["spec"]["containers"][0]["resources"] = {{"limits", {{"cpu", "500m"}, {"memory", "64Mi"}}}};
  Pods().set_defaults(guaranteed);
  EXPECT_EQ(guaranteed["status"]["qosClass"], "Guaranteed");
  json burstable = MinimalPod();
  burstable["spec"]["containers"][0]["resources"] = {{"requests", {{"cpu", "100m"}}}};
  Pods().set_defaults(burstable);
  EXPECT_EQ(burstable["status"]["qosClass"], "Burstable");
  const json& c = pod["spec"]["containers"][0];
  EXPECT_EQ(c["imagePullPolicy"], "IfNotPresent");
  EXPECT_EQ(c["terminationMessagePath"], "/dev/termination-log");
  EXPECT_EQ(c["ports"][0]["protocol"], "TCP");
  // imagePullSecrets is not in api/k8s's typed Pod: defaulting keeps it.
  EXPECT_EQ(pod["spec"]["imagePullSecrets"][0]["name"], "regcred");
  EXPECT_THAT(Pods().validate(pod, nullptr), IsEmpty());
}

TEST(PodKind, ValidationUsesTheTypedPodRulesWithKubeMessages) {
  json pod = MinimalPod();
  pod["spec"]["containers"][0]["name"] = "App";
  pod["spec"]["containers"].push_back({{"name", "side"}});
  Pods().set_defaults(pod);
  auto errs = Pods().validate(pod, nullptr);
  EXPECT_THAT(Messages(errs),
              ElementsAre(::testing::StartsWith("spec.containers[0].name: Invalid value: \"App\": a lowercase RFC 1123 label"),
                          "spec.containers[1].image: Required value"));
  EXPECT_EQ(errs[1].type, "FieldValueRequired");
  json no_containers = {{"metadata", {{"name", "p"}, {"namespace", "d"}}}, {"spec", json::object()}};
  Pods().set_defaults(no_containers);
  EXPECT_THAT(Messages(Pods().validate(no_containers, nullptr)), ElementsAre("spec.containers: Required value"));
}

TEST(PodKind, UpdateMayChangeOnlyImagesAndFewFields) {
  json old = MinimalPod();
  Pods().set_defaults(old);
  json now = old;
  now["spec"]["containers"][0]["image"] = "nginx:1.26";
  now["spec"]["activeDeadlineSeconds"] = 100;
  EXPECT_THAT(Pods().validate(now, &old), IsEmpty());
  now["spec"]["restartPolicy"] = "Never";
  auto errs = Pods().validate(now, &old);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].field, "spec");
  EXPECT_THAT(errs[0].message, ::testing::StartsWith("Forbidden: pod updates may not change fields other than"));
  // Binding a pod sets nodeName once.
  json bound = old;
  bound["spec"]["nodeName"] = "node-1";
  EXPECT_THAT(Pods().validate(bound, &old), IsEmpty());
}

TEST(PodKind, TypeErrorsAreReported) {
  json pod = MinimalPod();
  pod["spec"]["containers"][0]["ports"][0]["containerPort"] = "80";
  EXPECT_THAT(Pods().type_errors(pod), ElementsAre("spec.containers[0].ports[0].containerPort: expected integer, got string"));
  auto errs = Pods().validate(pod, nullptr);
  ASSERT_FALSE(errs.empty());
  EXPECT_EQ(errs[0].field, "spec.containers[0].ports[0].containerPort");
}

// ---- STATUS column: kubectl's cases ----

json PodWithStatus(const std::string& status_json) {
  json pod = MinimalPod();
  pod["status"] = json::parse(status_json);
  return pod;
}

std::string Status(const json& pod) { return PodRowAt(pod, 1000000).status; }

TEST(PodTable, StatusCases) {
  EXPECT_EQ(Status(PodWithStatus(R"({"phase": "Pending"})")), "Pending");
  EXPECT_EQ(Status(PodWithStatus(R"({"phase": "Pending", "containerStatuses": [
      {"name": "app", "ready": false, "restartCount": 0, "image": "", "imageID": "",
       "state": {"waiting": {"reason": "ContainerCreating"}}}]})")),
            "ContainerCreating");
  EXPECT_EQ(Status(PodWithStatus(R"({"phase": "Running", "containerStatuses": [
      {"name": "app", "ready": false, "restartCount": 4, "image": "", "imageID": "",
       "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]})")),
            "CrashLoopBackOff");
  EXPECT_EQ(Status(PodWithStatus(R"({"phase": "Succeeded", "containerStatuses": [
      {"name": "app", "ready": false, "restartCount": 0, "image": "", "imageID": "",
       "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]})")),
            "Completed");
  EXPECT_EQ(Status(PodWithStatus(R"({"phase": "Failed", "containerStatuses": [
      {"name": "app", "ready": false, "restartCount": 0, "image": "", "imageID": "",
       "state": {"terminated": {"exitCode": 3}}}]})")),
            "ExitCode:3");
  EXPECT_EQ(Status(PodWithStatus(R"({"phase": "Failed", "reason": "Evicted"})")), "Evicted");
  // Init containers: waiting reason, failed, progress.
  json init = PodWithStatus(R"({"phase": "Pending", "initContainerStatuses": [
      {"name": "i1", "ready": false, "restartCount": 0, "image": "", "imageID": "",
       "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
      {"name": "i2", "ready": false, "restartCount": 0, "image": "", "imageID": "",
       "state": {"running": {}}}]})");
  init["spec"]["initContainers"] = json::parse(R"([{"name": "i1", "image": "x"}, {"name": "i2", "image": "x"}])");
  EXPECT_EQ(Status(init), "Init:1/2");
  init["status"]["initContainerStatuses"][1]["state"] = {{"waiting", {{"reason", "ImagePullBackOff"}}}};
  EXPECT_EQ(Status(init), "Init:ImagePullBackOff");
  init["status"]["initContainerStatuses"][1]["state"] = {{"terminated", {{"exitCode", 2}}}};
  EXPECT_EQ(Status(init), "Init:ExitCode:2");
  // Terminating unless the phase is terminal.
  json running = PodWithStatus(R"({"phase": "Running", "containerStatuses": [
      {"name": "app", "ready": true, "restartCount": 0, "image": "", "imageID": "",
       "state": {"running": {"startedAt": "2024-01-01T00:00:00Z"}}}]})");
  EXPECT_EQ(Status(running), "Running");
  EXPECT_EQ(PodRowAt(running, 0).ready, "1/1");
  running["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z";
  EXPECT_EQ(Status(running), "Terminating");
}

TEST(PodTable, CellsAndRestarts) {
  json pod = PodWithStatus(R"({"phase": "Running", "podIPs": [{"ip": "10.0.0.5"}], "containerStatuses": [
      {"name": "app", "ready": true, "restartCount": 2, "image": "", "imageID": "",
       "state": {"running": {}},
       "lastState": {"terminated": {"exitCode": 1, "finishedAt": "1970-01-01T00:00:00Z"}}}]})");
  pod["metadata"]["creationTimestamp"] = "1970-01-01T00:00:00Z";
  pod["spec"]["nodeName"] = "node-1";
  PodRow r = PodRowAt(pod, 600);
  EXPECT_EQ(r.restarts, "2 (10m ago)");
  EXPECT_EQ(r.age, "10m");
  EXPECT_EQ(r.ip, "10.0.0.5");
  EXPECT_EQ(r.node, "node-1");
  EXPECT_EQ(r.nominated_node, "<none>");
  EXPECT_EQ(r.readiness_gates, "<none>");
  // Through the registry: one cell per column, wide ones included.
  auto cells = Pods().row_cells(pod);
  ASSERT_EQ(cells.size(), Pods().columns.size());
  EXPECT_EQ(Pods().columns[1].name, "Ready");
  EXPECT_EQ(Pods().columns[5].priority, 1);
  EXPECT_EQ(cells[0], "web");
  EXPECT_EQ(cells[2], "Running");
}

TEST(PodKind, FieldSelectors) {
  json pod = MinimalPod();
  pod["spec"]["nodeName"] = "n1";
  pod["status"] = {{"phase", "Running"}, {"podIP", "10.1.1.1"}};
  EXPECT_EQ(Pods().field_value(pod, "spec.nodeName"), "n1");
  EXPECT_EQ(Pods().field_value(pod, "status.phase"), "Running");
  EXPECT_EQ(Pods().field_value(pod, "status.podIP"), "10.1.1.1");
  EXPECT_EQ(Pods().field_value(pod, "spec.restartPolicy"), "");
  EXPECT_EQ(Pods().field_value(pod, "spec.containers"), std::nullopt);
}

}  // namespace
}  // namespace berth::k8s::kinds
