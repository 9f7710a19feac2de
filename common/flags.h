// Command-line flags as berth's binaries take them: `--name=value` or
// `--name value` for a value flag, `--name` alone for a switch. One parser,
// so every binary spells its errors the same way: "unknown flag --x",
// "flag --x needs a value", "unexpected argument \"y\"".
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace berth {

struct FlagSet {
  std::map<std::string, std::string*> values;  // --name VALUE, stored as given
  std::map<std::string, bool*> switches;       // --name: set to true
  // Arguments not starting with "--" go here; null makes them an error.
  std::vector<std::string>* positional = nullptr;
  // The names of the flags given (values and switches), when not null.
  std::set<std::string>* given = nullptr;
};

// Parses `args` (without the program name) into `flags`; the first bad
// argument is an InvalidArgument error naming it. Values set before the
// error stay set.
absl::Status ParseFlags(absl::Span<const std::string> args, const FlagSet& flags);

// The same for main's argc/argv (argv[0] skipped).
absl::Status ParseFlags(int argc, char** argv, const FlagSet& flags);

}  // namespace berth
