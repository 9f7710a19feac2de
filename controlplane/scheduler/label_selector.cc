#include "controlplane/scheduler/label_selector.h"

#include <algorithm>
#include <charconv>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "controlplane/scheduler/json_fields.h"

namespace berth::scheduler {
namespace {

bool ParseInt(absl::string_view text, int64_t* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

// One LabelSelectorRequirement / NodeSelectorRequirement. Gt and Lt are only
// valid in node selectors (`numeric_ops`).
absl::StatusOr<SelectorRequirement> ParseRequirement(const nlohmann::json& j, absl::string_view field,
                                                     bool numeric_ops) {
  if (!j.is_object()) return InvalidField(field, "must be an object");
  SelectorRequirement r;
  auto key = j.find("key");
  if (key == j.end() || !key->is_string() || key->get_ref<const std::string&>().empty()) {
    return InvalidField(absl::StrCat(field, ".key"), "Required value");
  }
  r.key = key->get<std::string>();
  auto op = j.find("operator");
  std::string op_text = op != j.end() && op->is_string() ? op->get<std::string>() : "";
  if (op_text == "In") {
    r.op = SelectorRequirement::Op::kIn;
  } else if (op_text == "NotIn") {
    r.op = SelectorRequirement::Op::kNotIn;
  } else if (op_text == "Exists") {
    r.op = SelectorRequirement::Op::kExists;
  } else if (op_text == "DoesNotExist") {
    r.op = SelectorRequirement::Op::kDoesNotExist;
  } else if (numeric_ops && op_text == "Gt") {
    r.op = SelectorRequirement::Op::kGt;
  } else if (numeric_ops && op_text == "Lt") {
    r.op = SelectorRequirement::Op::kLt;
  } else {
    return InvalidField(absl::StrCat(field, ".operator"), absl::StrCat("Unsupported value: \"", op_text, "\""));
  }
  if (auto values = j.find("values"); values != j.end() && !values->is_null()) {
    if (!values->is_array()) return InvalidField(absl::StrCat(field, ".values"), "must be a list of strings");
    for (size_t i = 0; i < values->size(); ++i) {
      if (!(*values)[i].is_string()) {
        return InvalidField(absl::StrCat(field, ".values[", i, "]"), "must be a string");
      }
      r.values.push_back((*values)[i].get<std::string>());
    }
  }
  bool needs_values = r.op == SelectorRequirement::Op::kIn || r.op == SelectorRequirement::Op::kNotIn;
  bool one_value = r.op == SelectorRequirement::Op::kGt || r.op == SelectorRequirement::Op::kLt;
  if (needs_values && r.values.empty()) {
    return InvalidField(absl::StrCat(field, ".values"), absl::StrCat("must be specified when `operator` is '", op_text, "'"));
  }
  if (!needs_values && !one_value && !r.values.empty()) {
    return InvalidField(absl::StrCat(field, ".values"), absl::StrCat("may not be specified when `operator` is '", op_text, "'"));
  }
  if (one_value) {
    int64_t ignored = 0;
    if (r.values.size() != 1 || !ParseInt(r.values[0], &ignored)) {
      return InvalidField(absl::StrCat(field, ".values"), "must be a single integer when `operator` is 'Gt' or 'Lt'");
    }
  }
  return r;
}

absl::StatusOr<std::vector<SelectorRequirement>> ParseRequirements(const nlohmann::json& j, absl::string_view field,
                                                                   bool numeric_ops) {
  std::vector<SelectorRequirement> out;
  if (j.is_null()) return out;
  if (!j.is_array()) return InvalidField(field, "must be a list");
  for (size_t i = 0; i < j.size(); ++i) {
    ASSIGN_OR_RETURN(auto r, ParseRequirement(j[i], absl::StrCat(field, "[", i, "]"), numeric_ops));
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

bool SelectorRequirement::Matches(const Labels& labels) const {
  auto it = labels.find(key);
  bool has = it != labels.end();
  switch (op) {
    case Op::kIn:
      return has && std::find(values.begin(), values.end(), it->second) != values.end();
    case Op::kNotIn:
      return !has || std::find(values.begin(), values.end(), it->second) == values.end();
    case Op::kExists:
      return has;
    case Op::kDoesNotExist:
      return !has;
    case Op::kGt:
    case Op::kLt: {
      int64_t label_value = 0, bound = 0;
      if (!has || !ParseInt(it->second, &label_value) || !ParseInt(values[0], &bound)) return false;
      return op == Op::kGt ? label_value > bound : label_value < bound;
    }
  }
  return false;
}

absl::StatusOr<LabelSelector> LabelSelector::FromJson(const nlohmann::json& j, absl::string_view field) {
  LabelSelector s;
  if (j.is_null()) return s;
  if (!j.is_object()) return InvalidField(field, "must be an object");
  s.nothing_ = false;
  const auto& match_labels = Member(j, "matchLabels");
  if (!match_labels.is_null()) {
    if (!match_labels.is_object()) return InvalidField(absl::StrCat(field, ".matchLabels"), "must be a map of strings");
    for (const auto& [key, value] : match_labels.items()) {
      if (!value.is_string()) return InvalidField(absl::StrCat(field, ".matchLabels[", key, "]"), "must be a string");
      s.requirements_.push_back({key, SelectorRequirement::Op::kIn, {value.get<std::string>()}});
    }
  }
  ASSIGN_OR_RETURN(auto expressions,
                   ParseRequirements(Member(j, "matchExpressions"), absl::StrCat(field, ".matchExpressions"), false));
  for (auto& r : expressions) s.requirements_.push_back(std::move(r));
  return s;
}

LabelSelector LabelSelector::Everything() {
  LabelSelector s;
  s.nothing_ = false;
  return s;
}

bool LabelSelector::Matches(const Labels& labels) const {
  if (nothing_) return false;
  return std::all_of(requirements_.begin(), requirements_.end(),
                     [&labels](const SelectorRequirement& r) { return r.Matches(labels); });
}

const SelectorRequirement* LabelSelector::RequiredPair() const {
  if (nothing_) return nullptr;
  for (const SelectorRequirement& r : requirements_) {
    if (r.op == SelectorRequirement::Op::kIn && r.values.size() == 1) return &r;
  }
  return nullptr;
}

absl::StatusOr<NodeSelector::Term> NodeSelector::ParseTerm(const nlohmann::json& j, absl::string_view field) {
  if (!j.is_object()) return InvalidField(field, "must be an object");
  Term term;
  ASSIGN_OR_RETURN(term.expressions,
                   ParseRequirements(Member(j, "matchExpressions"), absl::StrCat(field, ".matchExpressions"), true));
  std::string fields_path = absl::StrCat(field, ".matchFields");
  ASSIGN_OR_RETURN(term.name_fields, ParseRequirements(Member(j, "matchFields"), fields_path, true));
  for (size_t i = 0; i < term.name_fields.size(); ++i) {
    const auto& r = term.name_fields[i];
    if (r.key != "metadata.name") {
      return InvalidField(absl::StrCat(fields_path, "[", i, "].key"),
                     absl::StrCat("Unsupported value: \"", r.key, "\": supported values: \"metadata.name\""));
    }
    if ((r.op != SelectorRequirement::Op::kIn && r.op != SelectorRequirement::Op::kNotIn) || r.values.size() != 1) {
      return InvalidField(absl::StrCat(fields_path, "[", i, "]"),
                     "metadata.name takes operator In or NotIn with exactly one value");
    }
  }
  return term;
}

absl::StatusOr<NodeSelector> NodeSelector::FromJson(const nlohmann::json& j, absl::string_view field) {
  NodeSelector s;
  if (!j.is_object()) return InvalidField(field, "must be an object");
  const auto& terms = Member(j, "nodeSelectorTerms");
  std::string terms_path = absl::StrCat(field, ".nodeSelectorTerms");
  if (!terms.is_array() || terms.empty()) return InvalidField(terms_path, "Required value: must have at least one node selector term");
  for (size_t i = 0; i < terms.size(); ++i) {
    ASSIGN_OR_RETURN(auto term, ParseTerm(terms[i], absl::StrCat(terms_path, "[", i, "]")));
    s.terms_.push_back(std::move(term));
  }
  return s;
}

absl::StatusOr<NodeSelector> NodeSelector::FromTermJson(const nlohmann::json& j, absl::string_view field) {
  NodeSelector s;
  ASSIGN_OR_RETURN(auto term, ParseTerm(j, field));
  s.terms_.push_back(std::move(term));
  return s;
}

bool NodeSelector::Matches(const std::string& node_name, const Labels& node_labels) const {
  for (const Term& term : terms_) {
    if (term.expressions.empty() && term.name_fields.empty()) continue;
    bool ok = std::all_of(term.expressions.begin(), term.expressions.end(),
                          [&](const SelectorRequirement& r) { return r.Matches(node_labels); });
    for (const auto& r : term.name_fields) {
      bool equal = node_name == r.values[0];
      ok = ok && (r.op == SelectorRequirement::Op::kIn ? equal : !equal);
    }
    if (ok) return true;
  }
  return false;
}

}  // namespace berth::scheduler
