#include "runtime-shim/security/seccomp_profile.h"

#include <seccomp.h>

#include <cerrno>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "nlohmann/json.hpp"

namespace berth {
namespace {

using Json = nlohmann::json;

// Largest errno the kernel returns from a syscall (MAX_ERRNO).
constexpr uint64_t kMaxErrno = 4095;
constexpr unsigned kMaxSyscallArgs = 6;

absl::Status Invalid(absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("seccomp profile: ", field, ": ", problem));
}

absl::StatusOr<uint64_t> Unsigned(const Json& value, absl::string_view field, uint64_t max) {
  if (!value.is_number_unsigned() || value.get<uint64_t>() > max) {
    return Invalid(field, absl::StrCat("must be an integer from 0 to ", max, ", not ",
                                       value.dump()));
  }
  return value.get<uint64_t>();
}

absl::StatusOr<std::string> String(const Json& value, absl::string_view field) {
  if (!value.is_string()) return Invalid(field, absl::StrCat("must be a string, not ", value.dump()));
  return value.get<std::string>();
}

// The libseccomp action for an OCI action name; `errno_field` is the object
// holding the optional errno ("errnoRet" or "defaultErrnoRet").
absl::StatusOr<uint32_t> ParseAction(const Json& object, const char* action_key,
                                     const char* errno_key, absl::string_view prefix) {
  std::string action_field = absl::StrCat(prefix, action_key);
  auto it = object.find(action_key);
  if (it == object.end()) return Invalid(action_field, "required");
  ASSIGN_OR_RETURN(std::string name, String(*it, action_field));

  bool takes_data = name == "SCMP_ACT_ERRNO" || name == "SCMP_ACT_TRACE";
  uint32_t data = EPERM;  // the OCI default for both ERRNO and TRACE
  auto errno_it = object.find(errno_key);
  if (errno_it != object.end()) {
    std::string errno_field = absl::StrCat(prefix, errno_key);
    if (!takes_data) {
      return Invalid(errno_field, absl::StrCat("only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take "
                                               "one, not ", name));
    }
    ASSIGN_OR_RETURN(uint64_t value, Unsigned(*errno_it, errno_field, kMaxErrno));
    data = static_cast<uint32_t>(value);
  }

  if (name == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
  if (name == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(data);
  if (name == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(data);
  if (name == "SCMP_ACT_KILL" || name == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL_THREAD;
  if (name == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
  if (name == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
  if (name == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
  if (name == "SCMP_ACT_NOTIFY") {
    return Invalid(action_field, "SCMP_ACT_NOTIFY is not supported (no seccomp agent)");
  }
  return Invalid(action_field, absl::StrCat("unknown action \"", name, "\""));
}

absl::StatusOr<uint32_t> ParseArchitecture(const Json& value, absl::string_view field) {
  ASSIGN_OR_RETURN(std::string name, String(value, field));
  // "SCMP_ARCH_X86_64" -> libseccomp's "x86_64"; the OCI names are its names upper-cased.
  absl::string_view bare = name;
  uint32_t arch = 0;
  if (absl::ConsumePrefix(&bare, "SCMP_ARCH_") && !bare.empty()) {
    arch = seccomp_arch_resolve_name(absl::AsciiStrToLower(bare).c_str());
  }
  if (arch == 0) return Invalid(field, absl::StrCat("unknown architecture \"", name, "\""));
  return arch;
}

absl::StatusOr<int> ParseOperator(const Json& value, absl::string_view field) {
  ASSIGN_OR_RETURN(std::string name, String(value, field));
  if (name == "SCMP_CMP_NE") return SCMP_CMP_NE;
  if (name == "SCMP_CMP_LT") return SCMP_CMP_LT;
  if (name == "SCMP_CMP_LE") return SCMP_CMP_LE;
  if (name == "SCMP_CMP_EQ") return SCMP_CMP_EQ;
  if (name == "SCMP_CMP_GE") return SCMP_CMP_GE;
  if (name == "SCMP_CMP_GT") return SCMP_CMP_GT;
  if (name == "SCMP_CMP_MASKED_EQ") return SCMP_CMP_MASKED_EQ;
  return Invalid(field, absl::StrCat("unknown operator \"", name, "\""));
}

absl::StatusOr<SeccompArgRule> ParseArg(const Json& arg, const std::string& prefix) {
  if (!arg.is_object()) return Invalid(prefix, "must be an object");
  SeccompArgRule rule;
  auto index = arg.find("index");
  if (index == arg.end()) return Invalid(prefix + ".index", "required");
  ASSIGN_OR_RETURN(uint64_t i, Unsigned(*index, prefix + ".index", kMaxSyscallArgs - 1));
  rule.index = static_cast<unsigned>(i);
  auto value = arg.find("value");
  if (value == arg.end()) return Invalid(prefix + ".value", "required");
  ASSIGN_OR_RETURN(rule.value, Unsigned(*value, prefix + ".value", UINT64_MAX));
  if (auto two = arg.find("valueTwo"); two != arg.end()) {
    ASSIGN_OR_RETURN(rule.value_two, Unsigned(*two, prefix + ".valueTwo", UINT64_MAX));
  }
  auto op = arg.find("op");
  if (op == arg.end()) return Invalid(prefix + ".op", "required");
  ASSIGN_OR_RETURN(rule.op, ParseOperator(*op, prefix + ".op"));
  return rule;
}

absl::StatusOr<SeccompSyscallRule> ParseSyscall(const Json& entry, const std::string& prefix) {
  if (!entry.is_object()) return Invalid(prefix, "must be an object");
  SeccompSyscallRule rule;

  auto names = entry.find("names");
  if (names == entry.end()) return Invalid(prefix + ".names", "required");
  if (!names->is_array() || names->empty()) {
    return Invalid(prefix + ".names", "must be a non-empty array of syscall names");
  }
  for (size_t i = 0; i < names->size(); ++i) {
    std::string field = absl::StrCat(prefix, ".names[", i, "]");
    ASSIGN_OR_RETURN(std::string name, String((*names)[i], field));
    if (name.empty()) return Invalid(field, "must not be empty");
    int number = seccomp_syscall_resolve_name(name.c_str());
    if (number == __NR_SCMP_ERROR) {
      rule.unknown_names.push_back(std::move(name));
    } else {
      rule.syscalls.push_back(number);
    }
  }

  ASSIGN_OR_RETURN(rule.action, ParseAction(entry, "action", "errnoRet", prefix + "."));

  if (auto args = entry.find("args"); args != entry.end() && !args->is_null()) {
    if (!args->is_array()) return Invalid(prefix + ".args", "must be an array");
    for (size_t j = 0; j < args->size(); ++j) {
      ASSIGN_OR_RETURN(SeccompArgRule arg,
                       ParseArg((*args)[j], absl::StrCat(prefix, ".args[", j, "]")));
      rule.args.push_back(arg);
    }
  }
  return rule;
}

absl::Status ParseFlags(const Json& flags, SeccompProfile& profile) {
  if (!flags.is_array()) return Invalid("flags", "must be an array");
  for (size_t i = 0; i < flags.size(); ++i) {
    std::string field = absl::StrCat("flags[", i, "]");
    ASSIGN_OR_RETURN(std::string flag, String(flags[i], field));
    if (flag == "SECCOMP_FILTER_FLAG_LOG") {
      profile.flag_log = true;
    } else if (flag == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") {
      profile.flag_spec_allow = true;
    } else if (flag == "SECCOMP_FILTER_FLAG_TSYNC") {
      profile.flag_tsync = true;
    } else {
      return Invalid(field, absl::StrCat("unsupported flag \"", flag, "\""));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SeccompProfile> ParseSeccompProfile(const std::string& json) {
  Json root;
  try {
    root = Json::parse(json);
  } catch (const Json::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat("seccomp profile: invalid JSON: ", e.what()));
  }
  if (!root.is_object()) return Invalid("(top level)", "must be a JSON object");

  SeccompProfile profile;
  ASSIGN_OR_RETURN(profile.default_action,
                   ParseAction(root, "defaultAction", "defaultErrnoRet", ""));

  if (auto archs = root.find("architectures"); archs != root.end() && !archs->is_null()) {
    if (!archs->is_array()) return Invalid("architectures", "must be an array");
    for (size_t i = 0; i < archs->size(); ++i) {
      ASSIGN_OR_RETURN(uint32_t arch,
                       ParseArchitecture((*archs)[i], absl::StrCat("architectures[", i, "]")));
      profile.architectures.push_back(arch);
    }
  }

  if (auto flags = root.find("flags"); flags != root.end() && !flags->is_null()) {
    RETURN_IF_ERROR(ParseFlags(*flags, profile));
  }

  if (auto syscalls = root.find("syscalls"); syscalls != root.end() && !syscalls->is_null()) {
    if (!syscalls->is_array()) return Invalid("syscalls", "must be an array");
    for (size_t i = 0; i < syscalls->size(); ++i) {
      ASSIGN_OR_RETURN(SeccompSyscallRule rule,
                       ParseSyscall((*syscalls)[i], absl::StrCat("syscalls[", i, "]")));
      profile.rules.push_back(std::move(rule));
    }
  }
  return profile;
}

}  // namespace berth
