#include "runtime-shim/cri/namespace_pinner.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "common/fs.h"
#include "gtest/gtest.h"

namespace berth {
namespace {

class NamespacePinnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-ns-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    UnpinNamespaces(root_ + "/ns").IgnoreError();
    ASSERT_TRUE(RemoveAll(root_).ok());
  }
  std::string root_;
};

// Reads the hostname and net.ipv4.ip_default_ttl as seen inside pinned namespaces.
void Inspect(const PinnedNamespaces& pinned, std::string* hostname, std::string* ttl) {
  std::thread t([&] {
    for (const char* type : {"uts", "net"}) {
      int fd = open(pinned.at(type).c_str(), O_RDONLY | O_CLOEXEC);
      ASSERT_GE(fd, 0);
      ASSERT_EQ(setns(fd, 0), 0);
      close(fd);
    }
    char buf[128] = {};
    gethostname(buf, sizeof(buf) - 1);
    *hostname = buf;
    *ttl = ReadFile("/proc/sys/net/ipv4/ip_default_ttl").value_or("");
  });
  t.join();
}

TEST_F(NamespacePinnerTest, PinsNamespacesWithHostnameAndSysctls) {
  PinRequest req;
  req.dir = root_ + "/ns";
  req.hostname = "pinned-pod";
  req.sysctls["net.ipv4.ip_default_ttl"] = "42";
  auto pinned = PinNamespaces(req);
  ASSERT_TRUE(pinned.ok()) << pinned.status();
  ASSERT_EQ(pinned->size(), 3u);
  for (const auto& [type, path] : *pinned) EXPECT_TRUE(IsPinnedNamespace(path)) << type;
  std::string hostname, ttl;
  Inspect(*pinned, &hostname, &ttl);
  EXPECT_EQ(hostname, "pinned-pod");
  EXPECT_EQ(ttl, "42\n");
  // The agent's own namespaces are untouched.
  char buf[128] = {};
  gethostname(buf, sizeof(buf) - 1);
  EXPECT_NE(std::string(buf), "pinned-pod");
  ASSERT_TRUE(UnpinNamespaces(req.dir).ok());
  EXPECT_FALSE(PathExists(req.dir));
}

TEST_F(NamespacePinnerTest, HostNamespacesAreNotPinned) {
  PinRequest req;
  req.dir = root_ + "/ns";
  req.net = false;
  req.uts = false;
  auto pinned = PinNamespaces(req);
  ASSERT_TRUE(pinned.ok());
  EXPECT_EQ(pinned->count("net"), 0u);
  EXPECT_EQ(pinned->count("ipc"), 1u);
}

TEST_F(NamespacePinnerTest, FailureLeavesNothingPinned) {
  PinRequest req;
  req.dir = root_ + "/ns";
  req.sysctls["net.ipv4.no_such_knob"] = "1";
  auto pinned = PinNamespaces(req);
  EXPECT_FALSE(pinned.ok());
  EXPECT_FALSE(PathExists(req.dir + "/net"));
}

TEST_F(NamespacePinnerTest, OnlyNamespacedSysctlsAreAllowed) {
  EXPECT_TRUE(ValidatePodSysctl("net.ipv4.ip_forward", false, false).ok());
  EXPECT_TRUE(ValidatePodSysctl("kernel.shmmax", false, false).ok());
  EXPECT_FALSE(ValidatePodSysctl("kernel.panic", false, false).ok());
  EXPECT_FALSE(ValidatePodSysctl("net.ipv4.ip_forward", true, false).ok());
}

}  // namespace
}  // namespace berth
