#include "agent/volume/downward_api.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <cmath>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"

namespace berth::agent::volume {
namespace {

// Decodes one UTF-8 sequence at s[i]; returns its length (0 when invalid).
size_t DecodeUtf8(const std::string& s, size_t i, uint32_t* cp) {
  unsigned char c = s[i];
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  uint32_t v = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < len; ++k) {
    unsigned char cc = s[i + k];
    if ((cc >> 6) != 0x2) return 0;
    v = (v << 6) | (cc & 0x3F);
  }
  static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < kMin[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return len;
}

absl::StatusOr<std::string> LabelOrAnnotation(const std::map<std::string, std::string>& m, const std::string& path,
                                              const std::string& prefix) {
  // metadata.labels['key']
  std::string key = path.substr(prefix.size() + 2, path.size() - prefix.size() - 4);
  auto it = m.find(key);
  return it == m.end() ? "" : it->second;
}

absl::StatusOr<std::string> FieldValue(const std::string& path, const k8s::Pod& pod) {
  const auto& md = pod.metadata;
  if (path == "metadata.name") return md.name;
  if (path == "metadata.namespace") return md.namespace_;
  if (path == "metadata.uid") return md.uid;
  if (path == "metadata.labels") return FormatMap(md.labels);
  if (path == "metadata.annotations") return FormatMap(md.annotations);
  for (const std::string prefix : {"metadata.labels", "metadata.annotations"}) {
    if (absl::StartsWith(path, prefix + "['") && absl::EndsWith(path, "']") && path.size() > prefix.size() + 4) {
      return LabelOrAnnotation(prefix == "metadata.labels" ? md.labels : md.annotations, path, prefix);
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("Unsupported value: \"", path,
                   "\": supported values: \"metadata.annotations\", \"metadata.labels\", \"metadata.name\", "
                   "\"metadata.namespace\", \"metadata.uid\""));
}

int64_t CeilDiv(double a, double b) { return static_cast<int64_t>(std::ceil(a / b)); }

}  // namespace

NodeAllocatable NodeAllocatable::FromHost(const std::string& dir) {
  NodeAllocatable n;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  n.cpu_milli = (cpus > 0 ? cpus : 1) * 1000;
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) n.memory_bytes = static_cast<int64_t>(pages) * page;
  struct statvfs vfs;
  if (statvfs(dir.c_str(), &vfs) == 0) n.ephemeral_storage_bytes = static_cast<int64_t>(vfs.f_blocks) * vfs.f_frsize;
  return n;
}

std::string GoQuote(const std::string& s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t len = DecodeUtf8(s, i, &cp);
    if (len == 0) {
      absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(s[i]));
      ++i;
      continue;
    }
    if (len > 1) {
      // Printable non-ASCII stays as it is; a few invisible ones are escaped.
      bool invisible = (cp >= 0x80 && cp < 0xA0) || cp == 0xAD || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF;
      if (invisible) {
        absl::StrAppendFormat(&out, cp > 0xFFFF ? "\\U%08x" : "\\u%04x", cp);
      } else {
        out.append(s, i, len);
      }
      i += len;
      continue;
    }
    char c = s[i++];
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\v':
        out += "\\v";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out += "\"";
  return out;
}

std::string FormatMap(const std::map<std::string, std::string>& m) {
  std::string out;
  for (const auto& [k, v] : m) {
    if (!out.empty()) out += "\n";
    absl::StrAppend(&out, k, "=", GoQuote(v));
  }
  return out;
}

absl::StatusOr<std::string> ContainerResourceValue(const std::string& resource, const std::string& divisor_text,
                                                   const k8s::Container& container, const NodeAllocatable& node) {
  auto divisor = k8s::Quantity::Parse(divisor_text.empty() ? "1" : divisor_text);
  if (!divisor.ok()) return absl::InvalidArgumentError(absl::StrCat("divisor: ", divisor.status().message()));
  if (divisor->IsZero()) return absl::InvalidArgumentError("divisor: must not be zero");
  bool limits = absl::StartsWith(resource, "limits.");
  bool requests = absl::StartsWith(resource, "requests.");
  if (!limits && !requests) {
    return absl::InvalidArgumentError(absl::StrCat("resource: Unsupported value: \"", resource, "\""));
  }
  std::string name = resource.substr(limits ? 7 : 9);
  if (name != "cpu" && name != "memory" && name != "ephemeral-storage" && !absl::StartsWith(name, "hugepages-")) {
    return absl::InvalidArgumentError(absl::StrCat("resource: Unsupported value: \"", resource, "\""));
  }
  const auto& list = limits ? container.resources.limits : container.resources.requests;
  auto it = list.find(name);
  if (name == "cpu") {
    int64_t milli = it != list.end() ? it->second.MilliValue() : (limits ? node.cpu_milli : 0);
    return std::to_string(CeilDiv(static_cast<double>(milli), static_cast<double>(divisor->MilliValue())));
  }
  int64_t value = 0;
  if (it != list.end()) {
    value = it->second.Value();
  } else if (limits && name == "memory") {
    value = node.memory_bytes;
  } else if (limits && name == "ephemeral-storage") {
    value = node.ephemeral_storage_bytes;
  }
  return std::to_string(CeilDiv(static_cast<double>(value), static_cast<double>(divisor->Value())));
}

absl::StatusOr<Payload> DownwardApiPayload(const nlohmann::json& source, const k8s::Pod& pod,
                                           const NodeAllocatable& node, const std::string& field) {
  if (!source.is_object()) return absl::InvalidArgumentError(absl::StrCat(field, ": expected an object"));
  int default_mode = 0644;
  if (source.contains("defaultMode") && !source["defaultMode"].is_null()) {
    const auto& m = source["defaultMode"];
    if (!m.is_number_integer() || m.get<int64_t>() < 0 || m.get<int64_t>() > 0777) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".defaultMode: Invalid value: ", m.dump(),
                                                     ": must be a number between 0 and 0777 (octal), both inclusive"));
    }
    default_mode = m.get<int>();
  }
  Payload payload;
  if (!source.contains("items") || source["items"].is_null()) return payload;
  if (!source["items"].is_array()) return absl::InvalidArgumentError(absl::StrCat(field, ".items: expected a list"));
  const auto& items = source["items"];
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& item = items[i];
    std::string f = absl::StrCat(field, ".items[", i, "]");
    if (!item.is_object() || !item.contains("path") || !item["path"].is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(f, ".path: Required value"));
    }
    std::string path = item["path"].get<std::string>();
    RETURN_IF_ERROR(ValidatePayloadPath(path, f + ".path"));
    int mode = default_mode;
    if (item.contains("mode") && !item["mode"].is_null()) {
      const auto& m = item["mode"];
      if (!m.is_number_integer() || m.get<int64_t>() < 0 || m.get<int64_t>() > 0777) {
        return absl::InvalidArgumentError(absl::StrCat(f, ".mode: Invalid value: ", m.dump(),
                                                       ": must be a number between 0 and 0777 (octal), both inclusive"));
      }
      mode = m.get<int>();
    }
    bool has_field = item.contains("fieldRef") && !item["fieldRef"].is_null();
    bool has_resource = item.contains("resourceFieldRef") && !item["resourceFieldRef"].is_null();
    if (has_field == has_resource) {
      return absl::InvalidArgumentError(
          absl::StrCat(f, ": Invalid value: exactly one of fieldRef and resourceFieldRef must be set"));
    }
    std::string value;
    if (has_field) {
      const auto& ref = item["fieldRef"];
      if (!ref.is_object() || !ref.contains("fieldPath") || !ref["fieldPath"].is_string()) {
        return absl::InvalidArgumentError(absl::StrCat(f, ".fieldRef.fieldPath: Required value"));
      }
      if (ref.contains("apiVersion") && ref["apiVersion"].is_string() && ref["apiVersion"] != "v1") {
        return absl::InvalidArgumentError(absl::StrCat(f, ".fieldRef.apiVersion: Unsupported value: \"",
                                                       ref["apiVersion"].get<std::string>(), "\""));
      }
      auto v = FieldValue(ref["fieldPath"].get<std::string>(), pod);
      if (!v.ok()) return absl::InvalidArgumentError(absl::StrCat(f, ".fieldRef.fieldPath: ", v.status().message()));
      value = *std::move(v);
    } else {
      const auto& ref = item["resourceFieldRef"];
      std::string cname = ref.value("containerName", "");
      std::string resource = ref.value("resource", "");
      std::string divisor;
      if (ref.contains("divisor") && ref["divisor"].is_string()) divisor = ref["divisor"].get<std::string>();
      if (ref.contains("divisor") && ref["divisor"].is_number()) divisor = ref["divisor"].dump();
      if (cname.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(f, ".resourceFieldRef.containerName: Required value"));
      }
      const k8s::Container* container = nullptr;
      for (const auto* list : {&pod.spec.containers, &pod.spec.initContainers}) {
        for (const auto& c : *list) {
          if (c.name == cname) container = &c;
        }
      }
      if (container == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(f, ".resourceFieldRef.containerName: Invalid value: \"",
                                                       cname, "\": no container of that name in the pod"));
      }
      auto v = ContainerResourceValue(resource, divisor, *container, node);
      if (!v.ok()) return absl::InvalidArgumentError(absl::StrCat(f, ".resourceFieldRef.", v.status().message()));
      value = *std::move(v);
    }
    payload[path] = FileProjection{std::move(value), static_cast<mode_t>(mode)};
  }
  return payload;
}

}  // namespace berth::agent::volume
