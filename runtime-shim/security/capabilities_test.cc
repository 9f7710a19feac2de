#include "runtime-shim/security/capabilities.h"

#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/fs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime-shim/security/child_process_for_test.h"

namespace berth {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

bool HostHasInBoundingSet(int cap) { return prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1; }

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// Both lists together: what was asked for regardless of the host's bounding set.
std::vector<std::string> Requested(const CapabilityResult& r) {
  std::vector<std::string> all = r.capabilities;
  all.insert(all.end(), r.unavailable.begin(), r.unavailable.end());
  return Sorted(all);
}

TEST(CapabilitiesTest, AllCapabilitiesMatchesKernel) {
  std::vector<std::string> all = AllCapabilities();
  ASSERT_TRUE(PathExists("/proc/sys/kernel/cap_last_cap"));
  auto last = ReadFile("/proc/sys/kernel/cap_last_cap");
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(all.size(), static_cast<size_t>(std::stoi(*last) + 1));
  EXPECT_EQ(all.front(), "CAP_CHOWN");
  EXPECT_THAT(all, Contains("CAP_SYS_ADMIN"));
}

TEST(CapabilitiesTest, DefaultSetWhenNothingAsked) {
  auto r = ComputeCapabilities({}, {}, false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Requested(*r), Sorted(DefaultCapabilities()));
  EXPECT_EQ(r->capabilities, Sorted(r->capabilities));
}

TEST(CapabilitiesTest, AddAndDropAcceptAnyCaseWithOrWithoutPrefix) {
  auto r = ComputeCapabilities({"net_admin", "CAP_SYS_TIME", "cap_sys_ptrace", "NET_ADMIN"},
                               {"chown", "CAP_KILL"}, false);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::string> want = DefaultCapabilities();
  want.erase(std::find(want.begin(), want.end(), "CAP_CHOWN"));
  want.erase(std::find(want.begin(), want.end(), "CAP_KILL"));
  want.insert(want.end(), {"CAP_NET_ADMIN", "CAP_SYS_TIME", "CAP_SYS_PTRACE"});
  EXPECT_EQ(Requested(*r), Sorted(want));
}

TEST(CapabilitiesTest, AddAllThenDropOne) {
  auto r = ComputeCapabilities({"ALL"}, {"CHOWN"}, false);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::string> want = AllCapabilities();
  want.erase(std::find(want.begin(), want.end(), "CAP_CHOWN"));
  EXPECT_EQ(Requested(*r), Sorted(want));
}

TEST(CapabilitiesTest, DropAllThenAddOne) {
  auto r = ComputeCapabilities({"NET_BIND_SERVICE"}, {"all"}, false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Requested(*r), ElementsAre("CAP_NET_BIND_SERVICE"));
}

TEST(CapabilitiesTest, DropAllAlone) {
  auto r = ComputeCapabilities({}, {"ALL"}, false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Requested(*r), IsEmpty());
}

TEST(CapabilitiesTest, AddedAndDroppedMeansDropped) {
  auto r = ComputeCapabilities({"SYS_ADMIN"}, {"SYS_ADMIN"}, false);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(Requested(*r), Not(Contains("CAP_SYS_ADMIN")));
}

TEST(CapabilitiesTest, PrivilegedIsEverything) {
  auto r = ComputeCapabilities({}, {"ALL"}, true);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Requested(*r), Sorted(AllCapabilities()));
}

TEST(CapabilitiesTest, UnknownAddNamesFieldAndValue) {
  auto r = ComputeCapabilities({"CHOWN", "FOO"}, {}, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "capabilities.add_capabilities: unknown capability \"FOO\"");
}

TEST(CapabilitiesTest, UnknownDropNamesFieldAndValue) {
  for (const char* bad : {"CAP_BOGUS", "12", "", "CAP_"}) {
    auto r = ComputeCapabilities({}, {bad}, false);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message(),
              absl::StrCat("capabilities.drop_capabilities: unknown capability \"", bad, "\""));
  }
}

TEST(CapabilitiesTest, CapabilityOutsideBoundingSetIsUnavailable) {
  // This host's bounding set lacks CAP_SYS_RESOURCE; elsewhere, check the rule generally.
  auto r = ComputeCapabilities({"SYS_RESOURCE"}, {}, false);
  ASSERT_TRUE(r.ok()) << r.status();
  if (HostHasInBoundingSet(CAP_SYS_RESOURCE)) {
    EXPECT_THAT(r->capabilities, Contains("CAP_SYS_RESOURCE"));
    EXPECT_THAT(r->unavailable, IsEmpty());
  } else {
    EXPECT_THAT(r->capabilities, Not(Contains("CAP_SYS_RESOURCE")));
    EXPECT_THAT(r->unavailable, ElementsAre("CAP_SYS_RESOURCE"));
  }
  for (const std::string& name : r->capabilities) {
    auto one = ComputeCapabilities({name}, {"ALL"}, false);
    ASSERT_TRUE(one.ok());
    EXPECT_THAT(one->unavailable, IsEmpty()) << name;
  }
}

// The capability sets as /proc/self/status prints them.
std::string Mask(const std::vector<int>& caps) {
  uint64_t mask = 0;
  for (int cap : caps) mask |= uint64_t{1} << cap;
  char buf[17];
  snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(mask));
  return buf;
}

// Applies in a child and reports its credentials and capability sets.
std::map<std::string, std::string> ApplyInChild(uid_t uid, gid_t gid, std::vector<gid_t> groups,
                                                std::vector<std::string> caps,
                                                int* wait_status) {
  testing::ChildResult child = testing::RunInChild([&]() -> std::string {
    absl::Status s = SetUserAndCapabilities(uid, gid, groups, caps);
    if (!s.ok()) return absl::StrCat("Error: ", s.ToString(), "\n");
    auto status = ReadFile("/proc/self/status");
    return status.ok() ? *status : "Error: read /proc/self/status\n";
  });
  *wait_status = child.wait_status;
  return testing::ParseFields(child.output);
}

TEST(CapabilitiesTest, ApplyAsRootKeepsExactlyTheSet) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  int wait_status = 0;
  auto fields = ApplyInChild(0, 0, {}, {"CAP_CHOWN", "CAP_KILL", "CAP_SETUID"}, &wait_status);
  ASSERT_TRUE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0);
  ASSERT_EQ(fields.count("Error"), 0u) << fields["Error"];
  std::string want = Mask({CAP_CHOWN, CAP_KILL, CAP_SETUID});
  EXPECT_EQ(fields["CapEff"], want);
  EXPECT_EQ(fields["CapPrm"], want);
  EXPECT_EQ(fields["CapInh"], want);
  EXPECT_EQ(fields["CapBnd"], want);
  EXPECT_EQ(fields["CapAmb"], Mask({}));
  EXPECT_EQ(fields["Uid"], "0\t0\t0\t0");
  EXPECT_EQ(fields["Groups"], "");
}

TEST(CapabilitiesTest, ApplyAsNonRootUserKeepsCapsEffective) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  int wait_status = 0;
  auto fields =
      ApplyInChild(1000, 1001, {2000, 2001}, {"CAP_NET_BIND_SERVICE"}, &wait_status);
  ASSERT_TRUE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0);
  ASSERT_EQ(fields.count("Error"), 0u) << fields["Error"];
  std::string want = Mask({CAP_NET_BIND_SERVICE});
  EXPECT_EQ(fields["CapEff"], want);
  EXPECT_EQ(fields["CapPrm"], want);
  EXPECT_EQ(fields["CapBnd"], want);
  EXPECT_EQ(fields["CapAmb"], Mask({}));
  EXPECT_EQ(fields["Uid"], "1000\t1000\t1000\t1000");
  EXPECT_EQ(fields["Gid"], "1001\t1001\t1001\t1001");
  EXPECT_THAT(fields["Groups"], HasSubstr("2000 2001"));
}

TEST(CapabilitiesTest, ApplyWithNoCapabilitiesAsNonRoot) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  int wait_status = 0;
  auto fields = ApplyInChild(65534, 65534, {}, {}, &wait_status);
  ASSERT_TRUE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0);
  ASSERT_EQ(fields.count("Error"), 0u) << fields["Error"];
  EXPECT_EQ(fields["CapEff"], Mask({}));
  EXPECT_EQ(fields["CapPrm"], Mask({}));
  EXPECT_EQ(fields["CapBnd"], Mask({}));
  EXPECT_EQ(fields["Uid"], "65534\t65534\t65534\t65534");
}

TEST(CapabilitiesTest, ApplyRejectsUnknownName) {
  int wait_status = 0;
  auto fields = ApplyInChild(0, 0, {}, {"CAP_NOPE"}, &wait_status);
  EXPECT_THAT(fields["Error"], HasSubstr("unknown capability \"CAP_NOPE\""));
}

}  // namespace
}  // namespace berth
