// Command-line parsing for berth-cri: global flags, the subcommand, its flags
// and its arguments, checked against a table of subcommands (crictl's names
// and flags where they overlap). Pure: no I/O, the environment is passed in.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace berth::cri_cli {

inline constexpr char kDefaultEndpoint[] = "unix:///run/berth/berth.sock";
inline constexpr char kEndpointEnv[] = "CONTAINER_RUNTIME_ENDPOINT";

struct FlagSpec {
  std::string name;        // long name, without "--"
  char short_name = '\0';  // '\0': none
  bool takes_value = false;
  std::string help;
};

struct CommandSpec {
  std::string name;
  std::string arg_usage;  // "POD-ID CONTAINER.json POD.json"
  std::string help;
  std::vector<FlagSpec> flags;
  int min_args = 0;
  int max_args = 0;  // -1: any number
  // Everything after the first argument is an argument too (exec ID CMD...).
  bool args_end_flags = false;
};

// Every subcommand berth-cri knows, in the order `help` lists them.
const std::vector<CommandSpec>& Commands();

// The usage text: global flags and every subcommand with its flags.
std::string Usage();

struct Invocation {
  std::string endpoint;                         // "unix:///..."
  absl::Duration timeout = absl::Seconds(30);  // per CRI call
  std::string command;                          // "help" when asked for help
  std::map<std::string, std::string> flags;     // long name -> value ("true" for booleans)
  std::vector<std::string> args;

  bool Has(const std::string& name) const { return flags.count(name) > 0; }
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  // The flag's value as an integer >= 0, or `fallback` when not given.
  absl::StatusOr<int64_t> GetCount(const std::string& name, int64_t fallback) const;
};

// Parses argv (argv[0] is the program). `getenv` looks up environment
// variables (CONTAINER_RUNTIME_ENDPOINT). Errors name the flag or argument.
absl::StatusOr<Invocation> ParseCommandLine(
    const std::vector<std::string>& argv,
    const std::function<std::string(const std::string&)>& getenv);

// "unix:///x.sock" stays; a bare absolute path "/x.sock" becomes "unix:///x.sock";
// anything else is an error.
absl::StatusOr<std::string> NormalizeEndpoint(const std::string& endpoint);

// A timeout: a Go-style duration ("2s", "1m30s") or plain seconds ("10").
absl::StatusOr<absl::Duration> ParseTimeout(const std::string& text);

}  // namespace berth::cri_cli
