// The systemd driver against a private dbus-daemon and a fake systemd Manager
// served by this test, over a fake cgroup2 tree.
#include "runtime-shim/cgroups/systemd_driver.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "gtest/gtest.h"
#include "runtime-shim/cgroups/test_tree.h"

namespace berth {
namespace {

TEST(ExpandSlicePathTest, NestsByDashes) {
  EXPECT_EQ(*ExpandSlicePath("kubepods.slice"), "/kubepods.slice");
  EXPECT_EQ(*ExpandSlicePath("kubepods-besteffort-pod123.slice"),
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod123.slice");
  EXPECT_EQ(*ExpandSlicePath("-.slice"), "/");
  for (const char* bad : {"kubepods", "a--b.slice", "-a.slice", "a-.slice", "a/b.slice", ".slice"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ExpandSlicePath(bad).status())) << bad;
  }
}

TEST(SystemdUnitForNameTest, SlicesAndContainerTriples) {
  EXPECT_EQ(*SystemdUnitForName("kubepods-pod1.slice"), "kubepods-pod1.slice");
  EXPECT_EQ(*SystemdUnitForName("kubepods-pod1.slice:berth:abc123"), "kubepods-pod1-berth_abc123.slice");
  for (const char* bad : {"berth-abc.scope", "/kubepods/pod1", "kubepods.slice:berth", "kubepods.slice:berth:a-b",
                          "kubepods:berth:abc"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(SystemdUnitForName(bad).status())) << bad;
  }
}

struct RecordedCall {
  std::string method;
  std::string unit;
  std::map<std::string, std::string> properties;  // value printed as text
};

// A private bus with an org.freedesktop.systemd1 Manager that records calls,
// reports each job done at once and (like systemd) removes a stopped slice's dir.
class FakeSystemd {
 public:
  explicit FakeSystemd(std::string cgroup_root) : cgroup_root_(std::move(cgroup_root)) {}

  ~FakeSystemd() {
    if (stop_fd_ >= 0) {
      uint64_t one = 1;
      (void)::write(stop_fd_, &one, sizeof(one));
    }
    if (thread_.joinable()) thread_.join();
    sd_bus_flush_close_unref(bus_);
    sd_event_unref(event_);
    if (stop_fd_ >= 0) ::close(stop_fd_);
    if (daemon_ > 0) {
      ::kill(daemon_, SIGTERM);
      ::waitpid(daemon_, nullptr, 0);
    }
  }

  void Start() {
    int out[2];
    ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
    daemon_ = ::fork();
    ASSERT_GE(daemon_, 0);
    if (daemon_ == 0) {
      ::dup2(out[1], 1);
      ::execlp("dbus-daemon", "dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address", nullptr);
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line.push_back(c);
    ::close(out[0]);
    ASSERT_FALSE(line.empty()) << "dbus-daemon printed no address";
    address_ = line;

    ASSERT_GE(sd_bus_new(&bus_), 0);
    ASSERT_GE(sd_bus_set_address(bus_, address_.c_str()), 0);
    ASSERT_GE(sd_bus_set_bus_client(bus_, 1), 0);
    ASSERT_GE(sd_bus_start(bus_), 0);
    ASSERT_GE(sd_bus_request_name(bus_, "org.freedesktop.systemd1", 0), 0);
    static const sd_bus_vtable kVtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("StartTransientUnit", "ssa(sv)a(sa(sv))", "o", &FakeSystemd::OnStart, 0),
        SD_BUS_METHOD("StopUnit", "ss", "o", &FakeSystemd::OnStop, 0),
        SD_BUS_METHOD("SetUnitProperties", "sba(sv)", "", &FakeSystemd::OnSetProperties, 0),
        SD_BUS_METHOD("Subscribe", "", "", &FakeSystemd::OnSubscribe, 0),
        SD_BUS_SIGNAL("JobRemoved", "uoss", 0),
        SD_BUS_VTABLE_END};
    ASSERT_GE(sd_bus_add_object_vtable(bus_, nullptr, "/org/freedesktop/systemd1",
                                       "org.freedesktop.systemd1.Manager", kVtable, this),
              0);
    ASSERT_GE(sd_event_new(&event_), 0);
    ASSERT_GE(sd_bus_attach_event(bus_, event_, 0), 0);
    stop_fd_ = ::eventfd(0, EFD_CLOEXEC);
    ASSERT_GE(stop_fd_, 0);
    ASSERT_GE(sd_event_add_io(event_, nullptr, stop_fd_, EPOLLIN,
                              [](sd_event_source* s, int, uint32_t, void*) {
                                return sd_event_exit(sd_event_source_get_event(s), 0);
                              },
                              nullptr),
              0);
    thread_ = std::thread([this] { sd_event_loop(event_); });
  }

  const std::string& address() const { return address_; }

  std::vector<RecordedCall> Calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  static int ReadProperties(sd_bus_message* m, std::map<std::string, std::string>* out) {
    int r = sd_bus_message_enter_container(m, 'a', "(sv)");
    if (r < 0) return r;
    while ((r = sd_bus_message_enter_container(m, 'r', "sv")) > 0) {
      const char* name = nullptr;
      const char* contents = nullptr;
      if ((r = sd_bus_message_read(m, "s", &name)) < 0) return r;
      if ((r = sd_bus_message_peek_type(m, nullptr, &contents)) < 0) return r;
      if ((r = sd_bus_message_enter_container(m, 'v', contents)) < 0) return r;
      std::string value;
      if (contents[0] == 't') {
        uint64_t t = 0;
        r = sd_bus_message_read(m, "t", &t);
        value = absl::StrCat(t);
      } else if (contents[0] == 'b') {
        int b = 0;
        r = sd_bus_message_read(m, "b", &b);
        value = b ? "true" : "false";
      } else if (contents[0] == 's') {
        const char* s = nullptr;
        r = sd_bus_message_read(m, "s", &s);
        value = s;
      } else if (std::string(contents) == "a(ss)") {
        // DeviceAllow: "path perms;path perms".
        if ((r = sd_bus_message_enter_container(m, 'a', "(ss)")) < 0) return r;
        const char* path = nullptr;
        const char* perms = nullptr;
        while ((r = sd_bus_message_read(m, "(ss)", &path, &perms)) > 0) {
          if (!value.empty()) value += ";";
          value += absl::StrCat(path, " ", perms);
        }
        if (r < 0) return r;
        r = sd_bus_message_exit_container(m);
      } else {
        r = sd_bus_message_skip(m, contents);
        value = absl::StrCat("<", contents, ">");
      }
      if (r < 0) return r;
      (*out)[name] = value;
      if ((r = sd_bus_message_exit_container(m)) < 0) return r;
      if ((r = sd_bus_message_exit_container(m)) < 0) return r;
    }
    if (r < 0) return r;
    return sd_bus_message_exit_container(m);
  }

  int FinishJob(sd_bus_message* m, const std::string& unit) {
    uint32_t id = ++next_job_;
    std::string job = absl::StrCat("/org/freedesktop/systemd1/job/", id);
    int r = sd_bus_reply_method_return(m, "o", job.c_str());
    if (r < 0) return r;
    return sd_bus_emit_signal(bus_, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", "JobRemoved",
                              "uoss", id, job.c_str(), unit.c_str(), "done");
  }

  static int OnStart(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    auto* self = static_cast<FakeSystemd*>(userdata);
    const char* unit = nullptr;
    const char* mode = nullptr;
    RecordedCall call{"StartTransientUnit", "", {}};
    int r = sd_bus_message_read(m, "ss", &unit, &mode);
    if (r >= 0) r = ReadProperties(m, &call.properties);
    if (r < 0) return r;
    call.unit = unit;
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      self->calls_.push_back(call);
      if (!self->units_.insert(unit).second) {
        return sd_bus_error_setf(error, "org.freedesktop.systemd1.UnitExists", "Unit %s already exists.", unit);
      }
    }
    return self->FinishJob(m, unit);
  }

  static int OnStop(sd_bus_message* m, void* userdata, sd_bus_error* error) {
    auto* self = static_cast<FakeSystemd*>(userdata);
    const char* unit = nullptr;
    const char* mode = nullptr;
    int r = sd_bus_message_read(m, "ss", &unit, &mode);
    if (r < 0) return r;
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      self->calls_.push_back({"StopUnit", unit, {}});
      if (self->units_.erase(unit) == 0) {
        return sd_bus_error_setf(error, "org.freedesktop.systemd1.NoSuchUnit", "Unit %s not loaded.", unit);
      }
    }
    absl::StatusOr<std::string> path = ExpandSlicePath(unit);
    if (path.ok()) (void)RemoveAll(self->cgroup_root_ + *path);
    return self->FinishJob(m, unit);
  }

  static int OnSetProperties(sd_bus_message* m, void* userdata, sd_bus_error*) {
    auto* self = static_cast<FakeSystemd*>(userdata);
    const char* unit = nullptr;
    int runtime = 0;
    RecordedCall call{"SetUnitProperties", "", {}};
    int r = sd_bus_message_read(m, "sb", &unit, &runtime);
    if (r >= 0) r = ReadProperties(m, &call.properties);
    if (r < 0) return r;
    call.unit = unit;
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      self->calls_.push_back(call);
    }
    return sd_bus_reply_method_return(m, "");
  }

  static int OnSubscribe(sd_bus_message* m, void*, sd_bus_error*) { return sd_bus_reply_method_return(m, ""); }

  std::string cgroup_root_;
  pid_t daemon_ = -1;
  std::string address_;
  sd_bus* bus_ = nullptr;
  sd_event* event_ = nullptr;
  int stop_fd_ = -1;
  std::thread thread_;
  uint32_t next_job_ = 0;
  std::mutex mu_;
  std::vector<RecordedCall> calls_;
  std::set<std::string> units_;
};

class SystemdDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/usr/bin/dbus-daemon", X_OK) != 0) GTEST_SKIP() << "no dbus-daemon";
    root_ = tree_.Path("cgroup");
    tree_.Write("cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
    for (const char* dir : {"", "/kubepods.slice", "/kubepods.slice/kubepods-besteffort.slice",
                            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod123.slice"}) {
      tree_.Write(absl::StrCat("cgroup", dir, "/cgroup.subtree_control"), "");
      tree_.Write(absl::StrCat("cgroup", dir, "/cpuset.cpus"), "");
    }
    tree_.Write("proc/self/mountinfo", absl::StrCat("30 23 0:26 / ", root_, " rw - cgroup2 cgroup2 rw\n"));
    fake_ = std::make_unique<FakeSystemd>(root_);
    ASSERT_NO_FATAL_FAILURE(fake_->Start());
    CgroupOptions options;
    options.root = root_;
    options.proc_root = tree_.Path("proc");
    options.driver = "systemd";
    options.dbus_address = fake_->address();
    absl::StatusOr<std::unique_ptr<CgroupManager>> manager = NewCgroupManager(options);
    ASSERT_TRUE(manager.ok()) << manager.status();
    manager_ = std::move(*manager);
  }

  TempTree tree_;
  std::string root_;
  std::unique_ptr<FakeSystemd> fake_;
  std::unique_ptr<CgroupManager> manager_;
};

TEST_F(SystemdDriverTest, CreateStartsTransientSliceWithLimits) {
  EXPECT_EQ(manager_->Driver(), "systemd");
  EXPECT_EQ(manager_->Version(), 2);
  const std::string slice = "kubepods-besteffort-pod123.slice";
  CgroupResources r;
  r.cpu_shares = 1024;
  r.cpu_quota = 25000;
  r.cpu_period = 100000;
  r.memory_limit = 256 << 20;
  r.pids_limit = 100;
  r.cpuset_cpus = "0";
  absl::Status status = manager_->Create(slice, r);
  ASSERT_TRUE(status.ok()) << status;

  std::vector<RecordedCall> calls = fake_->Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].method, "StartTransientUnit");
  EXPECT_EQ(calls[0].unit, slice);
  std::map<std::string, std::string> props = calls[0].properties;
  EXPECT_EQ(props["CPUWeight"], "39");
  EXPECT_EQ(props["CPUQuotaPerSecUSec"], "250000");
  EXPECT_EQ(props["CPUQuotaPeriodUSec"], "100000");
  EXPECT_EQ(props["MemoryMax"], absl::StrCat(256 << 20));
  EXPECT_EQ(props["TasksMax"], "100");
  EXPECT_EQ(props.count("CPUShares"), 0u);
  EXPECT_EQ(props.count("Description"), 1u);

  std::string dir = root_ + "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod123.slice";
  absl::StatusOr<std::string> cpus = ReadFile(dir + "/cpuset.cpus");
  ASSERT_TRUE(cpus.ok()) << cpus.status();
  EXPECT_EQ(*cpus, "0") << "cpuset is written through cgroupfs";
  absl::StatusOr<std::vector<std::string>> dirs = manager_->ProcsDirs(slice);
  ASSERT_TRUE(dirs.ok()) << dirs.status();
  EXPECT_EQ(*dirs, std::vector<std::string>{dir});

  // Again: the unit exists, so its properties are set instead.
  ASSERT_TRUE(manager_->Create(slice, r).ok());
  calls = fake_->Calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[2].method, "SetUnitProperties");
  EXPECT_EQ(calls[2].properties["MemoryMax"], absl::StrCat(256 << 20));
}

TEST(DeviceAllowEntriesTest, RulesBecomeSystemdDeviceClassesAndNodes) {
  auto allow = DeviceAllowEntries({"c 195:0 rw", "b 8:16 rwm", "c *:* m", "b *:* m", "c 1:* rwm", "c 4095:* rwm"});
  ASSERT_TRUE(allow.has_value());
  std::vector<std::pair<std::string, std::string>> want = {
      {"/dev/char/195:0", "rw"}, {"/dev/block/8:16", "rwm"}, {"char-*", "m"}, {"block-*", "m"},
      {"char-mem", "rwm"}};  // major 1 is "mem" in /proc/devices; 4095 has no driver: left out
  EXPECT_EQ(*allow, want);
  EXPECT_FALSE(DeviceAllowEntries({"c 195:0 rw", "a"}).has_value()) << "'a' allows everything";
}

TEST_F(SystemdDriverTest, DeviceRulesAreUnitPropertiesSoADaemonReloadKeepsThem) {
  const std::string slice = "kubepods-besteffort-pod456.slice";
  CgroupResources r;
  r.device_rules = {"c 195:0 rw", "c 195:255 rw"};
  ASSERT_TRUE(manager_->Create(slice, r).ok());
  std::vector<RecordedCall> calls = fake_->Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].properties["DevicePolicy"], "strict");
  EXPECT_EQ(calls[0].properties["DeviceAllow"], "/dev/char/195:0 rw;/dev/char/195:255 rw");

  r.device_rules = {"a"};
  ASSERT_TRUE(manager_->Update(slice, r).ok());
  calls = fake_->Calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1].properties["DevicePolicy"], "auto");
  EXPECT_EQ(calls[1].properties.count("DeviceAllow"), 0u);
}

TEST_F(SystemdDriverTest, UpdateSetsPropertiesAndDestroyStopsUnit) {
  const std::string name = "kubepods-besteffort-pod123.slice:berth:abc";
  ASSERT_TRUE(manager_->Create(name, {}).ok());
  CgroupResources r;
  r.memory_limit = -1;
  r.cpu_quota = -1;
  ASSERT_TRUE(manager_->Update(name, r).ok());
  std::vector<RecordedCall> calls = fake_->Calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].unit, "kubepods-besteffort-pod123-berth_abc.slice");
  EXPECT_EQ(calls[1].method, "SetUnitProperties");
  EXPECT_EQ(calls[1].properties["MemoryMax"], "18446744073709551615");
  EXPECT_EQ(calls[1].properties["CPUQuotaPerSecUSec"], "18446744073709551615");

  absl::Status status = manager_->Destroy(name);
  ASSERT_TRUE(status.ok()) << status;
  calls = fake_->Calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[2].method, "StopUnit");
  EXPECT_EQ(calls[2].unit, "kubepods-besteffort-pod123-berth_abc.slice");
  // Stopping a unit that is gone is fine.
  status = manager_->Destroy(name);
  EXPECT_TRUE(status.ok()) << status;
}

TEST_F(SystemdDriverTest, BadNamesAreRefusedWithoutBusCalls) {
  absl::Status status = manager_->Create("/kubepods/pod1", {});
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_TRUE(fake_->Calls().empty());
}

}  // namespace
}  // namespace berth

namespace berth {
namespace {

// On a v1 host the v1 property names go to systemd, and the cgroupfs manager
// makes the dirs in the hierarchies systemd leaves alone.
TEST(SystemdDriverV1Test, SendsV1PropertiesAndMakesOtherHierarchies) {
  if (::access("/usr/bin/dbus-daemon", X_OK) != 0) GTEST_SKIP() << "no dbus-daemon";
  TempTree tree;
  for (const char* dir : {"cgroup/cpu,cpuacct", "cgroup/memory", "cgroup/freezer"}) {
    ASSERT_TRUE(MkdirAll(tree.Path(dir)).ok());
  }
  tree.Write("proc/self/mountinfo", "22 1 0:21 / /proc rw - proc proc rw\n");
  FakeSystemd fake(tree.Path("cgroup"));
  ASSERT_NO_FATAL_FAILURE(fake.Start());
  CgroupOptions options;
  options.root = tree.Path("cgroup");
  options.proc_root = tree.Path("proc");
  options.driver = "systemd";
  options.dbus_address = fake.address();
  absl::StatusOr<std::unique_ptr<CgroupManager>> manager = NewCgroupManager(options);
  ASSERT_TRUE(manager.ok()) << manager.status();
  EXPECT_EQ((*manager)->Version(), 1);

  CgroupResources r;
  r.cpu_shares = 512;
  r.memory_limit = 1 << 20;
  absl::Status status = (*manager)->Create("kubepods.slice", r);
  ASSERT_TRUE(status.ok()) << status;
  std::vector<RecordedCall> calls = fake.Calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].properties["CPUShares"], "512");
  EXPECT_EQ(calls[0].properties["MemoryLimit"], "1048576");
  EXPECT_EQ(calls[0].properties.count("CPUWeight"), 0u);
  EXPECT_TRUE(PathExists(tree.Path("cgroup/freezer/kubepods.slice")));
  EXPECT_EQ((*manager)->MemoryDir("kubepods.slice"), tree.Path("cgroup/memory/kubepods.slice"));

  status = (*manager)->Destroy("kubepods.slice");
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_FALSE(PathExists(tree.Path("cgroup/freezer/kubepods.slice")));
  EXPECT_EQ(fake.Calls().back().method, "StopUnit");
}

}  // namespace
}  // namespace berth
