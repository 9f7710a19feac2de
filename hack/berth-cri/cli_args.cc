#include "hack/berth-cri/cli_args.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace berth::cri_cli {
namespace {

FlagSpec Bool(std::string name, char short_name, std::string help) {
  return FlagSpec{std::move(name), short_name, false, std::move(help)};
}
FlagSpec Value(std::string name, char short_name, std::string help) {
  return FlagSpec{std::move(name), short_name, true, std::move(help)};
}

const FlagSpec kOutput = Value("output", 'o', "json or table (default table)");
const FlagSpec kQuiet = Bool("quiet", 'q', "print only ids");
const FlagSpec kNoTrunc = Bool("no-trunc", '\0', "print full ids");

std::vector<CommandSpec> BuildCommands() {
  return {
      {"version", "", "print the runtime's name and version", {}, 0, 0},
      {"info", "", "print the runtime's status and configuration (Status, verbose)", {}, 0, 0},
      {"images", "[IMAGE]", "list images", {kQuiet, kNoTrunc, kOutput}, 0, 1},
      {"pods",
       "",
       "list pod sandboxes",
       {Value("name", '\0', "pods whose name matches this regular expression"),
        Value("namespace", '\0', "pods whose namespace matches this regular expression"),
        Value("state", 's', "ready or notready"), Value("id", '\0', "pods whose id starts with this"),
        Value("label", '\0', "key=value; pods with this label"), kQuiet, kNoTrunc, kOutput},
       0,
       0},
      {"ps",
       "",
       "list containers (running ones unless -a)",
       {Bool("all", 'a', "show containers in every state"),
        Value("pod", 'p', "containers of the pod whose id starts with this"),
        Value("name", '\0', "containers whose name matches this regular expression"),
        Value("state", '\0', "created, running, exited or unknown"),
        Value("id", '\0', "containers whose id starts with this"),
        Value("label", '\0', "key=value; containers with this label"), kQuiet, kNoTrunc, kOutput},
       0,
       0},
      {"runp",
       "POD.json",
       "run a pod sandbox from a PodSandboxConfig (protobuf JSON); prints its id",
       {Value("runtime", '\0', "runtime handler")},
       1,
       1},
      {"create",
       "POD-ID CONTAINER.json POD.json",
       "create a container in a pod from a ContainerConfig; prints its id",
       {},
       3,
       3},
      {"start", "ID...", "start created containers", {}, 1, -1},
      {"run",
       "CONTAINER.json POD.json",
       "run a pod and a container in it (runp, create, start); prints the container id",
       {Value("runtime", '\0', "runtime handler")},
       2,
       2},
      {"stop",
       "ID...",
       "stop running containers",
       {Value("timeout", 't', "seconds to wait after the stop signal before SIGKILL (default 0)")},
       1,
       -1},
      {"rm",
       "ID...",
       "remove containers",
       {Bool("force", 'f', "stop running containers first"), Bool("all", 'a', "remove every container")},
       0,
       -1},
      {"stopp", "POD-ID...", "stop pod sandboxes and their containers", {}, 1, -1},
      {"rmp",
       "POD-ID...",
       "remove pod sandboxes",
       {Bool("force", 'f', "stop ready pods first"), Bool("all", 'a', "remove every pod")},
       0,
       -1},
      {"inspect", "ID...", "print containers' status as JSON (ContainerStatus, verbose)", {}, 1, -1},
      {"inspectp", "POD-ID...", "print pods' status as JSON (PodSandboxStatus, verbose)", {}, 1, -1},
      {"logs",
       "ID",
       "print a container's log",
       {Bool("follow", 'f', "keep printing until the container exits"),
        Value("tail", '\0', "print only the last N lines first"),
        Bool("timestamps", 't', "put each line's time before it")},
       1,
       1},
      {"exec",
       "ID CMD [ARG...]",
       "run a command in a running container (ExecSync); exits with its exit code",
       {Value("timeout", '\0', "seconds before the command is killed (default: none)"),
        Bool("sync", 's', "run synchronously (always the case)")},
       2,
       -1,
       /*args_end_flags=*/true},
      {"stats",
       "[ID]",
       "print containers' resource usage",
       {Bool("all", 'a', "include containers that are not running"),
        Value("pod", 'p', "containers of the pod whose id starts with this"),
        Value("seconds", 's', "sample CPU use over this many seconds (default 1)"), kOutput},
       0,
       1},
      {"help", "", "print this text", {}, 0, 0},
  };
}

const CommandSpec* FindCommand(const std::string& name) {
  for (const CommandSpec& spec : Commands()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

// Parses one flag at argv[*i] against `flags`, storing it into `out` and
// advancing *i past a separate value. `where` names the command for errors.
absl::Status ParseFlag(const std::vector<std::string>& argv, size_t* i,
                       const std::vector<FlagSpec>& flags, const std::string& where,
                       std::map<std::string, std::string>* out) {
  const std::string& arg = argv[*i];
  auto take_value = [&](const FlagSpec& spec, const std::string& shown) -> absl::Status {
    if (*i + 1 >= argv.size()) {
      return absl::InvalidArgumentError(absl::StrCat(where, "flag ", shown, " needs a value"));
    }
    (*out)[spec.name] = argv[++*i];
    return absl::OkStatus();
  };
  if (absl::StartsWith(arg, "--")) {
    std::string name = arg.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    for (const FlagSpec& spec : flags) {
      if (spec.name != name) continue;
      if (!spec.takes_value) {
        if (has_value) {
          return absl::InvalidArgumentError(absl::StrCat(where, "flag --", name, " takes no value"));
        }
        (*out)[name] = "true";
        return absl::OkStatus();
      }
      if (has_value) {
        (*out)[name] = value;
        return absl::OkStatus();
      }
      return take_value(spec, "--" + name);
    }
    return absl::InvalidArgumentError(absl::StrCat(where, "unknown flag --", name));
  }
  // "-a", "-aq", "-t 5", "-t5".
  for (size_t pos = 1; pos < arg.size(); ++pos) {
    const FlagSpec* found = nullptr;
    for (const FlagSpec& spec : flags) {
      if (spec.short_name != '\0' && spec.short_name == arg[pos]) found = &spec;
    }
    if (found == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(where, "unknown flag -", arg.substr(pos, 1)));
    }
    if (!found->takes_value) {
      (*out)[found->name] = "true";
      continue;
    }
    if (pos + 1 < arg.size()) {
      (*out)[found->name] = arg.substr(pos + 1);
      return absl::OkStatus();
    }
    return take_value(*found, absl::StrCat("-", std::string(1, found->short_name)));
  }
  return absl::OkStatus();
}

bool LooksLikeFlag(const std::string& arg) { return arg.size() > 1 && arg[0] == '-'; }

std::string FlagUsage(const FlagSpec& flag) {
  std::string shown = flag.short_name != '\0'
                          ? absl::StrCat("-", std::string(1, flag.short_name), ", --", flag.name)
                          : absl::StrCat("    --", flag.name);
  if (flag.takes_value) absl::StrAppend(&shown, " VALUE");
  std::string line = absl::StrCat("      ", shown);
  if (line.size() < 34) line.resize(34, ' ');
  return absl::StrCat(line, " ", flag.help, "\n");
}

}  // namespace

const std::vector<CommandSpec>& Commands() {
  static const std::vector<CommandSpec>* const commands =
      new std::vector<CommandSpec>(BuildCommands());
  return *commands;
}

std::string Usage() {
  std::string text =
      "usage: berth-cri [global flags] COMMAND [flags] [ARGS]\n"
      "\n"
      "A small CRI client for berth (and any CRI runtime).\n"
      "\n"
      "global flags:\n"
      "  -r, --runtime-endpoint ENDPOINT  CRI socket (default $CONTAINER_RUNTIME_ENDPOINT,\n"
      "                                   else unix:///run/berth/berth.sock)\n"
      "  -t, --timeout DURATION           deadline of each CRI call (default 30s)\n"
      "  -h, --help                       print this text\n"
      "\n"
      "commands:\n";
  for (const CommandSpec& spec : Commands()) {
    std::string head = absl::StrCat("  ", spec.name, spec.arg_usage.empty() ? "" : " ", spec.arg_usage);
    if (head.size() < 36) head.resize(36, ' ');
    absl::StrAppend(&text, head, " ", spec.help, "\n");
    for (const FlagSpec& flag : spec.flags) absl::StrAppend(&text, FlagUsage(flag));
  }
  return text;
}

std::string Invocation::Get(const std::string& name, const std::string& fallback) const {
  auto it = flags.find(name);
  return it == flags.end() ? fallback : it->second;
}

absl::StatusOr<int64_t> Invocation::GetCount(const std::string& name, int64_t fallback) const {
  auto it = flags.find(name);
  if (it == flags.end()) return fallback;
  int64_t value = 0;
  if (!absl::SimpleAtoi(it->second, &value) || value < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("flag --", name, ": \"", it->second, "\" is not a whole number >= 0"));
  }
  return value;
}

absl::StatusOr<std::string> NormalizeEndpoint(const std::string& endpoint) {
  if (absl::StartsWith(endpoint, "unix://") && endpoint.size() > 7) return endpoint;
  if (absl::StartsWith(endpoint, "/")) return "unix://" + endpoint;
  return absl::InvalidArgumentError(absl::StrCat(
      "runtime endpoint \"", endpoint, "\": expected unix:///path/to.sock or an absolute path"));
}

absl::StatusOr<absl::Duration> ParseTimeout(const std::string& text) {
  absl::Duration duration;
  int64_t seconds = 0;
  if (absl::SimpleAtoi(text, &seconds)) {
    duration = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(text, &duration)) {
    return absl::InvalidArgumentError(
        absl::StrCat("timeout \"", text, "\": expected a duration such as 10s or 2m"));
  }
  if (duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("timeout \"", text, "\": must be positive"));
  }
  return duration;
}

absl::StatusOr<Invocation> ParseCommandLine(
    const std::vector<std::string>& argv,
    const std::function<std::string(const std::string&)>& getenv) {
  static const std::vector<FlagSpec> kGlobalFlags = {
      Value("runtime-endpoint", 'r', ""), Value("timeout", 't', ""), Bool("help", 'h', "")};
  Invocation inv;
  std::map<std::string, std::string> globals;
  size_t i = 1;
  for (; i < argv.size() && LooksLikeFlag(argv[i]); ++i) {
    if (argv[i] == "--") {
      ++i;
      break;
    }
    absl::Status parsed = ParseFlag(argv, &i, kGlobalFlags, "", &globals);
    if (!parsed.ok()) return parsed;
  }
  std::string endpoint = globals.count("runtime-endpoint") ? globals["runtime-endpoint"]
                                                           : getenv(kEndpointEnv);
  if (endpoint.empty()) endpoint = kDefaultEndpoint;
  absl::StatusOr<std::string> normalized = NormalizeEndpoint(endpoint);
  if (!normalized.ok()) return normalized.status();
  inv.endpoint = *normalized;
  if (globals.count("timeout")) {
    absl::StatusOr<absl::Duration> timeout = ParseTimeout(globals["timeout"]);
    if (!timeout.ok()) return timeout.status();
    inv.timeout = *timeout;
  }
  if (globals.count("help") || i >= argv.size()) {
    inv.command = "help";
    return inv;
  }

  inv.command = argv[i++];
  const CommandSpec* spec = FindCommand(inv.command);
  if (spec == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown command \"", inv.command, "\" (berth-cri help lists them)"));
  }
  const std::string where = inv.command + ": ";
  bool only_args = false;
  for (; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg == "--" && (!only_args || (spec->args_end_flags && inv.args.size() == 1 &&
                                         argv[i - 1] == inv.args[0]))) {
      // "exec ID -- CMD" as well as "exec -- ID CMD".
      only_args = true;
      continue;
    }
    if (!only_args && (arg == "-h" || arg == "--help")) {
      inv.command = "help";
      inv.flags.clear();
      inv.args.clear();
      return inv;
    }
    if (!only_args && LooksLikeFlag(arg)) {
      absl::Status parsed = ParseFlag(argv, &i, spec->flags, where, &inv.flags);
      if (!parsed.ok()) return parsed;
      continue;
    }
    inv.args.push_back(arg);
    if (spec->args_end_flags) only_args = true;
  }
  const int count = static_cast<int>(inv.args.size());
  if (count < spec->min_args || (spec->max_args >= 0 && count > spec->max_args)) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, "expected ", spec->arg_usage.empty() ? "no arguments" : spec->arg_usage, ", got ",
        count, count == 1 ? " argument" : " arguments"));
  }
  return inv;
}

}  // namespace berth::cri_cli
