#include "controlplane/store/watch_hub.h"

#include "absl/strings/match.h"

namespace berth::store {

namespace {
EventPtr MakeBookmark(int64_t revision) {
  auto ev = std::make_shared<Event>();
  ev->type = EventType::kBookmark;
  ev->revision = revision;
  return ev;
}
}  // namespace

int64_t WatchHub::Register(const std::string& prefix, std::shared_ptr<WatchQueue> queue) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t id = next_id_++;
  Sub& sub = subs_[id];
  sub.prefix = prefix;
  sub.queue = std::move(queue);
  return id;
}

void WatchHub::GoLive(int64_t id, int64_t caught_up_to) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = subs_.find(id);
  if (it == subs_.end()) return;
  Sub& sub = it->second;
  for (auto& ev : sub.buffered) {
    if (ev->revision > caught_up_to) sub.queue->Push(std::move(ev));
  }
  sub.buffered.clear();
  sub.buffered.shrink_to_fit();
  sub.live = true;
  sub.skip_through = caught_up_to;
  if (sub.bookmark_wanted) {
    sub.bookmark_wanted = false;
    sub.queue->Push(MakeBookmark(published_revision_));
  }
}

void WatchHub::Unregister(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  subs_.erase(id);
}

void WatchHub::Publish(const std::vector<EventPtr>& events) {
  if (events.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, sub] : subs_) {
    if (sub.queue->closed()) continue;
    for (const EventPtr& ev : events) {
      if (!absl::StartsWith(ev->kv.key, sub.prefix)) continue;
      if (sub.live) {
        if (ev->revision > sub.skip_through) sub.queue->Push(ev);
      } else {
        sub.buffered.push_back(ev);
      }
    }
  }
  published_revision_ = events.back()->revision;
}

void WatchHub::SetPublishedRevision(int64_t revision) {
  std::lock_guard<std::mutex> lock(mu_);
  published_revision_ = revision;
}

int64_t WatchHub::published_revision() const {
  std::lock_guard<std::mutex> lock(mu_);
  return published_revision_;
}

void WatchHub::Bookmark(int64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = subs_.find(id);
  if (it == subs_.end()) return;
  if (!it->second.live) {
    it->second.bookmark_wanted = true;
    return;
  }
  // Never behind an event already queued for this watcher.
  int64_t rev = std::max(published_revision_, it->second.queue->last_revision());
  it->second.queue->Push(MakeBookmark(rev));
}

void WatchHub::CloseAll(const absl::Status& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, sub] : subs_) sub.queue->Close(reason);
  subs_.clear();
}

size_t WatchHub::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return subs_.size();
}

}  // namespace berth::store
