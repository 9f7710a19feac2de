// berth-store-bench: measures the store backends the way the API server
// will load them. For each backend (SQLite in a temp dir, etcd started on
// loopback unless --etcd-endpoint names one):
//   load     N objects of pod size (~2 KiB) created by W concurrent writers:
//            creates/s and latency; then RSS (this process for SQLite, which
//            is embedded; etcd's server process for etcd) and database size
//   rate     creates at a fixed rate (open loop: latency counts from the
//            scheduled time, so a stall shows up): p50/p99/max
//   fanout   M watchers on one prefix, events written at a fixed rate, each
//            carrying its send time: delivery latency p50/p99/max over all
//            watcher x event pairs, and events missed
// Prints one human line per phase and a JSON object per backend.
#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/time.h"
#include "controlplane/store/etcd_store.h"
#include "controlplane/store/sqlite_store.h"
#include "controlplane/store/testing/etcd_process.h"

namespace berth::store {
namespace {

struct Flags {
  std::vector<std::string> backends = {"sqlite", "etcd"};
  int objects = 10000;
  int value_size = 2048;
  int writers = 8;
  int rate = 200;
  double rate_seconds = 10;
  int watchers = 500;
  int fanout_events = 200;
  int fanout_rate = 100;
  SqliteSync sqlite_sync = SqliteSync::kPipelined;
  std::string sqlite_sync_name = "pipelined";
  int sqlite_page_size = 8192;
  int sqlite_checkpoint_pages = 1024;
  std::string etcd_endpoint;
};

void Usage() {
  std::cerr << "usage: berth-store-bench [--backend sqlite|etcd|both] [--objects 10000] "
               "[--value-size 2048] [--writers 8] [--rate 200] [--rate-seconds 10] "
               "[--watchers 500] [--fanout-events 200] [--fanout-rate 100] "
               "[--sqlite-sync pipelined|full|normal] [--sqlite-page-size 8192] [--sqlite-checkpoint-pages 1024] [--etcd-endpoint HOST:PORT]\n";
}

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    auto as_int = [&](int* out) { return next(&v) && absl::SimpleAtoi(v, out) && *out > 0; };
    if (a == "--backend") {
      if (!next(&v)) return false;
      if (v == "both") {
        f->backends = {"sqlite", "etcd"};
      } else if (v == "sqlite" || v == "etcd") {
        f->backends = {v};
      } else {
        std::cerr << "--backend " << v << ": want sqlite, etcd or both\n";
        return false;
      }
    } else if (a == "--objects") {
      if (!as_int(&f->objects)) return false;
    } else if (a == "--value-size") {
      if (!as_int(&f->value_size)) return false;
    } else if (a == "--writers") {
      if (!as_int(&f->writers)) return false;
    } else if (a == "--rate") {
      if (!as_int(&f->rate)) return false;
    } else if (a == "--rate-seconds") {
      if (!next(&v) || !absl::SimpleAtod(v, &f->rate_seconds) || f->rate_seconds <= 0) return false;
    } else if (a == "--watchers") {
      if (!as_int(&f->watchers)) return false;
    } else if (a == "--fanout-events") {
      if (!as_int(&f->fanout_events)) return false;
    } else if (a == "--fanout-rate") {
      if (!as_int(&f->fanout_rate)) return false;
    } else if (a == "--sqlite-sync") {
      if (!next(&v)) return false;
      if (v == "full") {
        f->sqlite_sync = SqliteSync::kFull;
      } else if (v == "pipelined") {
        f->sqlite_sync = SqliteSync::kPipelined;
      } else if (v == "normal") {
        f->sqlite_sync = SqliteSync::kNormal;
      } else {
        std::cerr << "--sqlite-sync " << v << ": want full, pipelined or normal\n";
        return false;
      }
      f->sqlite_sync_name = v;
    } else if (a == "--sqlite-checkpoint-pages") {
      if (!as_int(&f->sqlite_checkpoint_pages)) return false;
    } else if (a == "--sqlite-page-size") {
      if (!as_int(&f->sqlite_page_size)) return false;
    } else if (a == "--etcd-endpoint") {
      if (!next(&f->etcd_endpoint)) return false;
    } else {
      std::cerr << "unknown flag " << a << "\n";
      return false;
    }
  }
  return true;
}

struct Percentiles {
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  size_t n = 0;
};

Percentiles Summarize(std::vector<int64_t> nanos) {
  Percentiles p;
  p.n = nanos.size();
  if (nanos.empty()) return p;
  std::sort(nanos.begin(), nanos.end());
  auto at = [&](double q) {
    size_t idx = std::min(nanos.size() - 1, static_cast<size_t>(q * (nanos.size() - 1) + 0.5));
    return nanos[idx] / 1e6;
  };
  p.p50_ms = at(0.50);
  p.p99_ms = at(0.99);
  p.max_ms = nanos.back() / 1e6;
  return p;
}

nlohmann::json ToJson(const Percentiles& p) {
  return {{"p50_ms", p.p50_ms}, {"p99_ms", p.p99_ms}, {"max_ms", p.max_ms}, {"n", p.n}};
}

// VmRSS of a process in KiB.
int64_t RssKiB(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      int64_t kib = 0;
      std::vector<std::string> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (parts.size() >= 2 && absl::SimpleAtoi(parts[1], &kib)) return kib;
    }
  }
  return -1;
}

std::string PodValue(int size, int i) {
  // JSON-ish so that it compresses like a real object would (it does not matter here).
  std::string v = absl::StrFormat(
      "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"pod-%d\","
      "\"namespace\":\"bench\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]},"
      "\"padding\":\"",
      i);
  while (static_cast<int>(v.size()) < size - 3) v.push_back('a' + (v.size() % 26));
  v += "\"}";
  return v;
}

struct BackendUnderTest {
  std::string name;
  std::unique_ptr<Store> store;
  std::string rss_pid;        // whose RSS to report
  std::string db_file;        // SQLite only
  std::unique_ptr<testing::EtcdProcess> etcd;
  std::string root;
};

absl::StatusOr<BackendUnderTest> Start(const std::string& name, const Flags& f) {
  BackendUnderTest b;
  b.name = name;
  std::string tmpl = "/tmp/berth-store-bench-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return absl::InternalError("mkdtemp failed");
  b.root = tmpl;
  if (name == "sqlite") {
    SqliteStoreOptions o;
    o.path = b.root + "/cp.db";
    o.sync = f.sqlite_sync;
    o.page_size = f.sqlite_page_size;
    o.wal_checkpoint_pages = f.sqlite_checkpoint_pages;
    o.watch_queue_limit = 1000000;
    auto s = SqliteStore::Open(o);
    if (!s.ok()) return s.status();
    b.store = std::move(*s);
    b.rss_pid = "self";
    b.db_file = o.path;
  } else {
    EtcdStoreOptions o;
    o.watch_queue_limit = 1000000;
    if (!f.etcd_endpoint.empty()) {
      o.endpoints = {f.etcd_endpoint};
    } else {
      auto e = testing::EtcdProcess::Start(b.root + "/etcd");
      if (!e.ok()) return e.status();
      b.etcd = std::move(*e);
      o.endpoints = {b.etcd->client_endpoint()};
      b.rss_pid = absl::StrCat(b.etcd->pid());
    }
    auto s = EtcdStore::Open(o);
    if (!s.ok()) return s.status();
    b.store = std::move(*s);
  }
  return b;
}

// Phase 1: objects created by concurrent writers.
nlohmann::json Load(BackendUnderTest& b, const Flags& f) {
  std::vector<std::vector<int64_t>> lat(f.writers);
  std::atomic<int> next{0}, errors{0};
  std::vector<std::string> values;
  for (int i = 0; i < 64; ++i) values.push_back(PodValue(f.value_size, i));
  int64_t t0 = MonotonicNanos();
  std::vector<std::thread> threads;
  for (int w = 0; w < f.writers; ++w) {
    threads.emplace_back([&, w] {
      while (true) {
        int i = next.fetch_add(1);
        if (i >= f.objects) return;
        int64_t s = MonotonicNanos();
        auto r = b.store->Create(absl::StrFormat("/registry/pods/bench/pod-%06d", i), values[i % 64]);
        lat[w].push_back(MonotonicNanos() - s);
        if (!r.ok()) {
          if (errors.fetch_add(1) < 5) std::cerr << "create: " << r.status() << "\n";
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  double secs = (MonotonicNanos() - t0) / 1e9;
  std::vector<int64_t> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  Percentiles p = Summarize(all);
  double rate = f.objects / secs;
  malloc_trim(0);
  int64_t rss_loaded = b.rss_pid.empty() ? -1 : RssKiB(b.rss_pid);
  // A full list, as an API server's first LIST would do.
  int64_t l0 = MonotonicNanos();
  auto list = b.store->List("/registry/pods/bench/", {});
  double list_ms = (MonotonicNanos() - l0) / 1e6;
  size_t listed = list.ok() ? list->items.size() : 0;
  list = absl::UnknownError("dropped");
  malloc_trim(0);
  int64_t rss_after_list = b.rss_pid.empty() ? -1 : RssKiB(b.rss_pid);
  int64_t db_bytes = -1;
  if (!b.db_file.empty()) {
    auto* sq = static_cast<SqliteStore*>(b.store.get());
    auto st = sq->GetStats();
    if (st.ok()) db_bytes = st->page_count * st->page_size;
  } else {
    auto st = static_cast<EtcdStore*>(b.store.get())->Status();
    if (st.ok()) db_bytes = st->dbsize();
  }
  std::printf("%-6s load    %d objects x %d B, %d writers: %.0f creates/s, p50 %.2f ms p99 %.2f ms "
              "max %.2f ms, %d errors; RSS %s %.1f MiB (after a full list of %zu in %.0f ms: %.1f "
              "MiB); db %.1f MiB\n",
              b.name.c_str(), f.objects, f.value_size, f.writers, rate, p.p50_ms, p.p99_ms,
              p.max_ms, errors.load(), b.rss_pid == "self" ? "(embedded, whole bench process)"
                                                           : "(etcd server)",
              rss_loaded / 1024.0, listed, list_ms, rss_after_list / 1024.0, db_bytes / 1048576.0);
  std::fflush(stdout);
  return {{"creates_per_s", rate},  {"latency", ToJson(p)},
          {"errors", errors.load()}, {"rss_mib", rss_loaded / 1024.0},
          {"rss_after_list_mib", rss_after_list / 1024.0},
          {"list_all_ms", list_ms},  {"listed", listed},
          {"db_mib", db_bytes / 1048576.0}};
}

// Phase 2: creates at a fixed rate, open loop.
nlohmann::json Rate(BackendUnderTest& b, const Flags& f) {
  const int total = static_cast<int>(f.rate * f.rate_seconds);
  const int64_t interval = 1000000000LL / f.rate;
  const std::string value = PodValue(f.value_size, 7);
  constexpr int kWorkers = 8;
  std::vector<std::vector<int64_t>> lat(kWorkers);
  std::atomic<int> errors{0};
  const int64_t start = MonotonicNanos() + 50000000;  // 50 ms from now
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      for (int i = w; i < total; i += kWorkers) {
        int64_t due = start + i * interval;
        int64_t now = MonotonicNanos();
        if (due > now) absl::SleepFor(absl::Nanoseconds(due - now));  // pacing, not waiting on state
        auto r = b.store->Create(absl::StrFormat("/registry/pods/rate/pod-%06d", i), value);
        lat[w].push_back(MonotonicNanos() - due);
        if (!r.ok()) ++errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<int64_t> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  Percentiles p = Summarize(all);
  std::printf("%-6s rate    %d creates/s for %.0f s: p50 %.2f ms p99 %.2f ms max %.2f ms, %d errors\n",
              b.name.c_str(), f.rate, f.rate_seconds, p.p50_ms, p.p99_ms, p.max_ms, errors.load());
  std::fflush(stdout);
  return {{"rate", f.rate}, {"latency", ToJson(p)}, {"errors", errors.load()}};
}

// Phase 3: watch fan-out.
nlohmann::json Fanout(BackendUnderTest& b, const Flags& f) {
  std::vector<std::unique_ptr<Watcher>> watchers;
  int64_t c0 = MonotonicNanos();
  for (int i = 0; i < f.watchers; ++i) {
    auto w = b.store->Watch("/registry/pods/fan/", {});
    if (!w.ok()) {
      std::cerr << "watch " << i << ": " << w.status() << "\n";
      return {{"error", w.status().ToString()}};
    }
    watchers.push_back(std::move(*w));
  }
  double create_ms = (MonotonicNanos() - c0) / 1e6;
  std::vector<std::vector<int64_t>> lat(f.watchers);
  std::vector<int> received(f.watchers, 0);
  std::vector<std::thread> readers;
  const absl::Time deadline =
      absl::Now() + absl::Seconds(30) + absl::Seconds(f.fanout_events / f.fanout_rate);
  for (int i = 0; i < f.watchers; ++i) {
    readers.emplace_back([&, i] {
      while (received[i] < f.fanout_events && absl::Now() < deadline) {
        auto evs = watchers[i]->Next(deadline);
        if (!evs.ok()) return;
        int64_t now = MonotonicNanos();
        for (auto& ev : *evs) {
          if (ev->type != EventType::kPut) continue;
          int64_t sent = 0;
          if (absl::SimpleAtoi(ev->kv.value.substr(0, ev->kv.value.find(' ')), &sent)) {
            lat[i].push_back(now - sent);
          }
          ++received[i];
        }
      }
    });
  }
  const int64_t interval = 1000000000LL / f.fanout_rate;
  const std::string pad = PodValue(f.value_size, 3);
  const int64_t start = MonotonicNanos();
  int errors = 0;
  for (int i = 0; i < f.fanout_events; ++i) {
    int64_t due = start + i * interval;
    int64_t now = MonotonicNanos();
    if (due > now) absl::SleepFor(absl::Nanoseconds(due - now));
    std::string value = absl::StrCat(MonotonicNanos(), " ", pad);
    if (!b.store->Create(absl::StrFormat("/registry/pods/fan/pod-%06d", i), value).ok()) ++errors;
  }
  for (auto& t : readers) t.join();
  for (auto& w : watchers) w->Stop();
  std::vector<int64_t> all;
  int64_t missed = 0;
  for (int i = 0; i < f.watchers; ++i) {
    all.insert(all.end(), lat[i].begin(), lat[i].end());
    missed += f.fanout_events - received[i];
  }
  Percentiles p = Summarize(all);
  std::printf("%-6s fanout  %d watchers x %d events at %d/s: delivery p50 %.2f ms p99 %.2f ms max "
              "%.2f ms, %lld missed, %d write errors (watch setup %.0f ms)\n",
              b.name.c_str(), f.watchers, f.fanout_events, f.fanout_rate, p.p50_ms, p.p99_ms,
              p.max_ms, static_cast<long long>(missed), errors, create_ms);
  std::fflush(stdout);
  return {{"watchers", f.watchers}, {"events", f.fanout_events}, {"delivery", ToJson(p)},
          {"missed", missed},       {"write_errors", errors},    {"watch_setup_ms", create_ms}};
}

int Main(int argc, char** argv) {
  Flags f;
  if (!ParseFlags(argc, argv, &f)) {
    Usage();
    return 2;
  }
  SetLogLevel(LogLevel::kWarning);
  int rc = 0;
  for (const std::string& name : f.backends) {
    auto b = Start(name, f);
    if (!b.ok()) {
      std::cerr << name << ": " << b.status() << "\n";
      rc = 1;
      continue;
    }
    nlohmann::json out = {{"backend", name}};
    if (name == "sqlite") {
      out["sync"] = f.sqlite_sync_name;
      out["page_size"] = f.sqlite_page_size;
    }
    out["load"] = Load(*b, f);
    out["rate"] = Rate(*b, f);
    out["fanout"] = Fanout(*b, f);
    std::printf("%s\n", out.dump().c_str());
    std::fflush(stdout);
    b->store.reset();
    b->etcd.reset();
    RemoveAll(b->root).IgnoreError();
  }
  return rc;
}

}  // namespace
}  // namespace berth::store

int main(int argc, char** argv) { return berth::store::Main(argc, argv); }
