// The watch verb's stream: after RestHandler::Watch (watch_stream.cc) has
// chosen where the watch starts and written its initial events, WatchStream
// turns the event source's events into watch event lines (selectors applied
// per event: an object leaving the selection is DELETED, entering ADDED;
// Table rows when asked), bookmarks, and the end at timeoutSeconds. On the
// HTTPS server it is event-driven (the server pumps it when the source has
// events, ResponseWriter::Continue); elsewhere Run drives it on the caller's
// thread.
#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "controlplane/apiserver/https_server.h"
#include "controlplane/apiserver/resource_storage.h"
#include "controlplane/apiserver/watch_cache.h"

namespace berth::apiserver {

struct WatchStreamOptions {
  LabelSelector labels;
  FieldSelector fields;
  bool table = false;
  std::string include_object;  // Table rows: None, Metadata, Object
  bool bookmarks = false;
  absl::Duration bookmark_interval = absl::Minutes(1);
  absl::Time end = absl::InfiniteFuture();  // timeoutSeconds
};

class WatchStream : public StreamContinuation {
 public:
  WatchStream(const ResourceStorage* storage, std::unique_ptr<EventSource> source, WatchStreamOptions options);
  ~WatchStream() override;

  // The current state as ADDED events, then (sendInitialEvents with
  // bookmarks) the initial-events-end bookmark at `initial_revision`.
  bool WriteInitial(ResponseWriter& writer, const std::vector<CachedEventPtr>& initial, bool end_bookmark,
                    int64_t initial_revision);

  bool SetWake(std::function<void()> wake) override;
  bool Pump(ResponseWriter& writer) override;

  // Blocking: waits for events on this thread until the stream is over.
  void Run(ResponseWriter& writer);

 private:
  // Writes what the source has by `deadline`; false once the stream is over.
  bool Step(ResponseWriter& writer, absl::Time deadline);
  void Add(const char* type, const CachedEvent& event);
  bool Flush(ResponseWriter& writer);
  bool Bookmark(ResponseWriter& writer, int64_t revision, bool initial_end);

  const ResourceStorage* storage_;
  std::unique_ptr<EventSource> source_;
  const WatchStreamOptions options_;
  std::string batch_;  // event lines of one chunk
  absl::Time last_bookmark_;
};

}  // namespace berth::apiserver
