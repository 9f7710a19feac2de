// OCI hooks from CDI container edits, run by the runtime around a
// container's lifecycle (runtime-spec config.md, "POSIX-platform Hooks").
//
// CreateContainer saves the container's hooks in <bundle>/hooks.json; each
// stage reads them from there (so a restarted runtime still runs them):
//   prestart, createRuntime   CreateContainer, once the init exists    runtime namespaces
//   createContainer           CreateContainer, right after those        the container's namespaces, path
//                                                                       resolved on the host
//   startContainer            StartContainer, before the process runs   the container's namespaces and path
//   poststart                 StartContainer, after the process runs    runtime namespaces
//   poststop                  RemoveContainer, before the bundle goes   runtime namespaces
// berth's init has already pivoted into its rootfs when the create-time
// hooks run (runc runs them just before pivot_root).
//
// Each hook gets the container's state JSON on stdin (ociVersion, id, status,
// pid, bundle, annotations), exactly its own env, and its stdout/stderr
// appended to <bundle>/hooks.log; it is killed after its timeout (seconds,
// default 30). The first failing hook of a stage ends the stage with an error
// naming the stage, path, and exit (and the log's last lines).
#pragma once

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "runtime-shim/cdi/cdi_spec.h"

namespace berth::cdi {

inline constexpr char kHooksFile[] = "hooks.json";
inline constexpr char kHooksLog[] = "hooks.log";
inline constexpr absl::Duration kDefaultHookTimeout = absl::Seconds(30);

enum class HookStage { kPrestart, kCreateRuntime, kCreateContainer, kStartContainer, kPoststart, kPoststop };

// "createRuntime", ... (the OCI and CDI hookName).
const char* HookStageName(HookStage stage);

// What a hook is told on stdin.
struct HookContext {
  std::string id;
  std::string bundle;
  pid_t pid = 0;  // the container init (its namespaces for createContainer / startContainer)
  std::map<std::string, std::string> annotations;
};

// The OCI state JSON for `stage` ("creating", "created", "running", "stopped").
std::string HookStateJson(HookStage stage, const HookContext& context);

// Writes <bundle>/hooks.json; nothing when there are no hooks.
absl::Status SaveHooks(const std::string& bundle, const std::vector<Hook>& hooks);
// The hooks saved in the bundle (no file: none).
absl::StatusOr<std::vector<Hook>> LoadHooks(const std::string& bundle);

// Runs, in order, the saved hooks of `stage`; the first failure is the error.
absl::Status RunHooks(HookStage stage, const HookContext& context);

// prestart, createRuntime, then createContainer (CreateContainer's hooks).
absl::Status RunCreateHooks(const HookContext& context);

}  // namespace berth::cdi
