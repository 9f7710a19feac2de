#include "device-plugin/xid_policy.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace berth::gpu {
namespace {

absl::StatusOr<std::set<unsigned long long>> ParseList(const std::string& text, const std::string& flag) {
  std::set<unsigned long long> out;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    part = absl::StripAsciiWhitespace(part);
    if (part.empty()) continue;
    unsigned long long xid = 0;
    if (!absl::SimpleAtoi(part, &xid)) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, ": \"", part, "\" is not an Xid number (in \"", text, "\")"));
    }
    out.insert(xid);
  }
  return out;
}

}  // namespace

absl::StatusOr<XidPolicy> XidPolicy::Parse(const std::string& critical, const std::string& ignored,
                                           const std::string& flag_critical, const std::string& flag_ignored) {
  XidPolicy policy;
  std::string c(absl::StripAsciiWhitespace(critical));
  if (c == "all") {
    policy.all_ = true;
  } else if (c == "none") {
    policy.all_ = false;
  } else {
    policy.all_ = false;
    auto list = ParseList(c, flag_critical);
    if (!list.ok()) return list.status();
    if (list->empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag_critical, ": \"", critical, "\": want all, none or a list of Xid numbers"));
    }
    policy.critical_ = *std::move(list);
  }
  auto ign = ParseList(ignored, flag_ignored);
  if (!ign.ok()) return ign.status();
  policy.ignored_ = *std::move(ign);
  return policy;
}

XidPolicy XidPolicy::Default() { return *Parse("all", kDefaultIgnoredXids); }

bool XidPolicy::IsCritical(unsigned long long xid) const {
  if (ignored_.count(xid)) return false;
  return all_ || critical_.count(xid) > 0;
}

std::string XidPolicy::Describe() const {
  std::string base = all_ ? "all" : (critical_.empty() ? "none" : absl::StrJoin(critical_, ","));
  if (ignored_.empty()) return base;
  return absl::StrCat(base, " except ", absl::StrJoin(ignored_, ","));
}

}  // namespace berth::gpu
