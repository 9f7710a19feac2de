#include "common/flags.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace berth {

absl::Status ParseFlags(absl::Span<const std::string> args, const FlagSet& flags) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!absl::StartsWith(arg, "--") || arg == "--") {
      if (flags.positional == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", arg, "\""));
      }
      flags.positional->push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_value = true;
    }
    if (auto sw = flags.switches.find(name); sw != flags.switches.end()) {
      if (has_value) return absl::InvalidArgumentError(absl::StrCat("flag --", name, " takes no value"));
      *sw->second = true;
    } else if (auto v = flags.values.find(name); v != flags.values.end()) {
      if (!has_value) {
        if (i + 1 >= args.size()) return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
        value = args[++i];
      }
      *v->second = std::move(value);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
    if (flags.given != nullptr) flags.given->insert(name);
  }
  return absl::OkStatus();
}

absl::Status ParseFlags(int argc, char** argv, const FlagSet& flags) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return ParseFlags(args, flags);
}

}  // namespace berth
