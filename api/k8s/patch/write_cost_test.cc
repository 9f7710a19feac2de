// What the API server spends per pod create in this library: type check,
// strict unknown-field walk, defaults, validation and the managedFields
// entry. Measured in CPU time of this process (the shared 2-core VM's wall
// clock says more about the neighbours), bounded generously; printed.
#include <time.h>

#include <cstdio>

#include <gtest/gtest.h>

#include "api/k8s/patch/patch.h"

namespace berth::k8s::patch {
namespace {

using json = nlohmann::json;

double CpuMicros() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

TEST(WriteCost, PodCreatePathStaysWellUnderAMillisecond) {
  const kinds::KindInfo& pods = *kinds::FindByResource("", "v1", "pods");
  json pod = json::parse(R"({"apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "bench", "namespace": "default", "labels": {"app": "bench"}},
    "spec": {"containers": [{"name": "app", "image": "registry.local/app:1",
      "ports": [{"containerPort": 8080}], "env": [{"name": "MODE", "value": "x"}],
      "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
      "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}}}]}})");
  constexpr int kRounds = 500;
  size_t errors = 0;
  pods.validate(pod, nullptr);  // the schema and regexes are built once, before timing
  double start = CpuMicros();
  for (int i = 0; i < kRounds; ++i) {
    json obj = pod;
    obj["metadata"]["name"] = "bench-" + std::to_string(i);
    errors += pods.type_errors(obj).size() + pods.unknown_fields(obj).size();
    pods.set_defaults(obj);
    errors += pods.validate(obj, nullptr).size();
    RecordUpdateManager(nullptr, obj, "bench", pods);
    ASSERT_TRUE(obj["metadata"].contains("managedFields"));
  }
  double micros = (CpuMicros() - start) / kRounds;
  std::printf("pod create path: %.1f us of CPU per pod (%d pods)\n", micros, kRounds);
  EXPECT_EQ(errors, 0u);
  EXPECT_LT(micros, 1000.0);
}

}  // namespace
}  // namespace berth::k8s::patch
