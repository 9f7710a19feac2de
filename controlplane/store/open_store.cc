// OpenStore: the --store URL of berth-controlplane to a backend.
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "controlplane/store/etcd_store.h"
#include "controlplane/store/sqlite_store.h"
#include "controlplane/store/store.h"

namespace berth::store {

absl::StatusOr<std::unique_ptr<Store>> OpenStore(const std::string& url) {
  constexpr absl::string_view kSqlite = "sqlite://";
  constexpr absl::string_view kEtcd = "etcd://";
  if (absl::StartsWith(url, kSqlite)) {
    SqliteStoreOptions opts;
    opts.path = url.substr(kSqlite.size());
    if (opts.path.empty() || opts.path[0] != '/') {
      return absl::InvalidArgumentError(absl::StrCat(
          "--store ", url, ": want sqlite:///ABSOLUTE/PATH (three slashes), e.g. sqlite:///var/lib/berth/cp.db"));
    }
    auto s = SqliteStore::Open(opts);
    if (!s.ok()) return s.status();
    return std::unique_ptr<Store>(std::move(*s));
  }
  if (absl::StartsWith(url, kEtcd)) {
    EtcdStoreOptions opts;
    for (absl::string_view ep : absl::StrSplit(url.substr(kEtcd.size()), ',', absl::SkipEmpty())) {
      if (absl::StrContains(ep, '/')) {
        return absl::InvalidArgumentError(
            absl::StrCat("--store ", url, ": endpoint \"", ep, "\" must be host:port"));
      }
      opts.endpoints.emplace_back(ep);
    }
    if (opts.endpoints.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--store ", url, ": no endpoints, e.g. etcd://127.0.0.1:2379"));
    }
    auto s = EtcdStore::Open(opts);
    if (!s.ok()) return s.status();
    return std::unique_ptr<Store>(std::move(*s));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--store ", url, ": unknown scheme; want sqlite:///PATH or etcd://HOST:PORT[,HOST:PORT...]"));
}

}  // namespace berth::store
