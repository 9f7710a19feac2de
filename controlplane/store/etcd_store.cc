#include "controlplane/store/etcd_store.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <future>
#include <map>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <openssl/evp.h>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/errors.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "controlplane/store/watch_queue.h"

namespace berth::store {

namespace {

std::string Quote(const std::string& key) { return absl::StrCat("\"", absl::CHexEscape(key), "\""); }

// gRPC status -> absl::Status, with etcd's MVCC errors given the store's codes.
absl::Status FromGrpc(const grpc::Status& st, absl::string_view what) {
  const std::string& msg = st.error_message();
  std::string text = absl::StrCat(what, ": etcd: ", msg);
  if (absl::StrContains(msg, "required revision has been compacted")) {
    return absl::OutOfRangeError(absl::StrCat(what, ": revision compacted (", msg, ")"));
  }
  if (absl::StrContains(msg, "required revision is a future revision")) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": revision is newer than the current revision (", msg, ")"));
  }
  return absl::Status(static_cast<absl::StatusCode>(st.error_code()), text);
}

KeyValue FromPb(const mvccpb::KeyValue& kv) {
  KeyValue out;
  out.key = kv.key();
  out.value = kv.value();
  out.create_revision = kv.create_revision();
  out.mod_revision = kv.mod_revision();
  return out;
}

absl::Status SyncAndRename(const std::string& from, const std::string& to) {
  int fd = open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(absl::StrCat("open ", from));
  int rc = fsync(fd);
  close(fd);
  if (rc != 0) return ErrnoError(absl::StrCat("fsync ", from));
  if (rename(from.c_str(), to.c_str()) != 0) {
    return ErrnoError(absl::StrCat("rename ", from, " to ", to));
  }
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------------------
// The shared Watch stream.

class EtcdWatchStream {
 public:
  static absl::StatusOr<std::shared_ptr<EtcdWatchStream>> Start(etcdserverpb::Watch::Stub* stub) {
    auto s = std::shared_ptr<EtcdWatchStream>(new EtcdWatchStream());
    s->rw_ = stub->Watch(&s->ctx_);
    if (!s->rw_) return absl::UnavailableError("etcd: cannot open a Watch stream");
    EtcdWatchStream* raw = s.get();
    s->reader_ = std::thread([raw] { raw->ReadLoop(); });
    return s;
  }

  ~EtcdWatchStream() {
    ctx_.TryCancel();
    if (reader_.joinable()) reader_.join();
  }

  // Ends the stream: every watch on it ends Unavailable.
  void Shutdown() { ctx_.TryCancel(); }

  bool broken() {
    std::lock_guard<std::mutex> lock(mu_);
    return broken_;
  }

  struct Handle {
    int64_t watch_id;
    int64_t sub_id;
  };

  // Subscribes `queue` to changes under `prefix` from `from` on, waiting
  // until etcd confirms the watch (or refuses it). With `shared`, watchers of
  // the same prefix and progress setting share one etcd watch (started
  // from `from`), and this subscriber gets only revisions after
  // `skip_through`; etcd then sends each event once, not once per watcher.
  absl::StatusOr<Handle> Subscribe(const std::string& prefix, int64_t from, bool progress,
                                   bool shared, int64_t skip_through,
                                   std::shared_ptr<WatchQueue> queue, absl::Duration timeout) {
    const std::string share_key = absl::StrCat(progress ? "p" : "-", prefix);
    Handle h{0, 0};
    std::shared_future<absl::Status> created;
    bool send_create = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (broken_) return absl::UnavailableError("etcd watch stream is broken");
      auto it = shared ? shared_.find(share_key) : shared_.end();
      if (it != shared_.end()) {
        h.watch_id = it->second;
      } else {
        h.watch_id = next_id_++;
        Entry& e = watches_[h.watch_id];
        e.created_promise = std::make_shared<std::promise<absl::Status>>();
        e.created = e.created_promise->get_future().share();
        if (shared) {
          e.share_key = share_key;
          shared_[share_key] = h.watch_id;
        }
        send_create = true;
      }
      Entry& e = watches_[h.watch_id];
      h.sub_id = next_sub_++;
      e.subs[h.sub_id] = Sub{std::move(queue), skip_through};
      created = e.created;
    }
    if (send_create) {
      etcdserverpb::WatchRequest req;
      auto* c = req.mutable_create_request();
      c->set_key(prefix);
      c->set_range_end(PrefixEnd(prefix));
      c->set_start_revision(from);
      c->set_prev_kv(true);
      c->set_progress_notify(progress);
      c->set_watch_id(h.watch_id);
      if (!Write(req)) {
        Fail(h.watch_id, absl::UnavailableError("etcd: writing a watch create request failed"));
      }
    }
    if (created.wait_for(absl::ToChronoMilliseconds(timeout)) != std::future_status::ready) {
      Unsubscribe(h);
      return absl::DeadlineExceededError(
          absl::StrCat("etcd did not confirm the watch on ", Quote(prefix), " within ",
                       absl::FormatDuration(timeout)));
    }
    absl::Status st = created.get();
    if (!st.ok()) {
      Unsubscribe(h);
      return st;
    }
    return h;
  }

  // Removes a subscriber; the etcd watch goes with its last one.
  void Unsubscribe(const Handle& h) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = watches_.find(h.watch_id);
      if (it == watches_.end()) return;
      it->second.subs.erase(h.sub_id);
      if (!it->second.subs.empty()) return;
      Forget(it);
    }
    etcdserverpb::WatchRequest req;
    req.mutable_cancel_request()->set_watch_id(h.watch_id);
    Write(req);
  }

  void RequestProgress() {
    etcdserverpb::WatchRequest req;
    req.mutable_progress_request();
    Write(req);
  }

 private:
  struct Sub {
    std::shared_ptr<WatchQueue> queue;
    int64_t skip_through = 0;  // revisions up to here are not for this subscriber
  };
  struct Entry {
    std::map<int64_t, Sub> subs;
    std::shared_ptr<std::promise<absl::Status>> created_promise;  // until answered
    std::shared_future<absl::Status> created;
    bool confirmed = false;
    std::string share_key;  // empty when not shared
  };

  EtcdWatchStream() = default;

  bool Write(const etcdserverpb::WatchRequest& req) {
    std::lock_guard<std::mutex> lock(write_mu_);
    return rw_->Write(req);
  }

  // mu_ held.
  void Forget(std::map<int64_t, Entry>::iterator it) {
    if (!it->second.share_key.empty()) {
      auto s = shared_.find(it->second.share_key);
      if (s != shared_.end() && s->second == it->first) shared_.erase(s);
    }
    if (it->second.created_promise) {
      it->second.created_promise->set_value(absl::CancelledError("watch cancelled"));
    }
    watches_.erase(it);
  }

  // Ends one etcd watch with `why` for all its subscribers.
  void Fail(int64_t watch_id, const absl::Status& why) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = watches_.find(watch_id);
    if (it == watches_.end()) return;
    if (it->second.created_promise) {
      it->second.created_promise->set_value(why);
      it->second.created_promise.reset();
    }
    for (auto& [id, sub] : it->second.subs) sub.queue->Close(why);
    Forget(it);
  }

  static EventPtr MakeBookmark(int64_t revision) {
    auto ev = std::make_shared<Event>();
    ev->type = EventType::kBookmark;
    ev->revision = revision;
    return ev;
  }

  static void Bookmark(Sub& sub, int64_t rev) {
    sub.queue->Push(MakeBookmark(std::max({rev, sub.skip_through, sub.queue->last_revision()})));
  }

  void Dispatch(const etcdserverpb::WatchResponse& resp) {
    const int64_t rev = resp.header().revision();
    if (resp.canceled()) {
      Fail(resp.watch_id(),
           resp.compact_revision() > 0
               ? absl::OutOfRangeError(absl::StrCat("watch start revision compacted (oldest kept: ",
                                                    resp.compact_revision(), ")"))
               : absl::UnavailableError(absl::StrCat("etcd cancelled the watch: ",
                                                     resp.cancel_reason())));
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (resp.watch_id() == -1) {
      // A progress response for the whole stream.
      for (auto& [id, e] : watches_) {
        if (!e.confirmed) continue;
        for (auto& [sid, sub] : e.subs) Bookmark(sub, rev);
      }
      return;
    }
    auto it = watches_.find(resp.watch_id());
    if (it == watches_.end()) return;  // cancelled by us
    Entry& e = it->second;
    if (resp.created()) {
      e.confirmed = true;
      if (e.created_promise) {
        e.created_promise->set_value(absl::OkStatus());
        e.created_promise.reset();
      }
    }
    if (resp.events_size() == 0) {
      if (!resp.created() && rev > 0) {
        for (auto& [sid, sub] : e.subs) Bookmark(sub, rev);
      }
      return;
    }
    for (const auto& pe : resp.events()) {
      auto ev = std::make_shared<Event>();
      ev->type = pe.type() == mvccpb::Event::DELETE ? EventType::kDelete : EventType::kPut;
      ev->revision = pe.kv().mod_revision();
      ev->kv = FromPb(pe.kv());
      if (ev->type == EventType::kDelete) {
        ev->kv.value.clear();
        ev->kv.create_revision = 0;
      }
      if (pe.has_prev_kv() && !pe.prev_kv().key().empty()) ev->prev = FromPb(pe.prev_kv());
      EventPtr shared_ev = std::move(ev);
      for (auto& [sid, sub] : e.subs) {
        if (shared_ev->revision > sub.skip_through) sub.queue->Push(shared_ev);
      }
    }
  }

  void ReadLoop() {
    etcdserverpb::WatchResponse resp;
    while (rw_->Read(&resp)) Dispatch(resp);
    grpc::Status st = rw_->Finish();
    std::lock_guard<std::mutex> lock(mu_);
    broken_ = true;
    absl::Status why = absl::UnavailableError(absl::StrCat(
        "etcd watch stream ended: ", st.ok() ? std::string("closed") : st.error_message()));
    for (auto& [id, e] : watches_) {
      if (e.created_promise) e.created_promise->set_value(why);
      for (auto& [sid, sub] : e.subs) sub.queue->Close(why);
    }
    watches_.clear();
    shared_.clear();
  }

  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>>
      rw_;
  std::mutex write_mu_;
  std::mutex mu_;
  std::map<int64_t, Entry> watches_;          // by etcd watch_id
  std::map<std::string, int64_t> shared_;     // share key -> etcd watch_id
  int64_t next_id_ = 1;
  int64_t next_sub_ = 1;
  bool broken_ = false;
  std::thread reader_;
};

namespace {

class EtcdWatcher : public Watcher {
 public:
  EtcdWatcher(std::shared_ptr<EtcdWatchStream> stream, EtcdWatchStream::Handle handle,
              std::shared_ptr<WatchQueue> queue)
      : stream_(std::move(stream)), handle_(handle), queue_(std::move(queue)) {}
  ~EtcdWatcher() override { Stop(); }

  absl::StatusOr<std::vector<EventPtr>> Next(absl::Time deadline) override {
    return queue_->Next(deadline);
  }
  void RequestProgress() override { stream_->RequestProgress(); }
  void Stop() override {
    queue_->Close(absl::CancelledError("watch stopped"));
    stream_->Unsubscribe(handle_);
  }

 private:
  std::shared_ptr<EtcdWatchStream> stream_;
  EtcdWatchStream::Handle handle_;
  std::shared_ptr<WatchQueue> queue_;
};

}  // namespace

// ---------------------------------------------------------------------------
// The store.

absl::StatusOr<std::unique_ptr<EtcdStore>> EtcdStore::Open(const EtcdStoreOptions& options) {
  if (options.endpoints.empty()) return absl::InvalidArgumentError("etcd store: no endpoints");
  bool all_ipv4 = true;
  for (const auto& ep : options.endpoints) {
    if (ep.empty() || ep.find(':') == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("etcd endpoint \"", ep, "\": want host:port"));
    }
    std::string host = ep.substr(0, ep.rfind(':'));
    if (host.find_first_not_of("0123456789.") != std::string::npos) all_ipv4 = false;
  }
  std::string target = all_ipv4 ? absl::StrCat("ipv4:", absl::StrJoin(options.endpoints, ","))
                                : absl::StrCat("dns:///", options.endpoints[0]);
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(512 << 20);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  std::unique_ptr<EtcdStore> store(new EtcdStore(options));
  store->channel_ = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  if (!store->channel_->WaitForConnected(
          absl::ToChronoTime(absl::Now() + options.connect_timeout))) {
    return absl::UnavailableError(absl::StrCat("etcd at ", target, ": not reachable within ",
                                               absl::FormatDuration(options.connect_timeout)));
  }
  store->kv_ = etcdserverpb::KV::NewStub(store->channel_);
  store->watch_ = etcdserverpb::Watch::NewStub(store->channel_);
  store->maintenance_ = etcdserverpb::Maintenance::NewStub(store->channel_);
  ASSIGN_OR_RETURN(auto status, store->Status());
  BERTH_LOG(Info) << "etcd store open" << Kv("target", target) << Kv("version", status.version())
                  << Kv("revision", status.header().revision());
  return store;
}

EtcdStore::~EtcdStore() {
  std::lock_guard<std::mutex> lock(stream_mu_);
  if (stream_) stream_->Shutdown();
  stream_.reset();
}

void EtcdStore::SetDeadline(grpc::ClientContext& ctx) const {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + options_.request_timeout));
  ctx.set_wait_for_ready(true);
}

absl::StatusOr<etcdserverpb::StatusResponse> EtcdStore::Status() {
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  etcdserverpb::StatusResponse resp;
  grpc::Status st = maintenance_->Status(&ctx, etcdserverpb::StatusRequest(), &resp);
  if (!st.ok()) return FromGrpc(st, "status");
  return resp;
}

absl::StatusOr<KeyValue> EtcdStore::Get(const std::string& key) {
  RETURN_IF_ERROR(ValidateKey(key, "key"));
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  etcdserverpb::RangeRequest req;
  req.set_key(key);
  etcdserverpb::RangeResponse resp;
  grpc::Status st = kv_->Range(&ctx, req, &resp);
  if (!st.ok()) return FromGrpc(st, absl::StrCat("get ", Quote(key)));
  if (resp.kvs_size() == 0) return absl::NotFoundError(absl::StrCat("key ", Quote(key), " not found"));
  return FromPb(resp.kvs(0));
}

absl::StatusOr<ListResult> EtcdStore::List(const std::string& prefix, const ListOptions& options) {
  ASSIGN_OR_RETURN(std::string start, ListStartKey(prefix, options));
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  etcdserverpb::RangeRequest req;
  req.set_key(start);
  req.set_range_end(PrefixEnd(prefix));
  req.set_limit(options.limit);
  req.set_revision(options.revision);
  etcdserverpb::RangeResponse resp;
  grpc::Status st = kv_->Range(&ctx, req, &resp);
  if (!st.ok()) return FromGrpc(st, absl::StrCat("list ", Quote(prefix)));
  ListResult out;
  out.revision = options.revision > 0 ? options.revision : resp.header().revision();
  out.items.reserve(resp.kvs_size());
  for (const auto& kv : resp.kvs()) out.items.push_back(FromPb(kv));
  out.more = resp.more();
  if (out.more && !out.items.empty()) out.continue_key = out.items.back().key + std::string(1, '\0');
  return out;
}

absl::StatusOr<int64_t> EtcdStore::Create(const std::string& key, const std::string& value) {
  RETURN_IF_ERROR(ValidateKey(key, "key"));
  RETURN_IF_ERROR(ValidateValue(key, value));
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  etcdserverpb::TxnRequest req;
  auto* cmp = req.add_compare();
  cmp->set_key(key);
  cmp->set_target(etcdserverpb::Compare::CREATE);
  cmp->set_result(etcdserverpb::Compare::EQUAL);
  cmp->set_create_revision(0);
  auto* put = req.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(value);
  req.add_failure()->mutable_request_range()->set_key(key);
  etcdserverpb::TxnResponse resp;
  grpc::Status st = kv_->Txn(&ctx, req, &resp);
  if (!st.ok()) return FromGrpc(st, absl::StrCat("create ", Quote(key)));
  if (!resp.succeeded()) {
    int64_t mod = 0;
    if (resp.responses_size() > 0 && resp.responses(0).response_range().kvs_size() > 0) {
      mod = resp.responses(0).response_range().kvs(0).mod_revision();
    }
    return absl::AlreadyExistsError(
        absl::StrCat("key ", Quote(key), " already exists (mod_revision ", mod, ")"));
  }
  return resp.header().revision();
}

namespace {
// Why a compare on `key`'s mod_revision failed, from the failure branch's range.
absl::Status ConflictOrGone(const std::string& key, int64_t expected,
                            const etcdserverpb::TxnResponse& resp) {
  if (resp.responses_size() == 0 || resp.responses(0).response_range().kvs_size() == 0) {
    return absl::NotFoundError(absl::StrCat("key ", Quote(key), " not found"));
  }
  return absl::AbortedError(absl::StrCat(
      "conflict: key ", Quote(key), " is at mod_revision ",
      resp.responses(0).response_range().kvs(0).mod_revision(), ", not the expected ", expected));
}
}  // namespace

absl::StatusOr<int64_t> EtcdStore::Update(const std::string& key, const std::string& value,
                                          int64_t expected_mod_revision) {
  RETURN_IF_ERROR(ValidateKey(key, "key"));
  RETURN_IF_ERROR(ValidateValue(key, value));
  if (expected_mod_revision <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "expected mod_revision ", expected_mod_revision, " for key ", Quote(key), ": must be > 0"));
  }
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  etcdserverpb::TxnRequest req;
  auto* cmp = req.add_compare();
  cmp->set_key(key);
  cmp->set_target(etcdserverpb::Compare::MOD);
  cmp->set_result(etcdserverpb::Compare::EQUAL);
  cmp->set_mod_revision(expected_mod_revision);
  auto* put = req.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(value);
  req.add_failure()->mutable_request_range()->set_key(key);
  etcdserverpb::TxnResponse resp;
  grpc::Status st = kv_->Txn(&ctx, req, &resp);
  if (!st.ok()) return FromGrpc(st, absl::StrCat("update ", Quote(key)));
  if (!resp.succeeded()) return ConflictOrGone(key, expected_mod_revision, resp);
  return resp.header().revision();
}

absl::StatusOr<DeleteResult> EtcdStore::Delete(const std::string& key,
                                               std::optional<int64_t> expected_mod_revision) {
  RETURN_IF_ERROR(ValidateKey(key, "key"));
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  etcdserverpb::TxnRequest req;
  auto* cmp = req.add_compare();
  cmp->set_key(key);
  if (expected_mod_revision) {
    cmp->set_target(etcdserverpb::Compare::MOD);
    cmp->set_result(etcdserverpb::Compare::EQUAL);
    cmp->set_mod_revision(*expected_mod_revision);
  } else {
    // Exists at all.
    cmp->set_target(etcdserverpb::Compare::CREATE);
    cmp->set_result(etcdserverpb::Compare::GREATER);
    cmp->set_create_revision(0);
  }
  auto* del = req.add_success()->mutable_request_delete_range();
  del->set_key(key);
  del->set_prev_kv(true);
  req.add_failure()->mutable_request_range()->set_key(key);
  etcdserverpb::TxnResponse resp;
  grpc::Status st = kv_->Txn(&ctx, req, &resp);
  if (!st.ok()) return FromGrpc(st, absl::StrCat("delete ", Quote(key)));
  if (!resp.succeeded()) {
    if (!expected_mod_revision) {
      return absl::NotFoundError(absl::StrCat("key ", Quote(key), " not found"));
    }
    return ConflictOrGone(key, *expected_mod_revision, resp);
  }
  const auto& dr = resp.responses(0).response_delete_range();
  if (dr.prev_kvs_size() == 0) return absl::NotFoundError(absl::StrCat("key ", Quote(key), " not found"));
  return DeleteResult{FromPb(dr.prev_kvs(0)), resp.header().revision()};
}

absl::StatusOr<std::shared_ptr<EtcdWatchStream>> EtcdStore::WatchStream() {
  std::lock_guard<std::mutex> lock(stream_mu_);
  if (!stream_ || stream_->broken()) {
    ASSIGN_OR_RETURN(stream_, EtcdWatchStream::Start(watch_.get()));
  }
  return stream_;
}

absl::StatusOr<std::unique_ptr<Watcher>> EtcdStore::Watch(const std::string& prefix,
                                                          const WatchOptions& options) {
  RETURN_IF_ERROR(ValidateKey(prefix, "prefix"));
  if (options.from_revision < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("watch from revision ", options.from_revision, ": must be >= 0"));
  }
  if (options.from_revision > 0) {
    // etcd reports a compacted start asynchronously on the stream; a read at
    // the start revision says so up front.
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    etcdserverpb::RangeRequest req;
    req.set_key(prefix);
    req.set_range_end(PrefixEnd(prefix));
    req.set_revision(options.from_revision);
    req.set_limit(1);
    req.set_keys_only(true);
    etcdserverpb::RangeResponse resp;
    grpc::Status st = kv_->Range(&ctx, req, &resp);
    if (!st.ok()) {
      absl::Status s = FromGrpc(st, absl::StrCat("watch from revision ", options.from_revision));
      if (absl::IsOutOfRange(s)) {
        return absl::OutOfRangeError(absl::StrCat("watch from revision ", options.from_revision,
                                                  ": compacted"));
      }
      if (!absl::IsInvalidArgument(s)) return s;  // a future start is allowed
    }
  }
  // "After now" watches of one prefix share one etcd watch; each starts
  // after the revision current when it was made.
  const bool shared = options.from_revision == 0;
  int64_t from = options.from_revision, skip_through = 0;
  if (shared) {
    ASSIGN_OR_RETURN(skip_through, CurrentRevision());
    from = skip_through + 1;
  }
  auto queue = std::make_shared<WatchQueue>(options_.watch_queue_limit);
  ASSIGN_OR_RETURN(auto stream, WatchStream());
  ASSIGN_OR_RETURN(EtcdWatchStream::Handle handle,
                   stream->Subscribe(prefix, from,
                                     options.progress_interval > absl::ZeroDuration(), shared,
                                     skip_through, queue, options_.request_timeout));
  return std::unique_ptr<Watcher>(new EtcdWatcher(std::move(stream), handle, std::move(queue)));
}

absl::Status EtcdStore::Compact(int64_t revision) {
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  etcdserverpb::CompactionRequest req;
  req.set_revision(revision);
  req.set_physical(true);
  etcdserverpb::CompactionResponse resp;
  grpc::Status st = kv_->Compact(&ctx, req, &resp);
  if (!st.ok()) return FromGrpc(st, absl::StrCat("compact to revision ", revision));
  return absl::OkStatus();
}

absl::StatusOr<int64_t> EtcdStore::CurrentRevision() {
  grpc::ClientContext ctx;
  SetDeadline(ctx);
  etcdserverpb::RangeRequest req;
  req.set_key(std::string(1, '\0'));
  req.set_count_only(true);
  etcdserverpb::RangeResponse resp;
  grpc::Status st = kv_->Range(&ctx, req, &resp);
  if (!st.ok()) return FromGrpc(st, "current revision");
  return resp.header().revision();
}

absl::StatusOr<int64_t> EtcdStore::CompactedRevision() {
  ASSIGN_OR_RETURN(int64_t current, CurrentRevision());
  auto readable = [&](int64_t rev) -> absl::StatusOr<bool> {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    etcdserverpb::RangeRequest req;
    req.set_key(std::string(1, '\0'));
    req.set_count_only(true);
    req.set_revision(rev);
    etcdserverpb::RangeResponse resp;
    grpc::Status st = kv_->Range(&ctx, req, &resp);
    if (st.ok()) return true;
    absl::Status s = FromGrpc(st, "probe compacted revision");
    if (absl::IsOutOfRange(s)) return false;
    return s;
  };
  if (current <= 1) return 0;
  ASSIGN_OR_RETURN(bool first, readable(1));
  if (first) return 0;
  // The oldest readable revision is in (1, current].
  int64_t lo = 1, hi = current;
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    ASSIGN_OR_RETURN(bool ok, readable(mid));
    if (ok) {
      hi = mid;
    } else {
      lo = mid;
    }
  }
  return hi;
}

absl::Status EtcdStore::Snapshot(const std::string& path) {
  const std::string tmp = path + ".tmp";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) return ErrnoError(absl::StrCat("create ", tmp));
  grpc::ClientContext ctx;
  ctx.set_wait_for_ready(true);
  auto reader = maintenance_->Snapshot(&ctx, etcdserverpb::SnapshotRequest());
  etcdserverpb::SnapshotResponse chunk;
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> sha(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(sha.get(), EVP_sha256(), nullptr);
  std::string tail;  // the last 32 bytes seen: the checksum, at the end
  uint64_t total = 0;
  while (reader->Read(&chunk)) {
    const std::string& blob = chunk.blob();
    out.write(blob.data(), static_cast<std::streamsize>(blob.size()));
    total += blob.size();
    std::string joined = tail + blob;
    if (joined.size() > 32) {
      EVP_DigestUpdate(sha.get(), joined.data(), joined.size() - 32);
      tail = joined.substr(joined.size() - 32);
    } else {
      tail = joined;
    }
  }
  grpc::Status st = reader->Finish();
  out.close();
  if (!st.ok()) {
    std::remove(tmp.c_str());
    return FromGrpc(st, "snapshot");
  }
  if (!out) {
    std::remove(tmp.c_str());
    return absl::InternalError(absl::StrCat("write ", tmp, " failed"));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  EVP_DigestFinal_ex(sha.get(), digest, &digest_len);
  if (tail.size() != 32 || tail != std::string(reinterpret_cast<char*>(digest), digest_len)) {
    std::remove(tmp.c_str());
    return absl::DataLossError(
        absl::StrCat("etcd snapshot of ", total, " bytes: SHA-256 trailer does not match"));
  }
  return SyncAndRename(tmp, path);
}

absl::Status RestoreEtcdSnapshot(const std::string& snapshot_path,
                                 const EtcdRestoreOptions& options) {
  if (access(options.etcdctl.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("restore etcd snapshot: ", options.etcdctl,
                     " not found; install Debian's etcd-client for `etcdctl snapshot restore`"));
  }
  if (PathExists(options.data_dir)) {
    return absl::AlreadyExistsError(
        absl::StrCat("restore etcd snapshot: data dir ", options.data_dir, " already exists"));
  }
  std::vector<std::string> argv = {options.etcdctl,
                                   "snapshot",
                                   "restore",
                                   snapshot_path,
                                   "--data-dir=" + options.data_dir,
                                   "--name=" + options.name,
                                   "--initial-cluster=" + options.initial_cluster,
                                   "--initial-advertise-peer-urls=" +
                                       options.initial_advertise_peer_urls};
  pid_t pid = fork();
  if (pid < 0) return ErrnoError("fork etcdctl");
  if (pid == 0) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) dup2(devnull, STDOUT_FILENO);
    setenv("ETCDCTL_API", "3", 1);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return ErrnoError("wait for etcdctl");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("`", absl::StrJoin(argv, " "), "` failed (status ",
                                            status, ")"));
  }
  return absl::OkStatus();
}

}  // namespace berth::store
