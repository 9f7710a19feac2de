#include "absl/time/clock.h"
#include "agent/pod/static_pod_source.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "agent/pod/labels.h"
#include "api/k8s/codec.h"
#include "api/k8s/defaults.h"
#include "api/k8s/static_pod.h"
#include "api/k8s/validation.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/logging.h"

namespace berth::agent {

StaticPodSource::StaticPodSource(std::string dir, std::string node_name, absl::Duration rescan,
                                 PodsCallback on_pods, ErrorCallback on_error)
    : dir_(std::move(dir)),
      node_name_(std::move(node_name)),
      rescan_(rescan),
      on_pods_(std::move(on_pods)),
      on_error_(std::move(on_error)) {}

StaticPodSource::~StaticPodSource() { Stop(); }

absl::StatusOr<std::vector<k8s::Pod>> StaticPodSource::PodsFromFile(const std::string& path, const std::string& text,
                                                                   const std::string& node_name) {
  // The kubelet's file source decodes leniently: unknown fields are dropped.
  k8s::DecodeOptions options;
  options.strict = false;
  auto decoded = k8s::DecodePods(text, options);
  if (!decoded.ok()) return decoded.status();
  if (decoded->empty()) return absl::InvalidArgumentError("no pod in the file");
  std::vector<k8s::Pod> pods;
  for (auto& pod : *decoded) {
    k8s::SetDefaultsPod(&pod);
    if (pod.metadata.uid.empty()) pod.metadata.uid = k8s::StaticPodUid(pod, node_name, path);
    pod.metadata.name = k8s::StaticPodName(pod.metadata.name, node_name);
    if (pod.metadata.namespace_.empty()) pod.metadata.namespace_ = "default";
    pod.spec.nodeName = node_name;
    pod.metadata.annotations[kConfigHashAnnotation] = pod.metadata.uid;
    pod.metadata.annotations[kConfigSourceAnnotation] = "file";
    pod.status.phase = "Pending";
    absl::Status valid = k8s::ValidatePodStatus(pod);
    if (!valid.ok()) return valid;
    pods.push_back(std::move(pod));
  }
  return pods;
}

std::vector<k8s::Pod> StaticPodSource::Scan() {
  std::vector<k8s::Pod> pods;
  std::map<std::string, std::string> problems;
  auto names = ListDir(dir_);
  if (names.ok()) {
    std::sort(names->begin(), names->end());
    std::map<std::string, std::string> owner;  // "<ns>/<name>" -> file
    for (const auto& name : *names) {
      if (name.empty() || name[0] == '.') continue;  // hidden files are ignored, as the kubelet does
      std::string path = dir_ + "/" + name;
      struct stat st;
      if (stat(path.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) continue;
      if (!S_ISREG(st.st_mode)) {
        problems[path] = "not a regular file";
        continue;
      }
      auto text = ReadFile(path);
      if (!text.ok()) {
        problems[path] = std::string(text.status().message());
        continue;
      }
      auto file_pods = PodsFromFile(path, *text, node_name_);
      if (!file_pods.ok()) {
        problems[path] = std::string(file_pods.status().message());
        continue;
      }
      std::vector<std::string> dups;
      for (auto& pod : *file_pods) {
        std::string key = pod.metadata.namespace_ + "/" + pod.metadata.name;
        auto [it, inserted] = owner.emplace(key, path);
        if (!inserted) {
          dups.push_back(absl::StrCat("metadata.name: Duplicate value: \"", pod.metadata.name,
                                      "\": already defined by ", it->second));
          continue;
        }
        pods.push_back(std::move(pod));
      }
      if (!dups.empty()) problems[path] = absl::StrJoin(dups, "; ");
    }
  } else if (names.status().code() != absl::StatusCode::kNotFound) {
    problems[dir_] = std::string(names.status().message());
  }
  // Report new problems and cleared ones, once each.
  for (const auto& [file, message] : problems) {
    auto it = reported_.find(file);
    if (it != reported_.end() && it->second == message) continue;
    reported_[file] = message;
    if (on_error_) on_error_(file, message);
  }
  for (auto it = reported_.begin(); it != reported_.end();) {
    if (problems.count(it->first)) {
      ++it;
      continue;
    }
    if (on_error_) on_error_(it->first, "");
    it = reported_.erase(it);
  }
  return pods;
}

absl::Status StaticPodSource::Start() {
  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0) return ErrnoError("inotify_init1");
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_fd_ < 0) return ErrnoError("eventfd");
  Rewatch();
  on_pods_(Scan());
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void StaticPodSource::Stop() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof(one));
    thread_.join();
  }
  if (inotify_fd_ >= 0) close(inotify_fd_);
  if (stop_fd_ >= 0) close(stop_fd_);
  inotify_fd_ = stop_fd_ = -1;
}

void StaticPodSource::Rewatch() {
  if (dir_watch_ >= 0) return;
  dir_watch_ = inotify_add_watch(inotify_fd_, dir_.c_str(),
                                 IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
                                     IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
  if (dir_watch_ >= 0) return;
  // Wait for the directory to appear: watch its parent (if that exists; the rescan retries).
  if (parent_watch_ < 0) {
    std::string parent = dir_.substr(0, dir_.rfind('/'));
    if (parent.empty()) parent = "/";
    parent_watch_ = inotify_add_watch(inotify_fd_, parent.c_str(), IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
  }
}

void StaticPodSource::Run() {
  absl::Time next_scan = absl::Now() + rescan_;
  char buf[16 * 1024] __attribute__((aligned(alignof(struct inotify_event))));
  while (true) {
    int timeout_ms = static_cast<int>(std::max<int64_t>(0, absl::ToInt64Milliseconds(next_scan - absl::Now())));
    pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {inotify_fd_, POLLIN, 0}};
    int n = poll(fds, 2, timeout_ms);
    if (n < 0 && errno != EINTR) {
      BERTH_LOG(Error) << "static pod source: poll failed" << Kv("errno", errno);
      return;
    }
    if (fds[0].revents & POLLIN) return;
    bool changed = absl::Now() >= next_scan;
    if (fds[1].revents & POLLIN) {
      ssize_t len;
      while ((len = read(inotify_fd_, buf, sizeof(buf))) > 0) {
        for (char* p = buf; p < buf + len;) {
          auto* ev = reinterpret_cast<inotify_event*>(p);
          if (ev->wd == dir_watch_ && (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))) {
            inotify_rm_watch(inotify_fd_, dir_watch_);
            dir_watch_ = -1;
          }
          changed = true;
          p += sizeof(inotify_event) + ev->len;
        }
      }
    }
    if (!changed) continue;
    Rewatch();
    on_pods_(Scan());
    next_scan = absl::Now() + rescan_;
  }
}

}  // namespace berth::agent
