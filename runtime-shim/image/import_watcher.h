// Airgap imports: image archives (OCI layout or docker-archive tars, as
// ImageStore::Import takes them) placed in a watched directory are imported
// when the watcher starts and whenever one appears (inotify IN_CLOSE_WRITE /
// IN_MOVED_TO: a finished copy or a rename into the directory).
//
// Each archive is imported once: a ledger (JSON, written atomically) records
// every archive seen by name, size and mtime with the outcome, so a restart
// does not import it again; a changed file (new size or mtime) is imported
// again. A failed import is logged with the reason and recorded, the file is
// left where it is, and the watcher goes on. Hidden files (".name", what
// copy tools write before renaming) are ignored. Layers the store already
// has (by chain id) are not unpacked again.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime-shim/image/image_store.h"

namespace berth::image {

struct ImportWatcherOptions {
  std::string dir;     // watched; created if missing
  std::string ledger;  // the record of imported archives (e.g. <state-dir>/image-imports.json)
  // Called on the watcher thread after each attempt (tests, logging).
  std::function<void(const std::string& path, const absl::Status& result)> on_import;
};

class ImportWatcher {
 public:
  // Starts watching and imports what is already there (on the watcher
  // thread). `store` must outlive the watcher.
  static absl::StatusOr<std::unique_ptr<ImportWatcher>> Start(ImageStore* store, ImportWatcherOptions options);
  ~ImportWatcher();  // stops the thread

  ImportWatcher(const ImportWatcher&) = delete;
  ImportWatcher& operator=(const ImportWatcher&) = delete;

 private:
  struct Seen {
    int64_t size = 0;
    int64_t mtime_ns = 0;
    bool ok = false;
    std::string error;
  };

  ImportWatcher(ImageStore* store, ImportWatcherOptions options) : store_(store), options_(std::move(options)) {}
  absl::Status LoadLedger();
  absl::Status SaveLedger();
  void Run();
  void Consider(const std::string& name);  // imports `name` unless the ledger has it as it is

  ImageStore* const store_;
  const ImportWatcherOptions options_;
  int inotify_fd_ = -1;
  int stop_fd_ = -1;  // eventfd
  std::thread thread_;
  std::map<std::string, Seen> ledger_;  // by file name; only the watcher thread touches it after Start
};

}  // namespace berth::image
