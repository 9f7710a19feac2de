// The selectors pods carry for scheduling, parsed from their JSON form:
// metav1.LabelSelector (matchLabels + matchExpressions, for pod affinity and
// topology spreading) and core/v1 NodeSelector (terms of matchExpressions and
// matchFields, for node affinity).
#pragma once

#include <map>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace berth::scheduler {

using Labels = std::map<std::string, std::string, std::less<>>;

struct SelectorRequirement {
  enum class Op { kIn, kNotIn, kExists, kDoesNotExist, kGt, kLt };
  std::string key;
  Op op = Op::kIn;
  std::vector<std::string> values;

  bool Matches(const Labels& labels) const;
};

// metav1.LabelSelector. A null selector matches nothing; {} matches everything.
class LabelSelector {
 public:
  // `field` names the selector in errors ("spec.affinity.podAffinity....labelSelector").
  static absl::StatusOr<LabelSelector> FromJson(const nlohmann::json& j, absl::string_view field);
  static LabelSelector Everything();

  bool Matches(const Labels& labels) const;
  // A label key=value every matching object must carry (the first matchLabels
  // entry or single-value In expression), or nullptr when there is none.
  const SelectorRequirement* RequiredPair() const;
  // Whether the selector is exactly that one requirement.
  bool IsSinglePair() const { return requirements_.size() == 1 && RequiredPair() != nullptr; }

 private:
  bool nothing_ = true;
  std::vector<SelectorRequirement> requirements_;
};

// core/v1 NodeSelector: terms ORed; a term's expressions (on labels) and
// fields (metadata.name only) ANDed; an empty term matches nothing.
class NodeSelector {
 public:
  static absl::StatusOr<NodeSelector> FromJson(const nlohmann::json& j, absl::string_view field);
  // One NodeSelectorTerm (preferred node affinity holds one per weight).
  static absl::StatusOr<NodeSelector> FromTermJson(const nlohmann::json& j, absl::string_view field);

  bool Matches(const std::string& node_name, const Labels& node_labels) const;

 private:
  struct Term {
    std::vector<SelectorRequirement> expressions;
    std::vector<SelectorRequirement> name_fields;  // metadata.name In / NotIn
  };
  static absl::StatusOr<Term> ParseTerm(const nlohmann::json& j, absl::string_view field);
  std::vector<Term> terms_;
};

}  // namespace berth::scheduler
