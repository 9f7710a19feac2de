#include "cni-plugins/nft/nft_json.h"

#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace berth::cninft {
namespace {

// The element entries of set/map `name`: each a key, or [key, value] for a map.
const nlohmann::json* ElementsOf(const nlohmann::json& listing, absl::string_view name) {
  if (!listing.is_array()) return nullptr;
  for (const nlohmann::json& item : listing) {
    for (const char* kind : {"map", "set"}) {
      auto it = item.find(kind);
      if (it == item.end() || !it->is_object()) continue;
      if (it->value("name", "") != name) continue;
      auto elem = it->find("elem");
      return elem != it->end() && elem->is_array() ? &*elem : nullptr;
    }
  }
  return nullptr;
}

// An element with a comment or timeout is {"elem": {"val": key, ...}}.
const nlohmann::json& Unwrap(const nlohmann::json& key) {
  if (key.is_object()) {
    auto it = key.find("elem");
    if (it != key.end() && it->is_object() && it->contains("val")) return (*it)["val"];
  }
  return key;
}

}  // namespace

std::string IdentityHash(std::initializer_list<absl::string_view> parts) {
  uint64_t h = 14695981039346656037ull;
  bool first = true;
  for (absl::string_view part : parts) {
    if (!first) h *= 1099511628211ull;  // a NUL byte between parts
    first = false;
    for (unsigned char c : part) {
      h ^= c;
      h *= 1099511628211ull;
    }
  }
  return absl::StrFormat("%016x", h);
}

std::string KeyToNft(const nlohmann::json& raw) {
  const nlohmann::json& key = Unwrap(raw);
  if (key.is_string()) return key.get<std::string>();
  if (key.is_number_integer()) return absl::StrCat(key.get<int64_t>());
  if (key.is_object()) {
    if (auto it = key.find("concat"); it != key.end() && it->is_array()) {
      std::vector<std::string> parts;
      for (const nlohmann::json& p : *it) {
        std::string s = KeyToNft(p);
        if (s.empty()) return "";
        parts.push_back(s);
      }
      return absl::StrJoin(parts, " . ");
    }
    if (auto it = key.find("prefix"); it != key.end() && it->is_object()) {
      return absl::StrCat(it->value("addr", ""), "/", it->value("len", 0));
    }
    if (auto it = key.find("range"); it != key.end() && it->is_array() && it->size() == 2) {
      return absl::StrCat(KeyToNft((*it)[0]), "-", KeyToNft((*it)[1]));
    }
  }
  return "";
}

std::vector<std::pair<std::string, std::string>> MapEntries(const nlohmann::json& listing,
                                                             absl::string_view map) {
  std::vector<std::pair<std::string, std::string>> out;
  const nlohmann::json* elems = ElementsOf(listing, map);
  if (elems == nullptr) return out;
  for (const nlohmann::json& e : *elems) {
    if (!e.is_array() || e.size() != 2 || !e[1].is_object()) continue;
    for (const char* verdict : {"jump", "goto"}) {
      auto v = e[1].find(verdict);
      if (v == e[1].end() || !v->is_object()) continue;
      std::string key = KeyToNft(e[0]);
      if (!key.empty()) out.emplace_back(key, v->value("target", ""));
    }
  }
  return out;
}

std::vector<std::string> MapKeysJumpingTo(const nlohmann::json& listing, absl::string_view map,
                                          absl::string_view chain) {
  std::vector<std::string> out;
  for (auto& [key, target] : MapEntries(listing, map)) {
    if (target == chain) out.push_back(key);
  }
  return out;
}

std::vector<std::string> ElementKeys(const nlohmann::json& listing, absl::string_view name) {
  std::vector<std::string> out;
  const nlohmann::json* elems = ElementsOf(listing, name);
  if (elems == nullptr) return out;
  for (const nlohmann::json& e : *elems) {
    std::string key = KeyToNft(e.is_array() && e.size() == 2 ? e[0] : e);
    if (!key.empty()) out.push_back(key);
  }
  return out;
}

bool HasChain(const nlohmann::json& listing, absl::string_view chain) {
  if (!listing.is_array()) return false;
  for (const nlohmann::json& item : listing) {
    auto it = item.find("chain");
    if (it != item.end() && it->is_object() && it->value("name", "") == chain) return true;
  }
  return false;
}

std::vector<nlohmann::json> RulesOf(const nlohmann::json& listing, absl::string_view chain) {
  std::vector<nlohmann::json> out;
  if (!listing.is_array()) return out;
  for (const nlohmann::json& item : listing) {
    auto it = item.find("rule");
    if (it != item.end() && it->is_object() && it->value("chain", "") == chain) {
      out.push_back(*it);
    }
  }
  return out;
}

int CountRules(const nlohmann::json& listing) {
  int n = 0;
  if (!listing.is_array()) return 0;
  for (const nlohmann::json& item : listing) n += item.contains("rule") ? 1 : 0;
  return n;
}

}  // namespace berth::cninft
