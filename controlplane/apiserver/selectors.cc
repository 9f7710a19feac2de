#include "controlplane/apiserver/selectors.h"

#include <cctype>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace berth::apiserver {

namespace {

// A label key or value: [A-Za-z0-9] with -_./ inside; keys may have a prefix.
bool IsSelectorToken(absl::string_view s, bool allow_empty) {
  if (s.empty()) return allow_empty;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
          c == '/')) {
      return false;
    }
  }
  return true;
}

absl::Status BadSelector(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("unable to parse requirement: labelSelector \"", text, "\": ", why));
}

// Splits on commas that are not inside parentheses.
std::vector<std::string> SplitTopLevel(absl::string_view text) {
  std::vector<std::string> parts;
  int depth = 0;
  std::string current;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      parts.push_back(current);
      current.clear();
      continue;
    }
    current.push_back(c);
  }
  parts.push_back(current);
  return parts;
}

}  // namespace

absl::StatusOr<LabelSelector> LabelSelector::Parse(absl::string_view text) {
  LabelSelector selector;
  absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  if (trimmed.empty()) return selector;
  for (const std::string& raw : SplitTopLevel(trimmed)) {
    absl::string_view part = absl::StripAsciiWhitespace(raw);
    if (part.empty()) return BadSelector(text, "empty requirement");
    LabelRequirement req;
    // Set operators: "key in (a,b)", "key notin (a,b)".
    size_t open = part.find('(');
    if (open != absl::string_view::npos) {
      if (part.back() != ')') return BadSelector(text, absl::StrCat("missing ')' in \"", part, "\""));
      std::vector<std::string> words =
          absl::StrSplit(part.substr(0, open), ' ', absl::SkipWhitespace());
      if (words.size() != 2 || (words[1] != "in" && words[1] != "notin")) {
        return BadSelector(text, absl::StrCat("\"", part, "\" is not \"key in (v1,v2)\" or \"key notin (v1,v2)\""));
      }
      req.key = words[0];
      req.op = words[1] == "in" ? LabelRequirement::Op::kIn : LabelRequirement::Op::kNotIn;
      absl::string_view inside = part.substr(open + 1, part.size() - open - 2);
      for (absl::string_view v : absl::StrSplit(inside, ',')) {
        v = absl::StripAsciiWhitespace(v);
        if (!IsSelectorToken(v, true)) return BadSelector(text, absl::StrCat("invalid value \"", v, "\""));
        req.values.emplace_back(v);
      }
      if (req.values.empty() || (req.values.size() == 1 && req.values[0].empty() && inside.empty())) {
        return BadSelector(text, absl::StrCat("\"", part, "\": for 'in', 'notin' operators, values set can't be empty"));
      }
    } else if (part[0] == '!') {
      absl::string_view key = absl::StripAsciiWhitespace(part.substr(1));
      req.key = std::string(key);
      req.op = LabelRequirement::Op::kDoesNotExist;
    } else {
      struct OpText { const char* text; LabelRequirement::Op op; };
      static const OpText kOps[] = {{"==", LabelRequirement::Op::kEquals},
                                    {"!=", LabelRequirement::Op::kNotEquals},
                                    {"=", LabelRequirement::Op::kEquals},
                                    {">", LabelRequirement::Op::kGreaterThan},
                                    {"<", LabelRequirement::Op::kLessThan}};
      bool found = false;
      for (const auto& op : kOps) {
        size_t at = part.find(op.text);
        if (at == absl::string_view::npos) continue;
        req.key = std::string(absl::StripAsciiWhitespace(part.substr(0, at)));
        req.op = op.op;
        absl::string_view value = absl::StripAsciiWhitespace(part.substr(at + strlen(op.text)));
        if (!IsSelectorToken(value, op.op == LabelRequirement::Op::kEquals ||
                                        op.op == LabelRequirement::Op::kNotEquals)) {
          return BadSelector(text, absl::StrCat("invalid value \"", value, "\" in \"", part, "\""));
        }
        if (op.op == LabelRequirement::Op::kGreaterThan || op.op == LabelRequirement::Op::kLessThan) {
          int64_t n;
          if (!absl::SimpleAtoi(value, &n)) {
            return BadSelector(text, absl::StrCat("for 'Gt', 'Lt' operators, the value must be an integer: \"", part, "\""));
          }
        }
        req.values.emplace_back(value);
        found = true;
        break;
      }
      if (!found) {
        req.key = std::string(part);
        req.op = LabelRequirement::Op::kExists;
      }
    }
    if (req.key.empty() || !IsSelectorToken(req.key, false) || req.key.find(' ') != std::string::npos) {
      return BadSelector(text, absl::StrCat("invalid label key \"", req.key, "\""));
    }
    selector.requirements_.push_back(std::move(req));
  }
  return selector;
}

bool LabelSelector::Matches(const std::map<std::string, std::string>& labels) const {
  for (const auto& req : requirements_) {
    auto it = labels.find(req.key);
    bool has = it != labels.end();
    switch (req.op) {
      case LabelRequirement::Op::kEquals:
        if (!has || it->second != req.values[0]) return false;
        break;
      case LabelRequirement::Op::kNotEquals:
        if (has && it->second == req.values[0]) return false;
        break;
      case LabelRequirement::Op::kIn: {
        if (!has) return false;
        bool any = false;
        for (const auto& v : req.values) any = any || v == it->second;
        if (!any) return false;
        break;
      }
      case LabelRequirement::Op::kNotIn:
        if (has) {
          for (const auto& v : req.values) {
            if (v == it->second) return false;
          }
        }
        break;
      case LabelRequirement::Op::kExists:
        if (!has) return false;
        break;
      case LabelRequirement::Op::kDoesNotExist:
        if (has) return false;
        break;
      case LabelRequirement::Op::kGreaterThan:
      case LabelRequirement::Op::kLessThan: {
        int64_t have, want;
        if (!has || !absl::SimpleAtoi(it->second, &have) || !absl::SimpleAtoi(req.values[0], &want)) {
          return false;
        }
        if (req.op == LabelRequirement::Op::kGreaterThan ? !(have > want) : !(have < want)) return false;
        break;
      }
    }
  }
  return true;
}

absl::StatusOr<FieldSelector> FieldSelector::Parse(absl::string_view text) {
  FieldSelector selector;
  absl::string_view trimmed = absl::StripAsciiWhitespace(text);
  if (trimmed.empty()) return selector;
  for (absl::string_view part : absl::StrSplit(trimmed, ',')) {
    part = absl::StripAsciiWhitespace(part);
    FieldRequirement req;
    size_t at;
    size_t op_len;
    if ((at = part.find("!=")) != absl::string_view::npos) {
      req.equals = false;
      op_len = 2;
    } else if ((at = part.find("==")) != absl::string_view::npos) {
      op_len = 2;
    } else if ((at = part.find('=')) != absl::string_view::npos) {
      op_len = 1;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid selector: fieldSelector \"", text, "\": \"", part,
                       "\" has no operator (=, == or !=)"));
    }
    req.field = std::string(absl::StripAsciiWhitespace(part.substr(0, at)));
    req.value = std::string(absl::StripAsciiWhitespace(part.substr(at + op_len)));
    if (req.field.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid selector: fieldSelector \"", text, "\": empty field name in \"", part, "\""));
    }
    selector.requirements_.push_back(std::move(req));
  }
  return selector;
}

bool FieldSelector::Matches(
    const std::function<std::optional<std::string>(const std::string&)>& value_of) const {
  for (const auto& req : requirements_) {
    std::optional<std::string> value = value_of(req.field);
    if (!value) return false;
    if ((*value == req.value) != req.equals) return false;
  }
  return true;
}

std::optional<std::string> FieldSelector::Exact(absl::string_view field) const {
  for (const auto& req : requirements_) {
    if (req.equals && req.field == field) return req.value;
  }
  return std::nullopt;
}

}  // namespace berth::apiserver
