// In-memory broadcast of committed events to the SQLite store's watchers.
// The writer publishes each batch after its commit, in revision order; each
// watcher receives the events under its prefix. A new watcher is registered
// before its catch-up read from the log and buffers live events until the
// catch-up is done; events the catch-up already covered are skipped, so it
// sees every revision exactly once (a commit can be visible to the catch-up
// read before the writer publishes it).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "controlplane/store/store.h"
#include "controlplane/store/watch_queue.h"

namespace berth::store {

class WatchHub {
 public:
  // Registers a watcher in the catch-up state; returns its id.
  int64_t Register(const std::string& prefix, std::shared_ptr<WatchQueue> queue);
  // Ends the catch-up: events buffered meanwhile with revision > `caught_up_to`
  // go to the queue, and later ones go straight to it.
  void GoLive(int64_t id, int64_t caught_up_to);
  void Unregister(int64_t id);

  // Delivers a committed batch (sorted by revision) and advances the
  // published revision.
  void Publish(const std::vector<EventPtr>& events);

  // Sets the published revision at startup (the log's newest revision).
  void SetPublishedRevision(int64_t revision);
  int64_t published_revision() const;

  // Queues a bookmark at the published revision for a live watcher (ordered
  // after every event up to it).
  void Bookmark(int64_t id);

  // Closes every queue (the store is going away).
  void CloseAll(const absl::Status& reason);

  size_t size() const;

 private:
  struct Sub {
    std::string prefix;
    std::shared_ptr<WatchQueue> queue;
    bool live = false;
    // The catch-up read covered revisions up to here; a later publish of one
    // of them (committed before, published after) is not delivered twice.
    int64_t skip_through = 0;
    bool bookmark_wanted = false;
    std::vector<EventPtr> buffered;
  };
  mutable std::mutex mu_;
  std::map<int64_t, Sub> subs_;
  int64_t next_id_ = 1;
  int64_t published_revision_ = 0;
};

}  // namespace berth::store
