#include "runtime-shim/security/capabilities.h"

#include <grp.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/errors.h"
#include "common/status_macros.h"

namespace berth {
namespace {

// The number of capabilities the running kernel knows (CAP_LAST_CAP + 1).
int KernelCapabilityCount() {
  static const int count = static_cast<int>(cap_max_bits());
  return count;
}

std::string CanonicalName(cap_value_t cap) {
  char* name = cap_to_name(cap);
  if (name == nullptr) return absl::StrCat("CAP_", cap);
  std::string upper = absl::AsciiStrToUpper(name);
  cap_free(name);
  // libcap prints capabilities newer than itself as bare numbers.
  if (!absl::StartsWith(upper, "CAP_")) upper = absl::StrCat("CAP_", upper);
  return upper;
}

// "chown", "CHOWN", "cap_chown" and "CAP_CHOWN" all name CAP_CHOWN. Numbers
// (which libcap would also accept) are not names.
absl::StatusOr<cap_value_t> ParseCapability(absl::string_view name, absl::string_view field) {
  std::string upper = absl::AsciiStrToUpper(name);
  absl::string_view bare = upper;
  absl::ConsumePrefix(&bare, "CAP_");
  bool plausible = !bare.empty() && std::all_of(bare.begin(), bare.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || c == '_';
  });
  cap_value_t cap = 0;
  if (!plausible ||
      cap_from_name(absl::StrCat("cap_", absl::AsciiStrToLower(bare)).c_str(), &cap) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": unknown capability \"", name, "\""));
  }
  return cap;
}

bool IsAll(absl::string_view name) { return absl::EqualsIgnoreCase(name, "ALL"); }

std::set<cap_value_t> AllCapabilityValues() {
  std::set<cap_value_t> all;
  for (int cap = 0; cap < KernelCapabilityCount(); ++cap) all.insert(cap);
  return all;
}

// Parses every name that is not "ALL", so a typo fails the whole request
// before anything is computed.
absl::StatusOr<std::vector<cap_value_t>> ParseList(const std::vector<std::string>& names,
                                                   absl::string_view field) {
  std::vector<cap_value_t> caps;
  for (const std::string& name : names) {
    if (IsAll(name)) continue;
    ASSIGN_OR_RETURN(cap_value_t cap, ParseCapability(name, field));
    caps.push_back(cap);
  }
  return caps;
}

// 1 when the bounding set has `cap`, 0 when not (or the kernel does not know it).
bool InBoundingSet(cap_value_t cap) { return prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1; }

}  // namespace

std::vector<std::string> DefaultCapabilities() {
  return {"CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
          "CAP_MKNOD",  "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
          "CAP_SETFCAP", "CAP_SETPCAP",     "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
          "CAP_KILL",   "CAP_AUDIT_WRITE"};
}

std::vector<std::string> AllCapabilities() {
  std::vector<std::string> names;
  for (cap_value_t cap : AllCapabilityValues()) names.push_back(CanonicalName(cap));
  return names;
}

absl::StatusOr<CapabilityResult> ComputeCapabilities(const std::vector<std::string>& add,
                                                     const std::vector<std::string>& drop,
                                                     bool privileged) {
  ASSIGN_OR_RETURN(std::vector<cap_value_t> added,
                   ParseList(add, "capabilities.add_capabilities"));
  ASSIGN_OR_RETURN(std::vector<cap_value_t> dropped,
                   ParseList(drop, "capabilities.drop_capabilities"));

  std::set<cap_value_t> caps;
  if (privileged) {
    // As containerd: privileged means every capability, add/drop ignored.
    caps = AllCapabilityValues();
  } else {
    for (const std::string& name : DefaultCapabilities()) {
      ASSIGN_OR_RETURN(cap_value_t cap, ParseCapability(name, "default capabilities"));
      caps.insert(cap);
    }
    // Containerd's order: "ALL" first, so that {add: ALL, drop: CHOWN} is
    // everything but CHOWN and {drop: ALL, add: CHOWN} is just CHOWN.
    if (std::any_of(add.begin(), add.end(), IsAll)) caps = AllCapabilityValues();
    if (std::any_of(drop.begin(), drop.end(), IsAll)) caps.clear();
    caps.insert(added.begin(), added.end());
    for (cap_value_t cap : dropped) caps.erase(cap);
  }

  CapabilityResult result;
  for (cap_value_t cap : caps) {
    (InBoundingSet(cap) ? result.capabilities : result.unavailable).push_back(CanonicalName(cap));
  }
  std::sort(result.capabilities.begin(), result.capabilities.end());
  std::sort(result.unavailable.begin(), result.unavailable.end());
  return result;
}

absl::Status SetUserAndCapabilities(uid_t uid, gid_t gid, const std::vector<gid_t>& groups,
                                    const std::vector<std::string>& capabilities) {
  std::set<cap_value_t> keep;
  for (const std::string& name : capabilities) {
    ASSIGN_OR_RETURN(cap_value_t cap, ParseCapability(name, "capabilities"));
    if (!InBoundingSet(cap)) {
      return absl::FailedPreconditionError(
          absl::StrCat("capabilities: ", CanonicalName(cap), " is not in the bounding set"));
    }
    keep.insert(cap);
  }

  // The bounding set first, while CAP_SETPCAP is surely still effective.
  for (int cap = 0; cap < KernelCapabilityCount(); ++cap) {
    if (keep.count(cap) || !InBoundingSet(cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      return ErrnoError(absl::StrCat("drop ", CanonicalName(cap), " from the bounding set"));
    }
  }

  // Keep the permitted set across the uid change; it is trimmed just below.
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return ErrnoError("prctl(PR_SET_KEEPCAPS, 1)");
  if (setgroups(groups.size(), groups.data()) != 0) {
    return ErrnoError(absl::StrCat("setgroups(", absl::StrJoin(groups, ","), ")"));
  }
  if (setresgid(gid, gid, gid) != 0) return ErrnoError(absl::StrCat("setresgid(", gid, ")"));
  if (setresuid(uid, uid, uid) != 0) return ErrnoError(absl::StrCat("setresuid(", uid, ")"));
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return ErrnoError("prctl(PR_SET_KEEPCAPS, 0)");

  cap_t state = cap_init();  // all flags clear
  if (state == nullptr) return ErrnoError("cap_init");
  std::vector<cap_value_t> values(keep.begin(), keep.end());
  int rc = 0;
  if (!values.empty()) {
    for (cap_flag_t flag : {CAP_PERMITTED, CAP_EFFECTIVE, CAP_INHERITABLE}) {
      rc |= cap_set_flag(state, flag, static_cast<int>(values.size()), values.data(), CAP_SET);
    }
  }
  if (rc != 0) {
    cap_free(state);
    return ErrnoError("cap_set_flag");
  }
  rc = cap_set_proc(state);
  int saved_errno = errno;
  cap_free(state);
  if (rc != 0) {
    return ErrnoError(saved_errno, absl::StrCat("set capabilities {",
                                                absl::StrJoin(capabilities, ","), "}"));
  }
  // Ambient capabilities would survive exec for a non-root user; containers get none.
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
    return ErrnoError("clear ambient capabilities");
  }
  return absl::OkStatus();
}

}  // namespace berth
