#include "agent/prober/cri_exec.h"

#include <gtest/gtest.h>

namespace berth::agent::prober {
namespace {

TEST(CriExecTest, MapsRequestResponseAndTimeouts) {
  ::runtime::v1::ExecSyncRequest seen;
  ExecInContainer exec = ExecViaExecSync([&](const auto& req, auto* resp) {
    seen = req;
    if (req.cmd(0) == "slow") return absl::DeadlineExceededError("timed out");
    if (req.cmd(0) == "gone") return absl::NotFoundError("no such container");
    resp->set_stdout("out ");
    resp->set_stderr("err");
    resp->set_exit_code(7);
    return absl::OkStatus();
  });
  auto r = exec("c1", {"check", "-v"}, absl::Milliseconds(1500));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 7);
  EXPECT_EQ(r->output, "out err");
  EXPECT_EQ(seen.container_id(), "c1");
  ASSERT_EQ(seen.cmd_size(), 2);
  EXPECT_EQ(seen.cmd(1), "-v");
  EXPECT_EQ(seen.timeout(), 2);  // rounded up to whole seconds

  EXPECT_TRUE(exec("c1", {"check"}, absl::ZeroDuration()).ok());
  EXPECT_EQ(seen.timeout(), 0);  // no limit
  EXPECT_TRUE(absl::IsDeadlineExceeded(exec("c1", {"slow"}, absl::Seconds(1)).status()));
  auto gone = exec("c9", {"gone"}, absl::Seconds(1));
  EXPECT_TRUE(absl::IsNotFound(gone.status()));
  EXPECT_NE(gone.status().message().find("c9"), absl::string_view::npos);
}

}  // namespace
}  // namespace berth::agent::prober
