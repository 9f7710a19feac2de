// Read-only commands: version, info, images, pods, ps, inspect, inspectp.
#include <chrono>
#include <cstdio>
#include <map>
#include <regex>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "hack/berth-cri/commands.h"
#include "hack/berth-cri/display.h"
#include "hack/berth-cri/proto_json.h"
#include "hack/berth-cri/query_filters.h"

namespace berth::cri_cli {
namespace {

namespace v1 = runtime::v1;

std::unique_ptr<grpc::ClientContext> CallContext(const Invocation& inv) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(absl::ToInt64Milliseconds(inv.timeout)));
  return context;
}

absl::Status PrintJson(const google::protobuf::Message& message) {
  absl::StatusOr<std::string> json = ToJson(message);
  if (!json.ok()) return json.status();
  std::fputs(json->c_str(), stdout);
  return absl::OkStatus();
}

absl::Status CheckOutputFormat(const Invocation& inv) {
  const std::string format = inv.Get("output", "table");
  if (format != "table" && format != "json") {
    return absl::InvalidArgumentError(
        absl::StrCat("flag --output: \"", format, "\" is not json or table"));
  }
  return absl::OkStatus();
}

std::string PodState(v1::PodSandboxState state) {
  return state == v1::SANDBOX_READY ? "Ready" : "NotReady";
}

std::string ContainerState(v1::ContainerState state) {
  switch (state) {
    case v1::CONTAINER_CREATED: return "Created";
    case v1::CONTAINER_RUNNING: return "Running";
    case v1::CONTAINER_EXITED: return "Exited";
    default: return "Unknown";
  }
}

}  // namespace

absl::StatusOr<int> VersionCommand(const Invocation& inv, CriClient& client) {
  absl::StatusOr<v1::VersionResponse> version = client.Version();
  if (!version.ok()) return version.status();
  std::printf("Version:  %s\nRuntimeName:  %s\nRuntimeVersion:  %s\nRuntimeApiVersion:  %s\n",
              version->version().c_str(), version->runtime_name().c_str(),
              version->runtime_version().c_str(), version->runtime_api_version().c_str());
  return 0;
}

absl::StatusOr<int> InfoCommand(const Invocation& inv, CriClient& client) {
  v1::StatusRequest request;
  request.set_verbose(true);
  v1::StatusResponse response;
  auto context = CallContext(inv);
  absl::Status status =
      e2e::FromGrpcStatus(client.runtime().Status(context.get(), request, &response), "Status");
  if (!status.ok()) return status;
  absl::StatusOr<std::string> json = StatusWithInfoJson(response.status(), response.info());
  if (!json.ok()) return json.status();
  std::fputs(json->c_str(), stdout);
  return 0;
}

absl::StatusOr<int> ImagesCommand(const Invocation& inv, CriClient& client) {
  if (absl::Status s = CheckOutputFormat(inv); !s.ok()) return s;
  v1::ListImagesRequest request;
  if (!inv.args.empty()) request.mutable_filter()->mutable_image()->set_image(inv.args[0]);
  v1::ListImagesResponse response;
  auto context = CallContext(inv);
  absl::Status status = e2e::FromGrpcStatus(
      client.images().ListImages(context.get(), request, &response), "ListImages");
  if (!status.ok()) return status;
  if (inv.Get("output") == "json") {
    if (absl::Status s = PrintJson(response); !s.ok()) return s;
    return 0;
  }
  const bool full = inv.Has("no-trunc");
  if (inv.Has("quiet")) {
    for (const auto& image : response.images()) std::printf("%s\n", image.id().c_str());
    return 0;
  }
  Table table({"IMAGE", "TAG", "IMAGE ID", "SIZE"});
  for (const auto& image : response.images()) {
    const std::string id = ShortId(image.id(), full);
    const std::string size = HumanSize(image.size());
    if (image.repo_tags().empty()) table.AddRow({"<none>", "<none>", id, size});
    for (const std::string& tag : image.repo_tags()) {
      auto [repo, version] = SplitRepoTag(tag);
      table.AddRow({repo, version, id, size});
    }
  }
  std::fputs(table.Render().c_str(), stdout);
  return 0;
}

absl::StatusOr<int> PodsCommand(const Invocation& inv, CriClient& client) {
  if (absl::Status s = CheckOutputFormat(inv); !s.ok()) return s;
  absl::StatusOr<PodQuery> query = PodQueryFrom(inv);
  if (!query.ok()) return query.status();
  absl::StatusOr<std::vector<v1::PodSandbox>> pods = client.ListPodSandbox(query->filter);
  if (!pods.ok()) return pods.status();
  v1::ListPodSandboxResponse shown;
  for (const auto& pod : *pods) {
    if (query->Matches(pod)) *shown.add_items() = pod;
  }
  if (inv.Get("output") == "json") {
    if (absl::Status s = PrintJson(shown); !s.ok()) return s;
    return 0;
  }
  if (inv.Has("quiet")) {
    for (const auto& pod : shown.items()) std::printf("%s\n", pod.id().c_str());
    return 0;
  }
  const absl::Time now = absl::Now();
  Table table({"POD ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT", "RUNTIME"});
  for (const auto& pod : shown.items()) {
    table.AddRow({ShortId(pod.id(), inv.Has("no-trunc")), HumanAgo(pod.created_at(), now),
                  PodState(pod.state()), pod.metadata().name(), pod.metadata().namespace_(),
                  absl::StrCat(pod.metadata().attempt()),
                  pod.runtime_handler().empty() ? "(default)" : pod.runtime_handler()});
  }
  std::fputs(table.Render().c_str(), stdout);
  return 0;
}

absl::StatusOr<int> PsCommand(const Invocation& inv, CriClient& client) {
  if (absl::Status s = CheckOutputFormat(inv); !s.ok()) return s;
  absl::StatusOr<ContainerQuery> query = ContainerQueryFrom(inv);
  if (!query.ok()) return query.status();
  absl::StatusOr<std::vector<v1::Container>> containers = client.ListContainers(query->filter);
  if (!containers.ok()) return containers.status();
  v1::ListContainersResponse shown;
  for (const auto& container : *containers) {
    if (query->Matches(container)) *shown.add_containers() = container;
  }
  if (inv.Get("output") == "json") {
    if (absl::Status s = PrintJson(shown); !s.ok()) return s;
    return 0;
  }
  if (inv.Has("quiet")) {
    for (const auto& container : shown.containers()) std::printf("%s\n", container.id().c_str());
    return 0;
  }
  std::map<std::string, std::string> pod_names;
  if (absl::StatusOr<std::vector<v1::PodSandbox>> pods = client.ListPodSandbox(); pods.ok()) {
    for (const auto& pod : *pods) pod_names[pod.id()] = pod.metadata().name();
  }
  const bool full = inv.Has("no-trunc");
  const absl::Time now = absl::Now();
  Table table({"CONTAINER", "IMAGE", "CREATED", "STATE", "NAME", "ATTEMPT", "POD ID", "POD"});
  for (const auto& c : shown.containers()) {
    std::string image = c.image().image();
    if (image.empty() || image.rfind("sha256:", 0) == 0) image = ShortId(c.image_ref(), full);
    table.AddRow({ShortId(c.id(), full), image, HumanAgo(c.created_at(), now),
                  ContainerState(c.state()), c.metadata().name(), absl::StrCat(c.metadata().attempt()),
                  ShortId(c.pod_sandbox_id(), full), pod_names[c.pod_sandbox_id()]});
  }
  std::fputs(table.Render().c_str(), stdout);
  return 0;
}

absl::StatusOr<int> InspectCommand(const Invocation& inv, CriClient& client) {
  for (const std::string& id : inv.args) {
    absl::StatusOr<v1::ContainerStatusResponse> status = client.ContainerStatus(id, true);
    if (!status.ok()) return status.status();
    absl::StatusOr<std::string> json = StatusWithInfoJson(status->status(), status->info());
    if (!json.ok()) return json.status();
    std::fputs(json->c_str(), stdout);
  }
  return 0;
}

absl::StatusOr<int> InspectPodCommand(const Invocation& inv, CriClient& client) {
  for (const std::string& id : inv.args) {
    absl::StatusOr<v1::PodSandboxStatusResponse> status = client.PodSandboxStatus(id, true);
    if (!status.ok()) return status.status();
    absl::StatusOr<std::string> json = StatusWithInfoJson(status->status(), status->info());
    if (!json.ok()) return json.status();
    std::fputs(json->c_str(), stdout);
  }
  return 0;
}

}  // namespace berth::cri_cli
