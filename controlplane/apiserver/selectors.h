// Label selectors (labels.Parse syntax: "a=b,c!=d,e in (x,y),f notin (z),g,!h")
// and field selectors (fields.ParseSelector: "metadata.name=x,spec.nodeName!=n"),
// parsed once per request and matched against objects.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"

namespace berth::apiserver {

struct LabelRequirement {
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist, kGreaterThan, kLessThan };
  std::string key;
  Op op = Op::kEquals;
  std::vector<std::string> values;
};

class LabelSelector {
 public:
  // The empty string selects everything. Errors are InvalidArgument naming
  // the selector and the part that is wrong.
  static absl::StatusOr<LabelSelector> Parse(absl::string_view text);

  bool Empty() const { return requirements_.empty(); }
  bool Matches(const std::map<std::string, std::string>& labels) const;
  const std::vector<LabelRequirement>& requirements() const { return requirements_; }

 private:
  std::vector<LabelRequirement> requirements_;
};

struct FieldRequirement {
  std::string field;
  bool equals = true;  // "=" / "==" vs "!="
  std::string value;
};

class FieldSelector {
 public:
  static absl::StatusOr<FieldSelector> Parse(absl::string_view text);

  bool Empty() const { return requirements_.empty(); }
  // `value_of(field)` gives the object's value, or nullopt when the field
  // cannot be selected on (Matches is then false).
  bool Matches(const std::function<std::optional<std::string>(const std::string&)>& value_of) const;
  const std::vector<FieldRequirement>& requirements() const { return requirements_; }
  // The value a requirement "field=value" pins, if any.
  std::optional<std::string> Exact(absl::string_view field) const;

 private:
  std::vector<FieldRequirement> requirements_;
};

}  // namespace berth::apiserver
