// berth-controlplane: the Kubernetes API server over berth's store, the
// scheduler (unless --scheduler=false), and `snapshot save|restore` for backups.
#include <signal.h>

#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/logging.h"
#include "common/stop_signals.h"
#include "controlplane/apiserver/api_server.h"
#include "controlplane/client/local_api_client.h"
#include "controlplane/cmd/controlplane_flags.h"
#include "controlplane/controllers/controller_manager.h"
#include "controlplane/scheduler/scheduler_loop.h"
#include "controlplane/store/etcd_store.h"
#include "controlplane/store/sqlite_store.h"
#include "controlplane/store/store.h"

namespace berth::controlplane {
namespace {

int Fail(const absl::Status& status) { return FailWith("berth-controlplane", status); }

int Serve(const ControlPlaneFlags& flags) {
  sigset_t stop = BlockStopSignals();
  auto store = store::OpenStore(flags.store_url);
  if (!store.ok()) return Fail(store.status());
  auto server = apiserver::ApiServer::Start(flags.server, store->get());
  if (!server.ok()) return Fail(server.status());
  BERTH_LOG(Info) << "serving the Kubernetes API"
                  << Kv("address", absl::StrCat(flags.server.https.bind_address, ":", (*server)->port()))
                  << Kv("store", flags.store_url);
  // The scheduler, in process, over the server's own request path.
  auto local = std::make_unique<client::LocalApiClient>(server->get());
  std::unique_ptr<scheduler::SchedulerLoop> scheduler;
  if (flags.scheduler) {
    scheduler::SchedulerLoopOptions options;
    options.leader_elect = flags.leader_elect;
    auto loop = scheduler::SchedulerLoop::Create(local.get(), options);
    if (!loop.ok()) return Fail(loop.status());
    scheduler = std::move(*loop);
    scheduler->Start();
    BERTH_LOG(Info) << "scheduler started" << Kv("leader_elect", flags.leader_elect);
  }
  // The controllers, leader-elected on kube-system/kube-controller-manager.
  std::unique_ptr<controllers::ControllerManager> controller_manager;
  if (flags.controllers != "false") {
    controllers::ControllerManagerOptions options;
    if (flags.controllers != "true") {
      options.controllers = absl::StrSplit(flags.controllers, ',', absl::SkipEmpty());
    }
    auto manager = controllers::ControllerManager::Start(local.get(), options);
    if (!manager.ok()) return Fail(manager.status());
    controller_manager = std::move(*manager);
  }
  int sig = WaitForStopSignal(stop);
  BERTH_LOG(Info) << "stopping" << Kv("signal", sig);
  controller_manager.reset();
  scheduler.reset();
  local.reset();  // joins the watch threads, which run in the server
  server->reset();
  return 0;
}

int SnapshotSave(const ControlPlaneFlags& flags) {
  auto store = store::OpenStore(flags.store_url);
  if (!store.ok()) return Fail(store.status());
  absl::Status saved = (*store)->Snapshot(flags.snapshot_file);
  if (!saved.ok()) return Fail(saved);
  auto revision = (*store)->CurrentRevision();
  std::printf("Snapshot saved at %s (revision %lld)\n", flags.snapshot_file.c_str(),
              static_cast<long long>(revision.ok() ? *revision : 0));
  return 0;
}

int SnapshotRestore(const ControlPlaneFlags& flags) {
  constexpr absl::string_view kSqlite = "sqlite://";
  if (absl::StartsWith(flags.store_url, kSqlite)) {
    std::string path = flags.store_url.substr(kSqlite.size());
    absl::Status restored = store::RestoreSqliteSnapshot(flags.snapshot_file, path);
    if (!restored.ok()) return Fail(restored);
    std::printf("Restored %s into %s\n", flags.snapshot_file.c_str(), path.c_str());
    return 0;
  }
  if (absl::StartsWith(flags.store_url, "etcd://")) {
    if (flags.etcd_data_dir.empty()) {
      return Fail(absl::InvalidArgumentError(
          "snapshot restore into etcd needs --etcd-data-dir (a new data directory; start etcd on it afterwards)"));
    }
    store::EtcdRestoreOptions options;
    options.data_dir = flags.etcd_data_dir;
    options.initial_cluster = "default=http://127.0.0.1:2380";
    options.initial_advertise_peer_urls = "http://127.0.0.1:2380";
    absl::Status restored = store::RestoreEtcdSnapshot(flags.snapshot_file, options);
    if (!restored.ok()) return Fail(restored);
    std::printf("Restored %s into etcd data dir %s\n", flags.snapshot_file.c_str(), flags.etcd_data_dir.c_str());
    return 0;
  }
  return Fail(absl::InvalidArgumentError(absl::StrCat("--store ", flags.store_url, ": want sqlite:// or etcd://")));
}

}  // namespace
}  // namespace berth::controlplane

int main(int argc, char** argv) {
  using berth::controlplane::ControlPlaneFlags;
  auto flags = berth::controlplane::ParseControlPlaneFlags(std::vector<std::string>(argv + 1, argv + argc));
  if (!flags.ok()) {
    std::fprintf(stderr, "berth-controlplane: %s\n%s", std::string(flags.status().message()).c_str(),
                 berth::controlplane::ControlPlaneUsage().c_str());
    return 2;
  }
  if (flags->log_level == "debug") berth::SetLogLevel(berth::LogLevel::kDebug);
  if (flags->log_level == "warning") berth::SetLogLevel(berth::LogLevel::kWarning);
  if (flags->log_level == "error") berth::SetLogLevel(berth::LogLevel::kError);
  switch (flags->command) {
    case ControlPlaneFlags::Command::kHelp:
      std::printf("%s", berth::controlplane::ControlPlaneUsage().c_str());
      return 0;
    case ControlPlaneFlags::Command::kSnapshotSave:
      return berth::controlplane::SnapshotSave(*flags);
    case ControlPlaneFlags::Command::kSnapshotRestore:
      return berth::controlplane::SnapshotRestore(*flags);
    case ControlPlaneFlags::Command::kServe:
      return berth::controlplane::Serve(*flags);
  }
  return 0;
}
