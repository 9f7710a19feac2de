// Resolving the container's args[0] the way execvp would, but with the PATH
// from the container's env rather than the shim's.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace berth::shim {

// The PATH used when the env has none (runc's and Docker's default).
inline constexpr char kDefaultPath[] =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The value of `key` in "KEY=value" entries; the last one wins, as in a shell.
std::string EnvValue(const std::vector<std::string>& env, const std::string& key, bool* found);

// `name` when it has a slash; otherwise the first PATH entry holding an
// executable regular file of that name. NotFound names the PATH searched.
absl::StatusOr<std::string> LookupExecutable(const std::string& name,
                                             const std::vector<std::string>& env);

}  // namespace berth::shim
