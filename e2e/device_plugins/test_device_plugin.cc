// test-device-plugin: a generic device plugin (v1beta1) for the e2e tests.
//
//   test-device-plugin --plugins-dir DIR --device-dir DIR [--resource example.com/widget]
//       [--endpoint widget.sock] [--devices 2] [--health-file FILE] [--preferred]
//       [--pre-start] [--pre-start-log FILE] [--cdi-spec-dir DIR [--cdi-hook-log FILE]]
//
// Makes --devices character nodes DIR/widget<i> (c 1:3, like /dev/null) and
// advertises them as w0, w1, ...; Allocate gives each container its nodes as
// /dev/widget<i>, env WIDGET_IDS=w0,..., and, with --cdi-spec-dir, writes a
// CDI spec there (kind example.com/widget, one device per node, env
// WIDGET_CDI_<i>=yes) and answers with CDI devices instead of device specs.
// --cdi-hook-log adds OCI hooks to the spec: createRuntime, poststart and
// poststop append their name to FILE (on the host); createContainer (the
// host's static /bin/busybox) and startContainer (the container's /bin/sh)
// append theirs to /tmp/cdi-hooks inside the container.
// The health file lists unhealthy ids, one a line (watched with inotify;
// replace it atomically). --preferred answers GetPreferredAllocation with the
// last available ids; --pre-start asks for PreStartContainer and appends the
// ids of each call to --pre-start-log. Registers at start and again whenever
// kubelet.sock is created (a restarted agent). Exits on SIGTERM/SIGINT.
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "agent/devices/testing/fake_device_plugin.h"
#include "common/fs.h"
#include "common/status_macros.h"

namespace {

using berth::agent::devices::FakeDevicePlugin;
using berth::agent::devices::FakeDevicePluginOptions;

struct Flags {
  std::string plugins_dir, device_dir, health_file, pre_start_log, cdi_spec_dir, cdi_hook_log;
  std::string resource = "example.com/widget";
  std::string endpoint = "widget.sock";
  int devices = 2;
  bool preferred = false, pre_start = false;
};

int Fail(const std::string& message) {
  fprintf(stderr, "test-device-plugin: %s\n", message.c_str());
  return 2;
}

std::string NodePath(const Flags& f, int i) { return absl::StrCat(f.device_dir, "/widget", i); }

absl::Status WriteCdiSpec(const Flags& f) {
  std::string devices;
  for (int i = 0; i < f.devices; ++i) {
    absl::StrAppend(&devices, i ? ",\n" : "", R"(    {"name": "w)", i, R"(", "containerEdits": {"env": ["WIDGET_CDI_)", i,
                    R"(=yes"], "deviceNodes": [{"path": "/dev/widget)", i, R"(", "hostPath": ")", NodePath(f, i),
                    R"(", "permissions": "rw"}]}})");
  }
  std::string hooks;
  if (!f.cdi_hook_log.empty()) {
    auto hook = [](const char* stage, const char* path, const std::string& script) {
      return absl::StrCat(R"({"hookName": ")", stage, R"(", "path": ")", path, R"(", "args": ["sh", "-c", ")", script,
                          R"("]})");
    };
    auto on_host = [&](const char* stage) {
      return hook(stage, "/bin/busybox", absl::StrCat("echo ", stage, " >> ", f.cdi_hook_log));
    };
    hooks = absl::StrCat(
        R"(, "hooks": [)", on_host("createRuntime"), ", ",
        hook("createContainer", "/bin/busybox", "echo createContainer >> /tmp/cdi-hooks"), ", ",
        hook("startContainer", "/bin/sh", "echo startContainer >> /tmp/cdi-hooks"), ", ", on_host("poststart"), ", ",
        on_host("poststop"), "]");
  }
  std::string spec = absl::StrCat(R"({"cdiVersion": "0.6.0", "kind": ")", f.resource,
                                  R"(",
  "containerEdits": {"env": ["WIDGET_VENDOR=example"])", hooks, R"(},
  "devices": [
)", devices, "\n  ]\n}\n");
  RETURN_IF_ERROR(berth::MkdirAll(f.cdi_spec_dir));
  return berth::AtomicWriteFile(f.cdi_spec_dir + "/example-widget.json", spec);
}

// The ids the health file names (missing file: none).
std::set<std::string> Unhealthy(const std::string& path) {
  std::set<std::string> out;
  auto text = berth::ReadFile(path);
  if (!text.ok()) return out;
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipWhitespace())) {
    out.insert(std::string(absl::StripAsciiWhitespace(line)));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--plugins-dir") f.plugins_dir = value();
    else if (arg == "--device-dir") f.device_dir = value();
    else if (arg == "--resource") f.resource = value();
    else if (arg == "--endpoint") f.endpoint = value();
    else if (arg == "--health-file") f.health_file = value();
    else if (arg == "--pre-start-log") f.pre_start_log = value();
    else if (arg == "--cdi-spec-dir") f.cdi_spec_dir = value();
    else if (arg == "--cdi-hook-log") f.cdi_hook_log = value();
    else if (arg == "--preferred") f.preferred = true;
    else if (arg == "--pre-start") f.pre_start = true;
    else if (arg == "--devices") {
      if (!absl::SimpleAtoi(value(), &f.devices) || f.devices < 0) return Fail("--devices: expected a count");
    } else {
      return Fail("unknown flag " + arg);
    }
  }
  if (f.plugins_dir.empty() || f.device_dir.empty()) return Fail("--plugins-dir and --device-dir are required");
  if (auto st = berth::MkdirAll(f.device_dir); !st.ok()) return Fail(st.ToString());
  FakeDevicePluginOptions o;
  o.resource = f.resource;
  o.plugins_dir = f.plugins_dir;
  o.endpoint = f.endpoint;
  o.preferred_allocation = f.preferred;
  o.pre_start_required = f.pre_start;
  std::map<std::string, int> index;
  for (int i = 0; i < f.devices; ++i) {
    std::string id = absl::StrCat("w", i);
    o.device_ids.push_back(id);
    index[id] = i;
    unlink(NodePath(f, i).c_str());
    if (mknod(NodePath(f, i).c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
      return Fail(absl::StrCat("mknod ", NodePath(f, i), ": ", strerror(errno)));
    }
    chmod(NodePath(f, i).c_str(), 0666);  // whatever the umask
  }
  if (!f.cdi_spec_dir.empty()) {
    if (auto st = WriteCdiSpec(f); !st.ok()) return Fail(st.ToString());
  }
  o.allocate = [f, index](const std::vector<std::string>& ids) {
    v1beta1::ContainerAllocateResponse r;
    (*r.mutable_envs())["WIDGET_IDS"] = absl::StrJoin(ids, ",");
    for (const auto& id : ids) {
      int i = index.at(id);
      if (!f.cdi_spec_dir.empty()) {
        r.add_cdi_devices()->set_name(absl::StrCat(f.resource, "=", id));
        continue;
      }
      auto* d = r.add_devices();
      d->set_host_path(NodePath(f, i));
      d->set_container_path(absl::StrCat("/dev/widget", i));
      d->set_permissions("rw");
    }
    return r;
  };
  if (!f.pre_start_log.empty()) {
    std::string log = f.pre_start_log;
    o.on_pre_start = [log](const std::vector<std::string>& ids) {
      std::ofstream(log, std::ios::app) << absl::StrJoin(ids, ",") << "\n";
    };
  }
  FakeDevicePlugin plugin(o);

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
  int ifd = inotify_init1(IN_CLOEXEC);
  if (sfd < 0 || ifd < 0) return Fail("signalfd/inotify");
  int plugins_wd = inotify_add_watch(ifd, f.plugins_dir.c_str(), IN_CREATE | IN_MOVED_TO);
  int health_wd = -1;
  std::string health_dir, health_name;
  if (!f.health_file.empty()) {
    health_dir = f.health_file.substr(0, f.health_file.rfind('/'));
    health_name = f.health_file.substr(f.health_file.rfind('/') + 1);
    health_wd = inotify_add_watch(ifd, health_dir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE);
  }
  if (plugins_wd < 0) return Fail("inotify on " + f.plugins_dir);

  std::set<std::string> unhealthy;
  auto apply_health = [&] {
    std::set<std::string> now = Unhealthy(f.health_file);
    for (const auto& id : o.device_ids) {
      if (now.count(id) != unhealthy.count(id)) plugin.SetHealthy(id, now.count(id) == 0);
    }
    unhealthy = now;
  };
  if (!f.health_file.empty()) apply_health();
  if (auto st = plugin.Start(); !st.ok()) return Fail(st.ToString());
  auto register_now = [&] {
    absl::Status st = plugin.Register(absl::Seconds(5));
    fprintf(stderr, "test-device-plugin: register %s: %s\n", f.resource.c_str(), st.ToString().c_str());
  };
  if (berth::PathExists(f.plugins_dir + "/kubelet.sock")) register_now();
  fprintf(stderr, "test-device-plugin: serving %s with %d devices on %s/%s\n", f.resource.c_str(), f.devices,
          f.plugins_dir.c_str(), f.endpoint.c_str());

  pollfd fds[2] = {{sfd, POLLIN, 0}, {ifd, POLLIN, 0}};
  for (;;) {
    int n = poll(fds, 2, -1);
    if (n <= 0) continue;
    if (fds[0].revents & POLLIN) break;
    if (fds[1].revents & POLLIN) {
      alignas(inotify_event) char buf[4096];
      ssize_t len = read(ifd, buf, sizeof(buf));
      bool re_register = false, health_changed = false;
      for (ssize_t off = 0; off < len;) {
        auto* e = reinterpret_cast<inotify_event*>(buf + off);
        std::string name = e->len ? e->name : "";
        if (e->wd == plugins_wd && name == "kubelet.sock") re_register = true;
        if (e->wd == health_wd && name == health_name) health_changed = true;
        off += sizeof(inotify_event) + e->len;
      }
      if (health_changed) apply_health();
      if (re_register) register_now();
    }
  }
  fprintf(stderr, "test-device-plugin: exiting\n");
  plugin.Stop();
  return 0;
}
