// coordination.k8s.io/v1 Lease, discovery.k8s.io/v1 EndpointSlice and
// events.k8s.io/v1 Event: validation, Table columns, selectable fields.
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/k8s/kinds/kind_builders.h"
#include "api/k8s/kinds/table_cells.h"

namespace berth::k8s::kinds {
namespace {

using json = nlohmann::json;

void ConfigureLease(KindInfo& k) {
  AddValidation(k, [](const json& obj, const json*, std::vector<FieldError>& errs) {
    const json& duration = At(obj, "spec.leaseDurationSeconds");
    if (duration.is_number_integer() && duration.get<int64_t>() <= 0) {
      errs.push_back(Invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"));
    }
    const json& transitions = At(obj, "spec.leaseTransitions");
    if (transitions.is_number_integer() && transitions.get<int64_t>() < 0) {
      errs.push_back(Invalid("spec.leaseTransitions", transitions, "must be greater than or equal to 0"));
    }
  });
  k.columns = {NameColumn(), Column("Holder", "string", "The holder of the lease."), AgeColumn()};
  k.row_cells = [](const json& obj) {
    return std::vector<json>{StringAt(obj, "metadata.name"), StringAt(obj, "spec.holderIdentity"),
                             Age(At(obj, "metadata.creationTimestamp"))};
  };
}

std::string SlicePorts(const json& slice) {
  const json& ports = At(slice, "ports");
  if (!ports.is_array() || ports.empty()) return "<unset>";
  std::vector<std::string> out;
  for (const auto& p : ports) {
    if (out.size() == 3) break;
    out.push_back(At(p, "port").is_number() ? std::to_string(IntAt(p, "port")) : "<unset>");
  }
  std::string s = absl::StrJoin(out, ",");
  if (ports.size() > 3) s += absl::StrCat(" + ", ports.size() - 3, " more...");
  return s;
}

std::string SliceEndpoints(const json& slice) {
  std::vector<std::string> addrs;
  size_t total = 0;
  if (const json& eps = At(slice, "endpoints"); eps.is_array()) {
    for (const auto& e : eps) {
      if (const json& a = At(e, "addresses"); a.is_array()) {
        for (const auto& x : a) {
          ++total;
          if (addrs.size() < 3 && x.is_string()) addrs.push_back(x.get<std::string>());
        }
      }
    }
  }
  if (addrs.empty()) return "<unset>";
  std::string s = absl::StrJoin(addrs, ",");
  if (total > addrs.size()) s += absl::StrCat(" + ", total - addrs.size(), " more...");
  return s;
}

void ConfigureEndpointSlice(KindInfo& k) {
  k.set_defaults = [](json& obj) {
    if (obj.contains("ports") && obj["ports"].is_array()) {
      for (auto& p : obj["ports"]) {
        if (p.is_object() && StringAt(p, "protocol").empty()) p["protocol"] = "TCP";
        if (p.is_object() && !p.contains("name")) p["name"] = "";
      }
    }
  };
  AddValidation(k, [](const json& obj, const json* old, std::vector<FieldError>& errs) {
    std::string type = StringAt(obj, "addressType");
    if (type.empty()) {
      errs.push_back(Required("addressType"));
    } else if (type != "IPv4" && type != "IPv6" && type != "FQDN") {
      errs.push_back(NotSupported("addressType", type, {"FQDN", "IPv4", "IPv6"}));
    }
    if (const json& eps = At(obj, "endpoints"); eps.is_array()) {
      for (size_t i = 0; i < eps.size(); ++i) {
        const json& a = At(eps[i], "addresses");
        std::string p = absl::StrCat("endpoints[", i, "].addresses");
        if (!a.is_array() || a.empty()) {
          errs.push_back(Required(p, "must contain at least 1 address"));
        } else if (a.size() > 100) {
          errs.push_back({"FieldValueTooMany", p, absl::StrCat("Too many: ", a.size(), ": must have at most 100 items")});
        }
      }
    }
    if (old != nullptr && StringAt(*old, "addressType") != type) {
      errs.push_back(Invalid("addressType", type, "field is immutable"));
    }
  });
  k.columns = {NameColumn(), Column("AddressType", "string", "The IP protocol family of the addresses."),
               Column("Ports", "string", "The ports of the slice."),
               Column("Endpoints", "string", "The addresses of the endpoints (the first three)."), AgeColumn()};
  k.row_cells = [](const json& obj) {
    return std::vector<json>{StringAt(obj, "metadata.name"), StringAt(obj, "addressType"), SlicePorts(obj),
                             SliceEndpoints(obj), Age(At(obj, "metadata.creationTimestamp"))};
  };
}

// events.k8s.io/v1 Event: the same printer as core/v1's, fields renamed.
void ConfigureEventsEvent(KindInfo& k) {
  AddValidation(k, [](const json& obj, const json*, std::vector<FieldError>& errs) {
    if (!At(obj, "eventTime").is_string()) errs.push_back(Required("eventTime"));
    std::string type = StringAt(obj, "type");
    if (type.empty()) {
      errs.push_back(Required("type"));
    } else if (type != "Normal" && type != "Warning") {
      errs.push_back(NotSupported("type", type, {"Normal", "Warning"}));
    }
    for (const char* f : {"reportingController", "reportingInstance", "action", "reason"}) {
      if (StringAt(obj, f).empty()) errs.push_back(Required(f));
    }
    if (StringAt(obj, "note").size() > 1024) {
      errs.push_back({"FieldValueTooLong", "note", "Too long: may not be longer than 1024"});
    }
  });
  k.columns = EventColumns();
  k.row_cells = [](const json& obj) {
    std::string kind = StringAt(obj, "regarding.kind");
    for (char& c : kind) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const json& last = At(obj, "series.lastObservedTime").is_string() ? At(obj, "series.lastObservedTime")
                       : At(obj, "deprecatedLastTimestamp").is_string() ? At(obj, "deprecatedLastTimestamp")
                                                                        : At(obj, "eventTime");
    const json& first = At(obj, "deprecatedFirstTimestamp").is_string() ? At(obj, "deprecatedFirstTimestamp")
                                                                        : At(obj, "eventTime");
    int64_t count = IntAt(obj, "series.count") > 0 ? IntAt(obj, "series.count") : IntAt(obj, "deprecatedCount");
    std::string source = StringAt(obj, "reportingController");
    if (source.empty()) source = StringAt(obj, "deprecatedSource.component");
    return std::vector<json>{Age(last), StringAt(obj, "type"), StringAt(obj, "reason"),
                             kind + "/" + StringAt(obj, "regarding.name"), StringAt(obj, "regarding.fieldPath"),
                             source, StringAt(obj, "note"), Age(first), std::to_string(count),
                             StringAt(obj, "metadata.name")};
  };
  AddFields(k, [](const json& obj, std::string_view f) -> std::optional<std::string> {
    static const std::set<std::string, std::less<>> kRegarding = {
        "kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"};
    if (f.starts_with("regarding.") && kRegarding.count(f.substr(10))) {
      return StringAt(obj, std::string("regarding.") + std::string(f.substr(10)));
    }
    if (f == "reason" || f == "type" || f == "reportingController") return StringAt(obj, f);
    return std::nullopt;
  });
}

}  // namespace

std::vector<TableColumn> EventColumns() {
  std::vector<TableColumn> cols = {
      Column("Last Seen", "string", "Time since the event was last seen."),
      Column("Type", "string", "Normal or Warning."),
      Column("Reason", "string", "Short reason for the event."),
      Column("Object", "string", "The object the event is about."),
      Column("Subobject", "string", "The part of the object the event is about.", 1),
      Column("Source", "string", "The component that reported the event.", 1),
      Column("Message", "string", "A human-readable description."),
      Column("First Seen", "string", "Time since the event was first seen.", 1),
      Column("Count", "string", "Number of occurrences.", 1),
      Column("Name", "string", "Name of the event.", 1)};
  cols.back().format = "name";
  return cols;
}

void ConfigureOtherKind(KindInfo& k) {
  if (k.kind == "Lease") ConfigureLease(k);
  if (k.kind == "EndpointSlice") ConfigureEndpointSlice(k);
  if (k.group == "events.k8s.io" && k.kind == "Event") ConfigureEventsEvent(k);
}

}  // namespace berth::k8s::kinds
