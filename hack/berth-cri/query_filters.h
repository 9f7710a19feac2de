// The filters of `pods`, `ps` and `stats`: what goes into the CRI filter
// (id prefix, state, labels, pod) and what is matched here, as crictl does
// (name and namespace as regular expressions). Pure.
#pragma once

#include <optional>
#include <regex>
#include <string>

#include "absl/status/statusor.h"
#include "api/cri/api.pb.h"
#include "hack/berth-cri/cli_args.h"

namespace berth::cri_cli {

struct PodQuery {
  runtime::v1::PodSandboxFilter filter;
  std::optional<std::regex> name;
  std::optional<std::regex> namespace_;

  bool Matches(const runtime::v1::PodSandbox& pod) const;
};

struct ContainerQuery {
  runtime::v1::ContainerFilter filter;
  std::optional<std::regex> name;

  bool Matches(const runtime::v1::Container& container) const;
};

// From `pods` flags: --id, --state ready|notready, --label k=v, --name, --namespace.
absl::StatusOr<PodQuery> PodQueryFrom(const Invocation& inv);

// From `ps` flags: --id, --pod, --state, -a, --label k=v, --name. Without
// --state or -a only running containers are listed.
absl::StatusOr<ContainerQuery> ContainerQueryFrom(const Invocation& inv);

}  // namespace berth::cri_cli
