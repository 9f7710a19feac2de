#include "controlplane/controllers/job_controller.h"

#include "controlplane/controllers/controller_test_env.h"
#include "gtest/gtest.h"

namespace berth::controllers {
namespace {

using nlohmann::json;
namespace resources = client::resources;

json Job(const std::string& name, const std::string& spec_extra) {
  json job = json::parse(R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":")" + name + R"("},
    "spec":{"template":{"metadata":{"labels":{"app":")" + name + R"("}},
      "spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}})");
  job["spec"].update(json::parse(spec_extra));
  return job;
}

class JobControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(env_.error().ok()) << env_.error();
    controller_ = std::make_unique<JobController>(env_.client(), env_.informer(resources::kJobs),
                                                  env_.informer(resources::kPods));
    env_.Run({controller_.get()});
  }
  std::vector<json> ActivePods(const std::string& job) {
    std::vector<json> out;
    for (json& pod : env_.List(resources::kPods, "default", "job-name=" + job)) {
      std::string phase = pod.value("status", json::object()).value("phase", "");
      if (phase != "Succeeded" && phase != "Failed") out.push_back(std::move(pod));
    }
    return out;
  }
  // The kubelet's part: every active pod of `job` ends in `phase`.
  void Finish(const std::string& job, const std::string& phase) {
    for (json pod : ActivePods(job)) {
      pod["apiVersion"] = "v1";
      pod["kind"] = "Pod";
      pod["status"] = {{"phase", phase}};
      auto written = env_.client()->Update(resources::kPods, "default", pod, "status");
      ASSERT_TRUE(written.ok()) << written.status();
    }
  }
  json Status(const std::string& job) {
    return env_.Get(resources::kJobs, "default", job).value("status", json::object());
  }
  std::string Condition(const std::string& job) {
    for (const json& c : Status(job).value("conditions", json::array())) {
      if (c.value("status", "") == "True") return c.value("type", "") + "/" + c.value("reason", "");
    }
    return "";
  }

  std::unique_ptr<JobController> controller_;
  ControllerTestEnv env_;
};

TEST_F(JobControllerTest, RunsParallelPodsUntilCompletions) {
  ASSERT_TRUE(env_.client()->Create(resources::kJobs, "default", Job("pi", R"({"completions":3,"parallelism":2})")).ok());
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return ActivePods("pi").size() == 2; }));
  json pod = ActivePods("pi")[0];
  EXPECT_EQ(pod["metadata"]["generateName"], "pi-");
  EXPECT_EQ(pod["metadata"]["labels"]["app"], "pi");
  EXPECT_EQ((*ControllerRefOf(pod))["kind"], "Job");
  Finish("pi", "Succeeded");
  // Two done, one to go: only one more pod starts.
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return Status("pi").value("succeeded", 0) == 2; }));
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return ActivePods("pi").size() == 1; }));
  Finish("pi", "Succeeded");
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return Condition("pi") == "Complete/"; })) << Status("pi").dump();
  json status = Status("pi");
  EXPECT_EQ(status["succeeded"], 3);
  EXPECT_EQ(status["active"], 0);
  EXPECT_TRUE(status.contains("completionTime"));
  EXPECT_TRUE(status.contains("startTime"));
  EXPECT_EQ(status["conditions"].size(), 1u) << status.dump();
  EXPECT_TRUE(ActivePods("pi").empty());
}

TEST_F(JobControllerTest, FailsPastTheBackoffLimit) {
  ASSERT_TRUE(env_.client()->Create(resources::kJobs, "default", Job("bad", R"({"backoffLimit":0})")).ok());
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return ActivePods("bad").size() == 1; }));
  Finish("bad", "Failed");
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return Condition("bad") == "Failed/BackoffLimitExceeded"; }))
      << Status("bad").dump();
  EXPECT_EQ(Status("bad")["failed"], 1);
  EXPECT_TRUE(ActivePods("bad").empty());
}

TEST_F(JobControllerTest, ActiveDeadlineEndsTheJobAndItsPods) {
  ASSERT_TRUE(
      env_.client()->Create(resources::kJobs, "default", Job("slow", R"({"activeDeadlineSeconds":1})")).ok());
  // (Its pod may already be gone when the test first looks: the deadline is 1 s.)
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return Condition("slow") == "Failed/DeadlineExceeded"; }))
      << Status("slow").dump();
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return ActivePods("slow").empty(); }));
}

TEST_F(JobControllerTest, TtlAfterFinishedDeletesTheJob) {
  ASSERT_TRUE(
      env_.client()->Create(resources::kJobs, "default", Job("once", R"({"ttlSecondsAfterFinished":0})")).ok());
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return ActivePods("once").size() == 1; }));
  Finish("once", "Succeeded");
  ASSERT_TRUE(ControllerTestEnv::WaitFor([&] { return env_.Get(resources::kJobs, "default", "once").is_null(); }));
}

}  // namespace
}  // namespace berth::controllers
