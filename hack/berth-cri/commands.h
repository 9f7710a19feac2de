// The berth-cri subcommands. Each takes the parsed invocation and a client
// connected to the runtime, prints its result on stdout and returns the
// process exit code, or an error (the caller prints it and exits 1).
#pragma once

#include "absl/status/statusor.h"
#include "e2e/cri_client.h"
#include "hack/berth-cri/cli_args.h"

namespace berth::cri_cli {

using e2e::CriClient;

// Dispatches to the command named by `inv.command`; prints errors as
// "berth-cri: <message>" on stderr. Returns the exit code.
int RunInvocation(const Invocation& inv);

// query_commands.cc
absl::StatusOr<int> VersionCommand(const Invocation& inv, CriClient& client);
absl::StatusOr<int> InfoCommand(const Invocation& inv, CriClient& client);
absl::StatusOr<int> ImagesCommand(const Invocation& inv, CriClient& client);
absl::StatusOr<int> PodsCommand(const Invocation& inv, CriClient& client);
absl::StatusOr<int> PsCommand(const Invocation& inv, CriClient& client);
absl::StatusOr<int> InspectCommand(const Invocation& inv, CriClient& client);
absl::StatusOr<int> InspectPodCommand(const Invocation& inv, CriClient& client);

// stats_command.cc
absl::StatusOr<int> StatsCommand(const Invocation& inv, CriClient& client);

// lifecycle_commands.cc
absl::StatusOr<int> RunPodCommand(const Invocation& inv, CriClient& client);
absl::StatusOr<int> CreateCommand(const Invocation& inv, CriClient& client);
absl::StatusOr<int> StartCommand(const Invocation& inv, CriClient& client);
absl::StatusOr<int> RunCommand(const Invocation& inv, CriClient& client);
absl::StatusOr<int> StopCommand(const Invocation& inv, CriClient& client);
absl::StatusOr<int> RemoveCommand(const Invocation& inv, CriClient& client);
absl::StatusOr<int> StopPodCommand(const Invocation& inv, CriClient& client);
absl::StatusOr<int> RemovePodCommand(const Invocation& inv, CriClient& client);
absl::StatusOr<int> ExecCommand(const Invocation& inv, CriClient& client);

// logs_command.cc
absl::StatusOr<int> LogsCommand(const Invocation& inv, CriClient& client);

}  // namespace berth::cri_cli
