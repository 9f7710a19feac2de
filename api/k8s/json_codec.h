// The generic JSON codec over VisitFields (fields.h): ToJson(obj) and
// FromJson(json, &obj, options). Written once for every struct that has a
// VisitFields overload; Pod-level entry points are in codec.h.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "api/k8s/fields.h"

namespace berth::k8s {

struct DecodeOptions {
  // Strict: a field the schema does not know is an error naming its path
  // (fieldValidation=Strict). Lenient: such fields are dropped.
  bool strict = true;
};

namespace codec_internal {

struct NoopVisitor {
  template <class T>
  void operator()(const char*, T&, int) const {}
};

template <class T>
concept Struct = requires(T& t) { VisitFields(t, NoopVisitor{}); };

template <class T> struct IsOptional : std::false_type {};
template <class T> struct IsOptional<std::optional<T>> : std::true_type {};
template <class T> struct IsVector : std::false_type {};
template <class T> struct IsVector<std::vector<T>> : std::true_type {};
template <class T> struct IsMap : std::false_type {};
template <class T> struct IsMap<std::map<std::string, T>> : std::true_type {};

// ---- encoding ----
template <class T>
nlohmann::json Encode(const T& v);

template <Struct T>
void EncodeFields(const T& obj, nlohmann::json& out) {
  VisitFields(const_cast<T&>(obj), [&out](const char* name, auto& field, int flags) {
    using F = std::remove_cvref_t<decltype(field)>;
    if constexpr (std::is_same_v<F, RawFields>) {
      for (const auto& [k, v] : field.fields) out[k] = v;
    } else {
      if constexpr (Struct<F>) {
        if (flags & kInline) {
          EncodeFields(field, out);
          return;
        }
      }
      nlohmann::json j = Encode(field);
      bool empty = j.is_null() || (j.is_string() && j.get_ref<const std::string&>().empty()) ||
                   (j.is_boolean() && !j.get<bool>()) ||
                   (j.is_number_integer() && j.get<int64_t>() == 0) ||
                   ((j.is_object() || j.is_array()) && j.empty());
      if constexpr (IsOptional<F>::value) empty = !field.has_value();
      if ((flags & kAlways) && j.is_null() && !IsOptional<F>::value) j = nlohmann::json::object();
      if (!empty || (flags & kAlways)) out[name] = std::move(j);
    }
  });
}

template <class T>
nlohmann::json Encode(const T& v) {
  if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, bool> ||
                std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t>) {
    return nlohmann::json(v);
  } else if constexpr (std::is_same_v<T, nlohmann::json>) {
    return v;
  } else if constexpr (std::is_same_v<T, Quantity>) {
    return nlohmann::json(v.String());
  } else if constexpr (std::is_same_v<T, IntOrString>) {
    return v.is_string ? nlohmann::json(v.str_value) : nlohmann::json(v.int_value);
  } else if constexpr (IsOptional<T>::value) {
    return v.has_value() ? Encode(*v) : nlohmann::json();
  } else if constexpr (IsVector<T>::value) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& e : v) a.push_back(Encode(e));
    return a;
  } else if constexpr (IsMap<T>::value) {
    nlohmann::json o = nlohmann::json::object();
    for (const auto& [k, e] : v) o[k] = Encode(e);
    return o;
  } else {
    static_assert(Struct<T>, "no JSON encoding for this type");
    nlohmann::json o = nlohmann::json::object();
    EncodeFields(v, o);
    return o;
  }
}

// ---- decoding ----
struct DecodeState {
  DecodeOptions options;
  std::vector<std::string> errors;   // type errors: "<path>: <what>"
  std::vector<std::string> unknown;  // paths of unknown fields
};

std::string TypeName(const nlohmann::json& j);
std::string Child(const std::string& path, const std::string& name);

template <class T>
void Decode(const nlohmann::json& j, T& out, const std::string& path, DecodeState& st);

template <Struct T>
void DecodeFields(const nlohmann::json& j, T& obj, const std::string& path, DecodeState& st,
                  std::set<std::string>& claimed) {
  RawFields* rest = nullptr;
  VisitFields(obj, [&](const char* name, auto& field, int flags) {
    using F = std::remove_cvref_t<decltype(field)>;
    if constexpr (std::is_same_v<F, RawFields>) {
      rest = &field;
    } else {
      if constexpr (Struct<F>) {
        if (flags & kInline) {
          DecodeFields(j, field, path, st, claimed);
          return;
        }
      }
      claimed.insert(name);
      auto it = j.find(name);
      if (it == j.end() || it->is_null()) return;
      Decode(*it, field, Child(path, name), st);
    }
  });
  if (rest != nullptr) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!claimed.count(it.key())) {
        rest->fields[it.key()] = it.value();
        claimed.insert(it.key());
      }
    }
  }
}

template <class Int>
void DecodeInt(const nlohmann::json& j, Int& out, const std::string& path, DecodeState& st) {
  if (j.is_number_integer()) {
    bool neg = j.is_number_integer() && !j.is_number_unsigned() && j.get<int64_t>() < 0;
    if (!neg && j.is_number_unsigned() &&
        j.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<Int>::max())) {
      st.errors.push_back(path + ": value " + j.dump() + " out of range");
      return;
    }
    int64_t v = j.get<int64_t>();
    if (v < std::numeric_limits<Int>::min() || v > std::numeric_limits<Int>::max()) {
      st.errors.push_back(path + ": value " + j.dump() + " out of range");
      return;
    }
    out = static_cast<Int>(v);
    return;
  }
  st.errors.push_back(path + ": expected integer, got " + TypeName(j));
}

void DecodeQuantity(const nlohmann::json& j, Quantity& out, const std::string& path,
                    DecodeState& st);
void DecodeIntOrString(const nlohmann::json& j, IntOrString& out, const std::string& path,
                       DecodeState& st);

template <class T>
void Decode(const nlohmann::json& j, T& out, const std::string& path, DecodeState& st) {
  if constexpr (std::is_same_v<T, std::string>) {
    if (j.is_string()) out = j.get<std::string>();
    else st.errors.push_back(path + ": expected string, got " + TypeName(j));
  } else if constexpr (std::is_same_v<T, bool>) {
    if (j.is_boolean()) out = j.get<bool>();
    else st.errors.push_back(path + ": expected boolean, got " + TypeName(j));
  } else if constexpr (std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t>) {
    DecodeInt(j, out, path, st);
  } else if constexpr (std::is_same_v<T, nlohmann::json>) {
    out = j;
  } else if constexpr (std::is_same_v<T, Quantity>) {
    DecodeQuantity(j, out, path, st);
  } else if constexpr (std::is_same_v<T, IntOrString>) {
    DecodeIntOrString(j, out, path, st);
  } else if constexpr (IsOptional<T>::value) {
    if (j.is_null()) return;
    typename T::value_type v{};
    Decode(j, v, path, st);
    out = std::move(v);
  } else if constexpr (IsVector<T>::value) {
    if (!j.is_array()) {
      st.errors.push_back(path + ": expected array, got " + TypeName(j));
      return;
    }
    out.clear();
    for (size_t i = 0; i < j.size(); ++i) {
      typename T::value_type v{};
      Decode(j[i], v, path + "[" + std::to_string(i) + "]", st);
      out.push_back(std::move(v));
    }
  } else if constexpr (IsMap<T>::value) {
    if (!j.is_object()) {
      st.errors.push_back(path + ": expected object, got " + TypeName(j));
      return;
    }
    out.clear();
    for (auto it = j.begin(); it != j.end(); ++it) {
      typename T::mapped_type v{};
      Decode(it.value(), v, path + "[" + it.key() + "]", st);
      out.emplace(it.key(), std::move(v));
    }
  } else {
    static_assert(Struct<T>, "no JSON decoding for this type");
    if (!j.is_object()) {
      st.errors.push_back(path + ": expected object, got " + TypeName(j));
      return;
    }
    std::set<std::string> claimed;
    DecodeFields(j, out, path, st, claimed);
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!claimed.count(it.key()) && st.options.strict) st.unknown.push_back(Child(path, it.key()));
    }
  }
}

// OK, or InvalidArgument with the type errors, then the strict-mode unknown fields
// ("strict decoding error: unknown field \"spec.foo\", unknown field \"spec.bar\"").
absl::Status Finish(const DecodeState& st);

}  // namespace codec_internal

// Any struct with VisitFields, to the JSON the API server would serve.
template <class T>
nlohmann::json ToJson(const T& obj) {
  return codec_internal::Encode(obj);
}

// The JSON into *out (which starts from a value-initialised T).
template <class T>
absl::Status FromJson(const nlohmann::json& j, T* out, const DecodeOptions& options = {}) {
  codec_internal::DecodeState st{options, {}, {}};
  *out = T{};
  codec_internal::Decode(j, *out, "", st);
  return codec_internal::Finish(st);
}

}  // namespace berth::k8s
