#include "runtime-shim/streaming/exec_status.h"

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace berth::streaming {
namespace {

TEST(ExecStatusTest, Success) {
  EXPECT_EQ(SuccessStatusJson(), R"({"metadata":{},"status":"Success"})");
}

TEST(ExecStatusTest, NonZeroExitCodeAsKubectlReadsIt) {
  auto status = nlohmann::json::parse(NonZeroExitStatusJson(42));
  EXPECT_EQ(status["status"], "Failure");
  EXPECT_EQ(status["reason"], "NonZeroExitCode");
  ASSERT_EQ(status["details"]["causes"].size(), 1u);
  EXPECT_EQ(status["details"]["causes"][0]["reason"], "ExitCode");
  EXPECT_EQ(status["details"]["causes"][0]["message"], "42");
}

TEST(ExecStatusTest, InternalError) {
  auto status = nlohmann::json::parse(InternalErrorStatusJson("exec: no such file \xff"));
  EXPECT_EQ(status["status"], "Failure");
  EXPECT_EQ(status["reason"], "InternalError");
  EXPECT_EQ(status["message"].get<std::string>().substr(0, 18), "exec: no such file");
}

}  // namespace
}  // namespace berth::streaming
