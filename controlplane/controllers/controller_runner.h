// ControllerRunner: the worker threads of a set of controllers. Each worker
// blocks in its controller's WorkQueue::Get, calls Sync for the key, then
// forgets the key's failures (OK) or re-adds it with back-off (error).
// Stop shuts the queues down and joins the workers.
#pragma once

#include <thread>
#include <vector>

#include "controlplane/controllers/controller.h"

namespace berth::controllers {

class ControllerRunner {
 public:
  ControllerRunner() = default;
  ControllerRunner(const ControllerRunner&) = delete;
  ControllerRunner& operator=(const ControllerRunner&) = delete;
  ~ControllerRunner() { Stop(); }

  // Starts `workers` threads for `controller` (which must outlive Stop).
  void Run(Controller* controller, int workers);
  void Stop();

 private:
  static void Work(Controller* controller);
  std::vector<Controller*> controllers_;
  std::vector<std::thread> threads_;
};

}  // namespace berth::controllers
