// RFC 6902 JSON Patch over RFC 6901 JSON Pointers.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/k8s/patch/patch.h"

namespace berth::k8s::patch {
namespace {

// "/a/b~1c/0" -> {"a", "b/c", "0"}; "" is the whole document.
absl::StatusOr<std::vector<std::string>> ParsePointer(const std::string& pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;
  if (pointer[0] != '/') return absl::InvalidArgumentError("must be empty or start with '/'");
  std::string cur;
  for (size_t i = 1; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      tokens.push_back(cur);
      cur.clear();
    } else if (pointer[i] == '~') {
      if (i + 1 >= pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1')) {
        return absl::InvalidArgumentError("'~' must be followed by '0' or '1'");
      }
      cur += pointer[i + 1] == '0' ? '~' : '/';
      ++i;
    } else {
      cur += pointer[i];
    }
  }
  return tokens;
}

// An array index token: digits without leading zeros (or "-" when allowed).
absl::StatusOr<size_t> ArrayIndex(const std::string& token, size_t size, bool allow_end) {
  if (allow_end && token == "-") return size;
  if (token.empty() || (token.size() > 1 && token[0] == '0') ||
      token.find_first_not_of("0123456789") != std::string::npos || token.size() > 9) {
    return absl::InvalidArgumentError(absl::StrCat("array index \"", token, "\" is not a number"));
  }
  size_t idx = std::stoul(token);
  if (idx > size || (!allow_end && idx == size)) {
    return absl::InvalidArgumentError(absl::StrCat("array index ", idx, " is out of bounds (size ", size, ")"));
  }
  return idx;
}

// The value at `tokens` (all of them).
absl::StatusOr<nlohmann::json*> Resolve(nlohmann::json& doc, const std::vector<std::string>& tokens) {
  nlohmann::json* cur = &doc;
  for (const auto& t : tokens) {
    if (cur->is_object()) {
      auto it = cur->find(t);
      if (it == cur->end()) return absl::NotFoundError(absl::StrCat("member \"", t, "\" not found"));
      cur = &*it;
    } else if (cur->is_array()) {
      auto idx = ArrayIndex(t, cur->size(), false);
      if (!idx.ok()) return idx.status();
      cur = &(*cur)[*idx];
    } else {
      return absl::NotFoundError(absl::StrCat("cannot descend into ", cur->type_name(), " at \"", t, "\""));
    }
  }
  return cur;
}

absl::Status Remove(nlohmann::json& doc, const std::vector<std::string>& tokens, nlohmann::json* removed) {
  if (tokens.empty()) return absl::InvalidArgumentError("cannot remove the whole document");
  std::vector<std::string> parent_path(tokens.begin(), tokens.end() - 1);
  auto parent = Resolve(doc, parent_path);
  if (!parent.ok()) return parent.status();
  const std::string& last = tokens.back();
  if ((*parent)->is_object()) {
    auto it = (*parent)->find(last);
    if (it == (*parent)->end()) return absl::NotFoundError(absl::StrCat("member \"", last, "\" not found"));
    if (removed) *removed = *it;
    (*parent)->erase(it);
    return absl::OkStatus();
  }
  if ((*parent)->is_array()) {
    auto idx = ArrayIndex(last, (*parent)->size(), false);
    if (!idx.ok()) return idx.status();
    if (removed) *removed = (**parent)[*idx];
    (*parent)->erase(*idx);
    return absl::OkStatus();
  }
  return absl::NotFoundError(absl::StrCat("cannot remove from ", (*parent)->type_name()));
}

absl::Status Add(nlohmann::json& doc, const std::vector<std::string>& tokens, nlohmann::json value) {
  if (tokens.empty()) {
    doc = std::move(value);
    return absl::OkStatus();
  }
  std::vector<std::string> parent_path(tokens.begin(), tokens.end() - 1);
  auto parent = Resolve(doc, parent_path);
  if (!parent.ok()) return parent.status();
  const std::string& last = tokens.back();
  if ((*parent)->is_object()) {
    (**parent)[last] = std::move(value);
    return absl::OkStatus();
  }
  if ((*parent)->is_array()) {
    auto idx = ArrayIndex(last, (*parent)->size(), true);
    if (!idx.ok()) return idx.status();
    (*parent)->insert((*parent)->begin() + static_cast<std::ptrdiff_t>(*idx), std::move(value));
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("cannot add a member to ", (*parent)->type_name()));
}

absl::Status ApplyOne(nlohmann::json& doc, const nlohmann::json& op) {
  if (!op.is_object()) return absl::InvalidArgumentError("operation must be an object");
  auto op_it = op.find("op");
  auto path_it = op.find("path");
  if (op_it == op.end() || !op_it->is_string()) return absl::InvalidArgumentError("missing \"op\"");
  if (path_it == op.end() || !path_it->is_string()) return absl::InvalidArgumentError("missing \"path\"");
  const std::string name = op_it->get<std::string>();
  const std::string path = path_it->get<std::string>();
  auto tokens = ParsePointer(path);
  if (!tokens.ok()) return absl::InvalidArgumentError(absl::StrCat("path \"", path, "\": ", tokens.status().message()));
  auto with_path = [&](const absl::Status& s) {
    return s.ok() ? s : absl::Status(s.code(), absl::StrCat(name, " ", path, ": ", s.message()));
  };
  auto value_or = [&]() -> absl::StatusOr<nlohmann::json> {
    auto it = op.find("value");
    if (it == op.end()) return absl::InvalidArgumentError(absl::StrCat(name, " ", path, ": missing \"value\""));
    return *it;
  };
  auto from_tokens = [&]() -> absl::StatusOr<std::vector<std::string>> {
    auto it = op.find("from");
    if (it == op.end() || !it->is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(name, " ", path, ": missing \"from\""));
    }
    auto t = ParsePointer(it->get<std::string>());
    if (!t.ok()) return absl::InvalidArgumentError(absl::StrCat("from \"", it->get<std::string>(), "\": ", t.status().message()));
    return t;
  };
  if (name == "add") {
    auto v = value_or();
    if (!v.ok()) return v.status();
    return with_path(Add(doc, *tokens, std::move(*v)));
  }
  if (name == "remove") return with_path(Remove(doc, *tokens, nullptr));
  if (name == "replace") {
    auto v = value_or();
    if (!v.ok()) return v.status();
    auto target = Resolve(doc, *tokens);
    if (!target.ok()) return with_path(target.status());
    **target = std::move(*v);
    return absl::OkStatus();
  }
  if (name == "move" || name == "copy") {
    auto from = from_tokens();
    if (!from.ok()) return from.status();
    nlohmann::json value;
    if (name == "move") {
      if (tokens->size() > from->size() && std::equal(from->begin(), from->end(), tokens->begin())) {
        return absl::InvalidArgumentError(absl::StrCat("move ", path, ": cannot move a value into itself"));
      }
      if (absl::Status s = with_path(Remove(doc, *from, &value)); !s.ok()) return s;
    } else {
      auto src = Resolve(doc, *from);
      if (!src.ok()) return with_path(src.status());
      value = **src;
    }
    return with_path(Add(doc, *tokens, std::move(value)));
  }
  if (name == "test") {
    auto v = value_or();
    if (!v.ok()) return v.status();
    auto target = Resolve(doc, *tokens);
    if (!target.ok()) return with_path(target.status());
    if (**target != *v) {
      return absl::InvalidArgumentError(absl::StrCat("test ", path, ": value is ", (*target)->dump(),
                                                     ", not ", v->dump()));
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown op \"", name, "\""));
}

}  // namespace

absl::StatusOr<nlohmann::json> ApplyJsonPatch(const nlohmann::json& doc, const nlohmann::json& patch) {
  if (!patch.is_array()) {
    return absl::InvalidArgumentError("json patch must be an array of operations");
  }
  nlohmann::json out = doc;
  for (size_t i = 0; i < patch.size(); ++i) {
    absl::Status s = ApplyOne(out, patch[i]);
    if (!s.ok()) {
      return absl::Status(s.code() == absl::StatusCode::kNotFound ? absl::StatusCode::kInvalidArgument : s.code(),
                          absl::StrCat("json patch operation ", i, ": ", s.message()));
    }
  }
  return out;
}

}  // namespace berth::k8s::patch
