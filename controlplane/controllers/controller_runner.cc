#include "controlplane/controllers/controller_runner.h"

#include "common/logging.h"

namespace berth::controllers {

void ControllerRunner::Run(Controller* controller, int workers) {
  controllers_.push_back(controller);
  for (int i = 0; i < workers; ++i) threads_.emplace_back([controller] { Work(controller); });
}

void ControllerRunner::Work(Controller* controller) {
  WorkQueue& queue = controller->queue();
  while (std::optional<std::string> key = queue.Get()) {
    absl::Status synced = controller->Sync(*key);
    if (synced.ok()) {
      queue.Forget(*key);
    } else if (absl::IsAborted(synced)) {
      // A write raced another (resourceVersion conflict): normal while the
      // informer catches up.
      BERTH_LOG(Debug) << "sync conflicted, retrying" << Kv("controller", controller->Name()) << Kv("key", *key)
                       << Kv("error", synced.message());
      queue.AddRateLimited(*key);
    } else {
      BERTH_LOG(Warning) << "sync failed, retrying" << Kv("controller", controller->Name()) << Kv("key", *key)
                         << Kv("retries", queue.Failures(*key)) << Kv("error", synced.ToString());
      queue.AddRateLimited(*key);
    }
    queue.Done(*key);
  }
}

void ControllerRunner::Stop() {
  for (Controller* c : controllers_) c->queue().ShutDown();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  controllers_.clear();
}

}  // namespace berth::controllers
