// berth-loopback: brings `lo` up in the pod's network namespace.
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "cni-plugins/common/plugin.h"

namespace berth::cniplugin {
namespace {

// Enters the net namespace at `path` (this whole short-lived process).
absl::Status EnterNetns(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    return CniError(err == ENOENT ? kInvalidEnv : kPluginSpecific,
                    absl::StrCat("open netns ", path, ": ", strerror(err)));
  }
  int rc = setns(fd, CLONE_NEWNET);
  int err = errno;
  close(fd);
  if (rc < 0) {
    return CniError(kPluginSpecific, absl::StrCat("setns ", path, ": ", strerror(err)));
  }
  return absl::OkStatus();
}

// Reads lo's flags; sets IFF_UP when `bring_up`. Returns whether it is up.
absl::StatusOr<bool> LoopbackUp(bool bring_up) {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return CniError(kPluginSpecific, absl::StrCat("socket: ", strerror(errno)));
  struct ifreq req = {};
  std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
  absl::StatusOr<bool> out;
  if (ioctl(sock, SIOCGIFFLAGS, &req) < 0) {
    out = CniError(kPluginSpecific, absl::StrCat("get flags of lo: ", strerror(errno)));
  } else if (bring_up && !(req.ifr_flags & IFF_UP)) {
    req.ifr_flags |= IFF_UP;
    if (ioctl(sock, SIOCSIFFLAGS, &req) < 0) {
      out = CniError(kPluginSpecific, absl::StrCat("bring lo up: ", strerror(errno)));
    } else {
      out = true;
    }
  } else {
    out = (req.ifr_flags & IFF_UP) != 0;
  }
  close(sock);
  return out;
}

nlohmann::json Result(const PluginArgs& args) {
  nlohmann::json v4 = {{"address", "127.0.0.1/8"}, {"interface", 0}};
  nlohmann::json v6 = {{"address", "::1/128"}, {"interface", 0}};
  if (VersionLess(args.cni_version, "0.4.0")) {
    v4["version"] = "4";
    v6["version"] = "6";
  }
  return {{"cniVersion", args.cni_version},
          {"interfaces", nlohmann::json::array({{{"name", "lo"},
                                                 {"mac", "00:00:00:00:00:00"},
                                                 {"sandbox", args.netns}}})},
          {"ips", nlohmann::json::array({v4, v6})},
          {"dns", nlohmann::json::object()}};
}

absl::StatusOr<nlohmann::json> Add(const PluginArgs& args) {
  if (absl::Status s = EnterNetns(args.netns); !s.ok()) return s;
  auto up = LoopbackUp(true);
  if (!up.ok()) return up.status();
  // In a chain, pass the previous result on untouched (as the reference
  // loopback does), so the pod's addresses stay the final result.
  if (auto prev = args.config.find("prevResult"); prev != args.config.end() && prev->is_object()) {
    nlohmann::json out = *prev;
    out["cniVersion"] = args.cni_version;
    return out;
  }
  return Result(args);
}

absl::StatusOr<nlohmann::json> Del(const PluginArgs&) {
  // lo goes with its namespace; nothing to undo, so a missing netns is fine.
  return nlohmann::json();
}

absl::StatusOr<nlohmann::json> Check(const PluginArgs& args) {
  if (absl::Status s = EnterNetns(args.netns); !s.ok()) return s;
  auto up = LoopbackUp(false);
  if (!up.ok()) return up.status();
  if (!*up) return CniError(kPluginSpecific, "lo is down");
  return nlohmann::json();
}

}  // namespace
}  // namespace berth::cniplugin

int main() {
  using namespace berth::cniplugin;
  Handlers handlers;
  handlers.add = Add;
  handlers.del = Del;
  handlers.check = Check;
  return RunPlugin(handlers);
}
