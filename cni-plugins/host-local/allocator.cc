#include "cni-plugins/host-local/allocator.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "cni-plugins/common/plugin.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/status_macros.h"

namespace berth::hostlocal {
namespace {

using cniplugin::CniError;
using cniplugin::kIoFailure;
using cniplugin::kPluginSpecific;

// The network's directory, locked for the lifetime of the object.
class LockedStore {
 public:
  static absl::StatusOr<std::unique_ptr<LockedStore>> Open(const IpamConfig& config) {
    std::string dir = absl::StrCat(config.data_dir, "/", config.network_name);
    if (absl::Status s = MkdirAll(dir, 0755); !s.ok()) {
      return CniError(kIoFailure, absl::StrCat("host-local: create ", dir, ": ", s.message()));
    }
    std::string lock = dir + "/lock";
    int fd = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return CniError(kIoFailure, absl::StrCat("host-local: open ", lock, ": ", strerror(errno)));
    while (flock(fd, LOCK_EX) < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      return CniError(kIoFailure, absl::StrCat("host-local: lock ", lock, ": ", strerror(err)));
    }
    return std::unique_ptr<LockedStore>(new LockedStore(dir, fd));
  }
  ~LockedStore() {
    flock(fd_, LOCK_UN);
    close(fd_);
  }

  std::string PathOf(const Ip& ip) const { return absl::StrCat(dir_, "/", ip.ToString()); }

  // ip -> (container id, ifname) for every allocation file.
  absl::StatusOr<std::vector<std::pair<Ip, std::pair<std::string, std::string>>>> List() const {
    ASSIGN_OR_RETURN(auto names, ListDir(dir_));
    std::vector<std::pair<Ip, std::pair<std::string, std::string>>> out;
    for (const auto& name : names) {
      auto ip = ParseIp(name);
      if (!ip) continue;
      auto data = ReadFile(absl::StrCat(dir_, "/", name));
      if (!data.ok()) continue;  // raced with nothing (we hold the lock); unreadable: skip
      absl::string_view text = *data;
      size_t nl = text.find('\n');
      std::string id(absl::StripSuffix(text.substr(0, nl), "\r"));
      std::string ifname = nl == absl::string_view::npos ? "" : std::string(absl::StripAsciiWhitespace(text.substr(nl + 1)));
      out.push_back({*ip, {id, ifname}});
    }
    return out;
  }

  bool Reserved(const Ip& ip) const { return access(PathOf(ip).c_str(), F_OK) == 0; }

  absl::Status Reserve(const Ip& ip, const std::string& id, const std::string& ifname) {
    std::string path = PathOf(ip);
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoError(absl::StrCat("create ", path));
    std::string data = absl::StrCat(id, "\n", ifname);
    ssize_t n = write(fd, data.data(), data.size());
    int err = errno;
    close(fd);
    if (n != static_cast<ssize_t>(data.size())) {
      unlink(path.c_str());
      return ErrnoError(err, absl::StrCat("write ", path));
    }
    return absl::OkStatus();
  }

  void Free(const Ip& ip) { unlink(PathOf(ip).c_str()); }

  std::optional<Ip> LastReserved(size_t set) const {
    auto data = ReadFile(absl::StrCat(dir_, "/last_reserved_ip.", set));
    if (!data.ok()) return std::nullopt;
    return ParseIp(absl::StripAsciiWhitespace(*data));
  }
  // Rewritten in place, not through a temp file and rename: it is only where
  // the next search starts (as the reference plugin's file), a torn write
  // reads as no hint, and a create + rename cost ~1 ms of every ADD on ext4.
  absl::Status SetLastReserved(size_t set, const Ip& ip) {
    std::string path = absl::StrCat(dir_, "/last_reserved_ip.", set);
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoError(absl::StrCat("open ", path));
    std::string text = ip.ToString();
    ssize_t n = write(fd, text.data(), text.size());
    int err = errno;
    close(fd);
    if (n != static_cast<ssize_t>(text.size())) return ErrnoError(err, absl::StrCat("write ", path));
    return absl::OkStatus();
  }

 private:
  LockedStore(std::string dir, int fd) : dir_(std::move(dir)), fd_(fd) {}
  std::string dir_;
  int fd_;
};

const IpRange* RangeOf(const RangeSet& set, const Ip& ip) {
  for (const auto& r : set) {
    if (r.Contains(ip)) return &r;
  }
  return nullptr;
}

std::string DescribeSet(const RangeSet& set) {
  std::vector<std::string> parts;
  for (const auto& r : set) parts.push_back(r.ToString());
  return absl::StrJoin(parts, ", ");
}

}  // namespace

absl::StatusOr<std::vector<Allocation>> Allocate(const IpamConfig& config,
                                                 const std::string& container_id,
                                                 const std::string& ifname) {
  ASSIGN_OR_RETURN(auto store, LockedStore::Open(config));
  ASSIGN_OR_RETURN(auto existing, store->List());
  std::vector<Allocation> out;
  std::vector<Ip> taken_now;
  auto rollback = [&] {
    for (const auto& ip : taken_now) store->Free(ip);
  };
  for (size_t i = 0; i < config.range_sets.size(); ++i) {
    const RangeSet& set = config.range_sets[i];
    std::optional<Allocation> found;
    for (const auto& [ip, owner] : existing) {
      if (owner.first != container_id || owner.second != ifname) continue;
      if (const IpRange* r = RangeOf(set, ip)) {
        found = Allocation{ip, *r};
        break;
      }
    }
    if (!found) {
      absl::Status error;
      ForEachCandidate(set, store->LastReserved(i), [&](const Ip& ip) {
        if (store->Reserved(ip)) return false;
        error = store->Reserve(ip, container_id, ifname);
        if (!error.ok()) return true;
        found = Allocation{ip, *RangeOf(set, ip)};
        return true;
      });
      if (!error.ok()) {
        rollback();
        return CniError(kIoFailure, absl::StrCat("host-local: ", error.message()));
      }
      if (!found) {
        rollback();
        return CniError(kPluginSpecific,
                        absl::StrCat("host-local: no IP addresses available in range set ",
                                     DescribeSet(set)));
      }
      taken_now.push_back(found->ip);
      if (absl::Status s = store->SetLastReserved(i, found->ip); !s.ok()) {
        rollback();
        return CniError(kIoFailure, absl::StrCat("host-local: ", s.message()));
      }
    }
    out.push_back(*found);
  }
  return out;
}

absl::Status Release(const IpamConfig& config, const std::string& container_id,
                     const std::string& ifname) {
  ASSIGN_OR_RETURN(auto store, LockedStore::Open(config));
  ASSIGN_OR_RETURN(auto existing, store->List());
  for (const auto& [ip, owner] : existing) {
    if (owner.first == container_id && owner.second == ifname) store->Free(ip);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Allocation>> Find(const IpamConfig& config,
                                             const std::string& container_id,
                                             const std::string& ifname) {
  ASSIGN_OR_RETURN(auto store, LockedStore::Open(config));
  ASSIGN_OR_RETURN(auto existing, store->List());
  std::vector<Allocation> out;
  for (size_t i = 0; i < config.range_sets.size(); ++i) {
    bool found = false;
    for (const auto& [ip, owner] : existing) {
      if (owner.first != container_id || owner.second != ifname) continue;
      if (const IpRange* r = RangeOf(config.range_sets[i], ip)) {
        out.push_back({ip, *r});
        found = true;
        break;
      }
    }
    if (!found) {
      return CniError(kPluginSpecific,
                      absl::StrCat("host-local: no IP allocated to ", container_id, "/", ifname,
                                   " in range set ", DescribeSet(config.range_sets[i])));
    }
  }
  return out;
}

absl::Status GarbageCollect(const IpamConfig& config,
                            const std::set<std::pair<std::string, std::string>>& valid) {
  ASSIGN_OR_RETURN(auto store, LockedStore::Open(config));
  ASSIGN_OR_RETURN(auto existing, store->List());
  for (const auto& [ip, owner] : existing) {
    if (!valid.contains(owner)) store->Free(ip);
  }
  return absl::OkStatus();
}

nlohmann::json ResultJson(const IpamConfig& config, const std::vector<Allocation>& allocations,
                          const std::string& cni_version) {
  bool old = cniplugin::VersionLess(cni_version, "0.4.0");
  nlohmann::json ips = nlohmann::json::array();
  for (const auto& a : allocations) {
    nlohmann::json ip = {{"address", absl::StrCat(a.ip.ToString(), "/", a.range.subnet.length)},
                         {"gateway", a.range.gateway.ToString()}};
    if (old) ip["version"] = a.ip.v6 ? "6" : "4";
    ips.push_back(ip);
  }
  nlohmann::json routes = nlohmann::json::array();
  for (const auto& r : config.routes) {
    nlohmann::json route = {{"dst", r.dst}};
    if (!r.gw.empty()) route["gw"] = r.gw;
    routes.push_back(route);
  }
  nlohmann::json out = {{"cniVersion", cni_version}, {"ips", ips}, {"routes", routes}};
  out["dns"] = config.dns.is_object() ? config.dns : nlohmann::json::object();
  return out;
}

}  // namespace berth::hostlocal
