#include "runtime-shim/image/import_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace berth::image {

using json = nlohmann::json;

absl::StatusOr<std::unique_ptr<ImportWatcher>> ImportWatcher::Start(ImageStore* store, ImportWatcherOptions options) {
  if (options.dir.empty() || options.dir[0] != '/') {
    return absl::InvalidArgumentError(absl::StrCat("image import dir '", options.dir, "' must be an absolute path"));
  }
  if (options.ledger.empty() || options.ledger[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("image import ledger '", options.ledger, "' must be an absolute path"));
  }
  std::unique_ptr<ImportWatcher> w(new ImportWatcher(store, std::move(options)));
  RETURN_IF_ERROR(MkdirAll(w->options_.dir, 0700));
  RETURN_IF_ERROR(w->LoadLedger());
  w->inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (w->inotify_fd_ < 0) return ErrnoError("inotify_init1");
  // Watch before the first scan, so nothing placed in between is missed.
  if (::inotify_add_watch(w->inotify_fd_, w->options_.dir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_ONLYDIR) < 0) {
    return ErrnoError(absl::StrCat("inotify_add_watch ", w->options_.dir));
  }
  w->stop_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (w->stop_fd_ < 0) return ErrnoError("eventfd");
  BERTH_LOG(Info) << "watching for image archives" << Kv("dir", w->options_.dir);
  w->thread_ = std::thread([raw = w.get()] { raw->Run(); });
  return w;
}

ImportWatcher::~ImportWatcher() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    if (::write(stop_fd_, &one, sizeof(one)) != sizeof(one)) {
      BERTH_LOG(Error) << "stop image import watcher: " << ErrnoError("write eventfd").message();
    }
    thread_.join();
  }
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

absl::Status ImportWatcher::LoadLedger() {
  absl::StatusOr<std::string> text = ReadFile(options_.ledger);
  if (absl::IsNotFound(text.status())) return absl::OkStatus();
  if (!text.ok()) return text.status();
  json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("archives") || !doc["archives"].is_object()) {
    // Written atomically, so this is damage from outside: start over (archives get imported again, harmlessly).
    BERTH_LOG(Error) << "image import ledger unreadable; starting a new one" << Kv("path", options_.ledger);
    return absl::OkStatus();
  }
  for (const auto& [name, entry] : doc["archives"].items()) {
    if (!entry.is_object()) continue;
    Seen seen;
    seen.size = entry.value("size", int64_t{-1});
    seen.mtime_ns = entry.value("mtime_ns", int64_t{-1});
    seen.ok = entry.value("ok", false);
    seen.error = entry.value("error", "");
    ledger_[name] = seen;
  }
  return absl::OkStatus();
}

absl::Status ImportWatcher::SaveLedger() {
  json archives = json::object();
  for (const auto& [name, seen] : ledger_) {
    archives[name] = {{"size", seen.size}, {"mtime_ns", seen.mtime_ns}, {"ok", seen.ok}, {"error", seen.error}};
  }
  json doc = {{"archives", archives}};
  return AtomicWriteFile(options_.ledger, doc.dump(2), 0600);
}

void ImportWatcher::Consider(const std::string& name) {
  if (name.empty() || name[0] == '.') return;
  std::string path = absl::StrCat(options_.dir, "/", name);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return;  // gone again, or a directory
  Seen now;
  now.size = static_cast<int64_t>(st.st_size);
  now.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  auto known = ledger_.find(name);
  if (known != ledger_.end() && known->second.size == now.size && known->second.mtime_ns == now.mtime_ns) return;

  BERTH_LOG(Info) << "importing image archive" << Kv("path", path) << Kv("bytes", now.size);
  absl::StatusOr<std::vector<Image>> imported = store_->Import(path);
  now.ok = imported.ok();
  if (imported.ok()) {
    std::vector<std::string> names;
    for (const Image& image : *imported) {
      names.push_back(image.repo_tags.empty() ? image.id : absl::StrJoin(image.repo_tags, ","));
    }
    BERTH_LOG(Info) << "imported image archive" << Kv("path", path) << Kv("images", absl::StrJoin(names, " "));
  } else {
    now.error = std::string(imported.status().message());
    BERTH_LOG(Error) << "image archive import failed; the file stays, fix or replace it to retry"
                     << Kv("path", path) << Kv("error", now.error);
  }
  ledger_[name] = now;
  absl::Status saved = SaveLedger();
  if (!saved.ok()) {
    BERTH_LOG(Error) << "write image import ledger: " << saved.message();
  }
  if (options_.on_import) options_.on_import(path, imported.status());
}

void ImportWatcher::Run() {
  absl::StatusOr<std::vector<std::string>> existing = ListDir(options_.dir);
  if (!existing.ok()) {
    BERTH_LOG(Error) << "list image import dir: " << existing.status().message();
  } else {
    for (const std::string& name : *existing) Consider(name);
  }
  alignas(struct inotify_event) char buf[16 * 1024];
  while (true) {
    struct pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      BERTH_LOG(Error) << "image import watcher: " << ErrnoError("poll").message();
      return;
    }
    if (fds[1].revents != 0) return;
    std::vector<std::string> names;
    bool overflow = false;
    while (true) {
      ssize_t n = ::read(inotify_fd_, buf, sizeof(buf));
      if (n <= 0) break;
      for (char* p = buf; p < buf + n;) {
        auto* ev = reinterpret_cast<struct inotify_event*>(p);
        if (ev->mask & IN_Q_OVERFLOW) overflow = true;
        if (ev->len > 0) names.emplace_back(ev->name);
        p += sizeof(struct inotify_event) + ev->len;
      }
    }
    if (overflow) {
      // Events were lost: look at everything (the ledger skips what is done).
      absl::StatusOr<std::vector<std::string>> all = ListDir(options_.dir);
      if (all.ok()) names = *all;
    }
    for (const std::string& name : names) Consider(name);
  }
}

}  // namespace berth::image
