#include "runtime-shim/cgroups/systemd_driver.h"

#include <systemd/sd-bus.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "common/time.h"
#include "runtime-shim/cgroups/cgroupfs_v2.h"

namespace berth {

namespace {

constexpr const char* kService = "org.freedesktop.systemd1";
constexpr const char* kObject = "/org/freedesktop/systemd1";
constexpr const char* kManager = "org.freedesktop.systemd1.Manager";
constexpr int64_t kJobTimeoutNs = 10'000'000'000;
constexpr uint64_t kInfinity = std::numeric_limits<uint64_t>::max();
constexpr uint64_t kDefaultCpuPeriod = 100000;

absl::Status BusError(int r, const sd_bus_error* error, absl::string_view what) {
  if (error != nullptr && sd_bus_error_is_set(error)) {
    return absl::InternalError(absl::StrCat(what, ": ", error->name, ": ", error->message ? error->message : ""));
  }
  return ErrnoError(-r, what);
}

// One property to send: (name, variant) with a uint64, bool, string or
// (path, permissions) list value.
struct UnitProperty {
  std::string name;
  char type;  // 't', 'b', 's', or 'd' (a(ss): DeviceAllow)
  uint64_t t = 0;
  bool b = false;
  std::string s;
  std::vector<std::pair<std::string, std::string>> d;
};

// The name /proc/devices gives a major number ("195" -> "nvidia-frontend"),
// for systemd's "char-NAME" / "block-NAME" device classes.
std::string DeviceClassName(char type, absl::string_view major) {
  absl::StatusOr<std::string> devices = ReadFile("/proc/devices");
  if (!devices.ok()) return "";
  bool in_section = false;
  for (absl::string_view line : absl::StrSplit(*devices, '\n')) {
    if (line == "Character devices:") {
      in_section = type == 'c';
      continue;
    }
    if (line == "Block devices:") {
      in_section = type == 'b';
      continue;
    }
    if (!in_section) continue;
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (f.size() == 2 && f[0] == major) return std::string(f[1]);
  }
  return "";
}

}  // namespace

// The container's device cgroup rules ("c 195:0 rw", "b 8:* m", "c *:* m",
// "a") as systemd's DeviceAllow entries, so that a unit's own device rules
// say what the cgroupfs files say: a daemon-reload re-applies the unit's
// properties, and rules written only to devices.allow would be lost then.
// nullopt: the rules allow every device (policy "auto", no list).
std::optional<std::vector<std::pair<std::string, std::string>>> DeviceAllowEntries(
    const std::vector<std::string>& rules) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& rule : rules) {
    std::vector<absl::string_view> f = absl::StrSplit(rule, ' ', absl::SkipEmpty());
    if (f.empty()) continue;
    if (f[0] == "a") return std::nullopt;
    if (f.size() < 2 || (f[0] != "c" && f[0] != "b")) continue;
    char type = f[0][0];
    std::string perms = f.size() > 2 ? std::string(f[2]) : "rwm";
    std::pair<absl::string_view, absl::string_view> mm = absl::StrSplit(f[1], absl::MaxSplits(':', 1));
    const char* kind = type == 'c' ? "char" : "block";
    if (mm.first == "*") {
      out.push_back({absl::StrCat(kind, "-*"), perms});
    } else if (mm.second == "*") {
      std::string name = DeviceClassName(type, mm.first);
      // A major with no driver registered has no devices to open yet.
      if (!name.empty()) out.push_back({absl::StrCat(kind, "-", name), perms});
    } else {
      out.push_back({absl::StrCat("/dev/", kind, "/", mm.first, ":", mm.second), perms});
    }
  }
  return out;
}

namespace {

// The systemd-managed part of `r`, as unit properties.
std::vector<UnitProperty> UnitProperties(int version, const CgroupResources& r) {
  std::vector<UnitProperty> props;
  if (r.cpu_shares) {
    if (version == 2) {
      props.push_back({"CPUWeight", 't', CpuSharesToWeight(*r.cpu_shares)});
    } else {
      props.push_back({"CPUShares", 't', *r.cpu_shares});
    }
  }
  if (r.cpu_quota) {
    uint64_t period = r.cpu_period.value_or(kDefaultCpuPeriod);
    uint64_t per_sec = kInfinity;
    if (*r.cpu_quota > 0 && period > 0) {
      per_sec = static_cast<uint64_t>(*r.cpu_quota) * 1000000 / period;
      // systemd keeps 1% (10ms per second) steps: round up, never below the ask.
      per_sec = (per_sec + 9999) / 10000 * 10000;
    }
    props.push_back({"CPUQuotaPerSecUSec", 't', per_sec});
  }
  if (r.cpu_period && version == 2) props.push_back({"CPUQuotaPeriodUSec", 't', *r.cpu_period});
  if (r.memory_limit) {
    uint64_t limit = *r.memory_limit <= 0 ? kInfinity : static_cast<uint64_t>(*r.memory_limit);
    props.push_back({version == 2 ? "MemoryMax" : "MemoryLimit", 't', limit});
  }
  if (r.pids_limit) {
    props.push_back({"TasksMax", 't', *r.pids_limit <= 0 ? kInfinity : static_cast<uint64_t>(*r.pids_limit)});
  }
  if (!r.device_rules.empty()) {
    auto allow = DeviceAllowEntries(r.device_rules);
    UnitProperty policy{"DevicePolicy", 's'};
    policy.s = allow ? "strict" : "auto";
    props.push_back(policy);
    if (allow) {
      UnitProperty list{"DeviceAllow", 'd'};
      list.d = std::move(*allow);
      props.push_back(std::move(list));
    }
  }
  return props;
}

// What systemd does not manage, left for the cgroupfs manager.
CgroupResources FsResources(const CgroupResources& r) {
  CgroupResources fs;
  fs.cpuset_cpus = r.cpuset_cpus;
  fs.cpuset_mems = r.cpuset_mems;
  fs.hugepage_limits = r.hugepage_limits;
  fs.unified = r.unified;
  fs.device_rules = r.device_rules;
  if (r.memory_swap_limit) {
    fs.memory_swap_limit = r.memory_swap_limit;
    fs.memory_limit = r.memory_limit;
  }
  return fs;
}

bool IsEmpty(const CgroupResources& r) {
  return r.cpuset_cpus.empty() && r.cpuset_mems.empty() && r.hugepage_limits.empty() && r.unified.empty() &&
         r.device_rules.empty() && !r.memory_swap_limit;
}

int AppendProperties(sd_bus_message* m, const std::vector<UnitProperty>& props) {
  int r = sd_bus_message_open_container(m, 'a', "(sv)");
  if (r < 0) return r;
  for (const UnitProperty& p : props) {
    switch (p.type) {
      case 't':
        r = sd_bus_message_append(m, "(sv)", p.name.c_str(), "t", p.t);
        break;
      case 'b':
        r = sd_bus_message_append(m, "(sv)", p.name.c_str(), "b", static_cast<int>(p.b));
        break;
      case 'd':
        r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0) r = sd_bus_message_append(m, "s", p.name.c_str());
        if (r >= 0) r = sd_bus_message_open_container(m, 'v', "a(ss)");
        if (r >= 0) r = sd_bus_message_open_container(m, 'a', "(ss)");
        for (const auto& [path, perms] : p.d) {
          if (r >= 0) r = sd_bus_message_append(m, "(ss)", path.c_str(), perms.c_str());
        }
        if (r >= 0) r = sd_bus_message_close_container(m);
        if (r >= 0) r = sd_bus_message_close_container(m);
        if (r >= 0) r = sd_bus_message_close_container(m);
        break;
      default:
        r = sd_bus_message_append(m, "(sv)", p.name.c_str(), "s", p.s.c_str());
    }
    if (r < 0) return r;
  }
  return sd_bus_message_close_container(m);
}

class SystemdCgroupManager : public CgroupManager {
 public:
  SystemdCgroupManager(int version, std::unique_ptr<CgroupManager> fs, sd_bus* bus)
      : version_(version), fs_(std::move(fs)), bus_(bus) {}
  ~SystemdCgroupManager() override {
    sd_bus_slot_unref(job_slot_);
    sd_bus_flush_close_unref(bus_);
  }

  absl::Status Subscribe() {
    int r = sd_bus_match_signal(bus_, &job_slot_, kService, kObject, kManager, "JobRemoved",
                                &SystemdCgroupManager::OnJobRemoved, this);
    if (r < 0) return ErrnoError(-r, "match systemd JobRemoved");
    sd_bus_error error = SD_BUS_ERROR_NULL;
    r = sd_bus_call_method(bus_, kService, kObject, kManager, "Subscribe", &error, nullptr, "");
    absl::Status status = r < 0 ? BusError(r, &error, "systemd Subscribe") : absl::OkStatus();
    sd_bus_error_free(&error);
    return status;
  }

  std::string Driver() const override { return "systemd"; }
  int Version() const override { return version_; }

  absl::Status Create(const std::string& name, const CgroupResources& resources) override {
    ASSIGN_OR_RETURN(std::string unit, SystemdUnitForName(name));
    ASSIGN_OR_RETURN(std::string path, ExpandSlicePath(unit));
    std::vector<UnitProperty> props = UnitProperties(version_, resources);
    props.insert(props.begin(), {"Description", 's', 0, false, absl::StrCat("berth cgroup ", unit)});
    bool started = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      absl::StatusOr<std::string> job = StartTransientSlice(unit, props);
      if (job.ok()) {
        RETURN_IF_ERROR(WaitForJob(*job, unit));
        started = true;
      } else if (absl::IsAlreadyExists(job.status())) {
        RETURN_IF_ERROR(SetUnitProperties(unit, UnitProperties(version_, resources)));
      } else {
        return job.status();
      }
    }
    CgroupResources rest = FsResources(resources);
    absl::Status status;
    // v1: systemd makes dirs only in the hierarchies it manages (not cpuset,
    // freezer, ...); cgroupfs makes the others. v2: systemd made the one dir.
    if (version_ == 1) {
      status = fs_->Create(path, rest);
    } else if (!IsEmpty(rest)) {
      status = fs_->Update(path, rest);
    }
    if (!status.ok() && started) (void)Stop(unit);
    return status;
  }

  absl::StatusOr<std::vector<std::string>> ProcsDirs(const std::string& name) override {
    ASSIGN_OR_RETURN(std::string path, PathFor(name));
    return fs_->ProcsDirs(path);
  }
  std::string MemoryDir(const std::string& name) override {
    absl::StatusOr<std::string> path = PathFor(name);
    return fs_->MemoryDir(path.ok() ? *path : name);
  }
  absl::StatusOr<uint64_t> OomKillCount(const std::string& name) override {
    ASSIGN_OR_RETURN(std::string path, PathFor(name));
    return fs_->OomKillCount(path);
  }
  absl::StatusOr<CgroupStats> Stats(const std::string& name) override {
    ASSIGN_OR_RETURN(std::string path, PathFor(name));
    return fs_->Stats(path);
  }
  absl::StatusOr<std::vector<pid_t>> Pids(const std::string& name) override {
    ASSIGN_OR_RETURN(std::string path, PathFor(name));
    return fs_->Pids(path);
  }

  absl::Status Update(const std::string& name, const CgroupResources& resources) override {
    ASSIGN_OR_RETURN(std::string unit, SystemdUnitForName(name));
    ASSIGN_OR_RETURN(std::string path, ExpandSlicePath(unit));
    std::vector<UnitProperty> props = UnitProperties(version_, resources);
    if (!props.empty()) {
      std::lock_guard<std::mutex> lock(mu_);
      RETURN_IF_ERROR(SetUnitProperties(unit, props));
    }
    CgroupResources rest = FsResources(resources);
    if (IsEmpty(rest)) return absl::OkStatus();
    return fs_->Update(path, rest);
  }

  absl::Status Destroy(const std::string& name) override {
    ASSIGN_OR_RETURN(std::string unit, SystemdUnitForName(name));
    ASSIGN_OR_RETURN(std::string path, ExpandSlicePath(unit));
    RETURN_IF_ERROR(Stop(unit));
    // Whatever systemd left (other v1 hierarchies, stragglers) goes the cgroupfs way.
    return fs_->Destroy(path);
  }

 private:
  static absl::StatusOr<std::string> PathFor(const std::string& name) {
    ASSIGN_OR_RETURN(std::string unit, SystemdUnitForName(name));
    return ExpandSlicePath(unit);
  }

  static int OnJobRemoved(sd_bus_message* m, void* userdata, sd_bus_error*) {
    auto* self = static_cast<SystemdCgroupManager*>(userdata);
    uint32_t id = 0;
    const char* job = nullptr;
    const char* unit = nullptr;
    const char* result = nullptr;
    // systemd reports every job on the host: keep only those of units we wait for.
    if (sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) >= 0 && self->waiting_units_.count(unit) > 0) {
      self->finished_jobs_[job] = result;
    }
    return 0;
  }

  // Requires mu_. Dispatches what queued up since the last call (other
  // units' job signals), so the read queue stays short.
  void Drain() {
    while (sd_bus_process(bus_, nullptr) > 0) {
    }
  }

  // Requires mu_, and `unit` in waiting_units_. Runs the bus until `job` is
  // reported removed.
  absl::Status WaitForJob(const std::string& job, const std::string& unit) {
    absl::Status status = WaitForJobLocked(job, unit);
    waiting_units_.erase(unit);
    for (auto it = finished_jobs_.begin(); it != finished_jobs_.end();) {
      it = it->first == job ? finished_jobs_.erase(it) : std::next(it);
    }
    return status;
  }

  absl::Status WaitForJobLocked(const std::string& job, const std::string& unit) {
    int64_t deadline = MonotonicNanos() + kJobTimeoutNs;
    while (true) {
      auto it = finished_jobs_.find(job);
      if (it != finished_jobs_.end()) {
        std::string result = it->second;
        finished_jobs_.erase(it);
        if (result == "done") return absl::OkStatus();
        return absl::InternalError(absl::StrCat("systemd job for ", unit, ": ", result));
      }
      int r = sd_bus_process(bus_, nullptr);
      if (r < 0) return ErrnoError(-r, "process systemd bus");
      if (r > 0) continue;
      int64_t left = deadline - MonotonicNanos();
      if (left <= 0) return absl::DeadlineExceededError(absl::StrCat("systemd job for ", unit, ": no result"));
      r = sd_bus_wait(bus_, static_cast<uint64_t>(left / 1000));
      if (r < 0 && r != -EINTR) return ErrnoError(-r, "wait on systemd bus");
    }
  }

  // Requires mu_. The job path, or AlreadyExists when the unit is there.
  absl::StatusOr<std::string> StartTransientSlice(const std::string& unit, const std::vector<UnitProperty>& props) {
    sd_bus_message* m = nullptr;
    sd_bus_message* reply = nullptr;
    sd_bus_error error = SD_BUS_ERROR_NULL;
    absl::StatusOr<std::string> out;
    Drain();
    waiting_units_.insert(unit);
    int r = sd_bus_message_new_method_call(bus_, &m, kService, kObject, kManager, "StartTransientUnit");
    if (r >= 0) r = sd_bus_message_append(m, "ss", unit.c_str(), "fail");
    if (r >= 0) r = AppendProperties(m, props);
    if (r >= 0) r = sd_bus_message_append(m, "a(sa(sv))", 0);
    if (r < 0) {
      out = ErrnoError(-r, absl::StrCat("build StartTransientUnit ", unit));
    } else {
      r = sd_bus_call(bus_, m, 0, &error, &reply);
      const char* job = nullptr;
      if (r < 0) {
        if (sd_bus_error_has_name(&error, "org.freedesktop.systemd1.UnitExists")) {
          out = absl::AlreadyExistsError(unit);
        } else {
          out = BusError(r, &error, absl::StrCat("systemd StartTransientUnit ", unit));
        }
      } else if ((r = sd_bus_message_read(reply, "o", &job)) < 0) {
        out = ErrnoError(-r, "read StartTransientUnit reply");
      } else {
        out = std::string(job);
      }
    }
    if (!out.ok()) waiting_units_.erase(unit);
    sd_bus_error_free(&error);
    sd_bus_message_unref(reply);
    sd_bus_message_unref(m);
    return out;
  }

  // Requires mu_.
  absl::Status SetUnitProperties(const std::string& unit, const std::vector<UnitProperty>& props) {
    if (props.empty()) return absl::OkStatus();
    sd_bus_message* m = nullptr;
    sd_bus_error error = SD_BUS_ERROR_NULL;
    absl::Status status;
    Drain();
    int r = sd_bus_message_new_method_call(bus_, &m, kService, kObject, kManager, "SetUnitProperties");
    if (r >= 0) r = sd_bus_message_append(m, "sb", unit.c_str(), 1);
    if (r >= 0) r = AppendProperties(m, props);
    if (r >= 0) r = sd_bus_call(bus_, m, 0, &error, nullptr);
    if (r < 0) status = BusError(r, &error, absl::StrCat("systemd SetUnitProperties ", unit));
    sd_bus_error_free(&error);
    sd_bus_message_unref(m);
    return status;
  }

  absl::Status Stop(const std::string& unit) {
    std::lock_guard<std::mutex> lock(mu_);
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    Drain();
    waiting_units_.insert(unit);
    int r = sd_bus_call_method(bus_, kService, kObject, kManager, "StopUnit", &error, &reply, "ss", unit.c_str(),
                               "replace");
    absl::Status status;
    if (r < 0) {
      waiting_units_.erase(unit);
      if (!sd_bus_error_has_name(&error, "org.freedesktop.systemd1.NoSuchUnit")) {
        status = BusError(r, &error, absl::StrCat("systemd StopUnit ", unit));
      }
    } else {
      const char* job = nullptr;
      r = sd_bus_message_read(reply, "o", &job);
      if (r < 0) {
        waiting_units_.erase(unit);
        status = ErrnoError(-r, "read StopUnit reply");
      } else {
        status = WaitForJob(job, unit);
      }
    }
    sd_bus_error_free(&error);
    sd_bus_message_unref(reply);
    return status;
  }

  const int version_;
  std::unique_ptr<CgroupManager> fs_;
  std::mutex mu_;
  sd_bus* bus_;
  sd_bus_slot* job_slot_ = nullptr;
  std::set<std::string> waiting_units_;
  std::map<std::string, std::string> finished_jobs_;  // job path -> result
};

}  // namespace

absl::StatusOr<std::string> ExpandSlicePath(const std::string& slice) {
  absl::string_view stem = slice;
  if (!absl::ConsumeSuffix(&stem, ".slice") || stem.empty() || slice.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("systemd slice '", slice, "': want <name>.slice"));
  }
  if (stem == "-") return std::string("/");
  if (absl::StartsWith(stem, "-") || absl::EndsWith(stem, "-") || absl::StrContains(stem, "--")) {
    return absl::InvalidArgumentError(absl::StrCat("systemd slice '", slice, "': bad '-' placement"));
  }
  std::string path;
  std::string prefix;
  for (absl::string_view part : absl::StrSplit(stem, '-')) {
    prefix = prefix.empty() ? std::string(part) : absl::StrCat(prefix, "-", part);
    absl::StrAppend(&path, "/", prefix, ".slice");
  }
  return path;
}

absl::StatusOr<std::string> SystemdUnitForName(const std::string& name) {
  std::vector<std::string> parts = absl::StrSplit(name, ':');
  if (parts.size() == 1) {
    if (absl::EndsWith(name, ".slice")) return name;
    return absl::InvalidArgumentError(absl::StrCat(
        "systemd cgroup name '", name, "': want <name>.slice or <parent>.slice:<prefix>:<id>"));
  }
  if (parts.size() != 3 || !absl::EndsWith(parts[0], ".slice") || parts[1].empty() || parts[2].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("systemd cgroup name '", name, "': want <parent>.slice:<prefix>:<id>"));
  }
  for (const std::string& part : {parts[1], parts[2]}) {
    if (part.find_first_of("-/") != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("systemd cgroup name '", name, "': '", part, "' may not hold '-' or '/'"));
    }
  }
  std::string parent(absl::StripSuffix(parts[0], ".slice"));
  if (parent == "-") return absl::StrCat(parts[1], "_", parts[2], ".slice");
  return absl::StrCat(parent, "-", parts[1], "_", parts[2], ".slice");
}

absl::StatusOr<std::unique_ptr<CgroupManager>> NewSystemdCgroupManager(
    const CgroupLayout& layout, std::unique_ptr<CgroupManager> fs, const std::string& dbus_address) {
  sd_bus* bus = nullptr;
  int r;
  if (dbus_address.empty()) {
    r = sd_bus_open_system(&bus);
  } else {
    r = sd_bus_new(&bus);
    if (r >= 0) r = sd_bus_set_address(bus, dbus_address.c_str());
    if (r >= 0) r = sd_bus_set_bus_client(bus, 1);
    if (r >= 0) r = sd_bus_start(bus);
  }
  if (r < 0) {
    sd_bus_unref(bus);
    return ErrnoError(-r, absl::StrCat("connect to dbus ", dbus_address.empty() ? "system bus" : dbus_address));
  }
  auto manager = std::make_unique<SystemdCgroupManager>(layout.version, std::move(fs), bus);
  RETURN_IF_ERROR(manager->Subscribe());
  return manager;
}

}  // namespace berth
