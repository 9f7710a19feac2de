#include "hack/berth-cri/query_filters.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace berth::cri_cli {
namespace {

namespace v1 = runtime::v1;

absl::StatusOr<std::optional<std::regex>> RegexFlag(const Invocation& inv, const std::string& flag) {
  if (!inv.Has(flag)) return std::optional<std::regex>();
  try {
    return std::optional<std::regex>(std::regex(inv.Get(flag)));
  } catch (const std::regex_error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("flag --", flag, ": \"", inv.Get(flag), "\" is not a regular expression: ", e.what()));
  }
}

absl::Status LabelFlag(const Invocation& inv,
                       google::protobuf::Map<std::string, std::string>* selector) {
  if (!inv.Has("label")) return absl::OkStatus();
  const std::string label = inv.Get("label");
  const size_t eq = label.find('=');
  if (eq == std::string::npos || eq == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("flag --label: \"", label, "\" is not key=value"));
  }
  (*selector)[label.substr(0, eq)] = label.substr(eq + 1);
  return absl::OkStatus();
}

bool Search(const std::optional<std::regex>& re, const std::string& text) {
  return !re.has_value() || std::regex_search(text, *re);
}

}  // namespace

bool PodQuery::Matches(const v1::PodSandbox& pod) const {
  return Search(name, pod.metadata().name()) && Search(namespace_, pod.metadata().namespace_());
}

bool ContainerQuery::Matches(const v1::Container& container) const {
  return Search(name, container.metadata().name());
}

absl::StatusOr<PodQuery> PodQueryFrom(const Invocation& inv) {
  PodQuery query;
  query.filter.set_id(inv.Get("id"));
  if (inv.Has("state")) {
    const std::string state = absl::AsciiStrToLower(inv.Get("state"));
    if (state == "ready") {
      query.filter.mutable_state()->set_state(v1::SANDBOX_READY);
    } else if (state == "notready") {
      query.filter.mutable_state()->set_state(v1::SANDBOX_NOTREADY);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --state: \"", inv.Get("state"), "\" is not ready or notready"));
    }
  }
  if (absl::Status s = LabelFlag(inv, query.filter.mutable_label_selector()); !s.ok()) return s;
  absl::StatusOr<std::optional<std::regex>> name = RegexFlag(inv, "name");
  if (!name.ok()) return name.status();
  query.name = *name;
  absl::StatusOr<std::optional<std::regex>> ns = RegexFlag(inv, "namespace");
  if (!ns.ok()) return ns.status();
  query.namespace_ = *ns;
  return query;
}

absl::StatusOr<ContainerQuery> ContainerQueryFrom(const Invocation& inv) {
  ContainerQuery query;
  query.filter.set_id(inv.Get("id"));
  query.filter.set_pod_sandbox_id(inv.Get("pod"));
  if (inv.Has("state")) {
    static const std::map<std::string, v1::ContainerState> kStates = {
        {"created", v1::CONTAINER_CREATED},
        {"running", v1::CONTAINER_RUNNING},
        {"exited", v1::CONTAINER_EXITED},
        {"unknown", v1::CONTAINER_UNKNOWN}};
    auto it = kStates.find(absl::AsciiStrToLower(inv.Get("state")));
    if (it == kStates.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "flag --state: \"", inv.Get("state"), "\" is not created, running, exited or unknown"));
    }
    query.filter.mutable_state()->set_state(it->second);
  } else if (!inv.Has("all")) {
    query.filter.mutable_state()->set_state(v1::CONTAINER_RUNNING);
  }
  if (absl::Status s = LabelFlag(inv, query.filter.mutable_label_selector()); !s.ok()) return s;
  absl::StatusOr<std::optional<std::regex>> name = RegexFlag(inv, "name");
  if (!name.ok()) return name.status();
  query.name = *name;
  return query;
}

}  // namespace berth::cri_cli
