// CRI ImageService over the local image store. PullImage from registries is
// its own issue: until then it answers for images already on the node.
#include <sys/statvfs.h>

#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/time.h"
#include "runtime-shim/cri/runtime.h"

namespace berth {
namespace {

void FillImage(const image::Image& in, cri::Image* out) {
  out->set_id(in.id);
  for (const auto& t : in.repo_tags) out->add_repo_tags(t);
  for (const auto& d : in.repo_digests) out->add_repo_digests(d);
  out->set_size(in.size);
  // As the kubelet reads it: a numeric user becomes uid, a name username.
  std::string user = std::vector<std::string>(absl::StrSplit(in.user, absl::MaxSplits(':', 1)))[0];
  int64_t uid = 0;
  if (!user.empty() && absl::SimpleAtoi(user, &uid)) {
    out->mutable_uid()->set_value(uid);
  } else if (!user.empty()) {
    out->set_username(user);
  } else {
    out->mutable_uid()->set_value(0);
  }
  out->mutable_spec()->set_image(in.id);
}

}  // namespace

absl::Status Runtime::ListImages(const cri::ListImagesRequest& req, cri::ListImagesResponse* resp) {
  if (!req.filter().image().image().empty()) {
    auto found = images_->Resolve(req.filter().image().image());
    if (found.ok()) FillImage(*found, resp->add_images());
    return absl::OkStatus();
  }
  for (const auto& image : images_->List()) FillImage(image, resp->add_images());
  return absl::OkStatus();
}

absl::Status Runtime::ImageStatus(const cri::ImageStatusRequest& req, cri::ImageStatusResponse* resp) {
  if (req.image().image().empty()) return absl::InvalidArgumentError("image.image: required");
  auto found = images_->Resolve(req.image().image());
  // CRI: an image that is not present is an empty response, not an error.
  if (!found.ok()) return found.status().code() == absl::StatusCode::kNotFound ? absl::OkStatus() : found.status();
  FillImage(*found, resp->mutable_image());
  if (req.verbose()) {
    (*resp->mutable_info())["info"] = absl::StrCat("{\"layers\":", found->chain_ids.size(), "}");
  }
  return absl::OkStatus();
}

absl::Status Runtime::PullImage(const cri::PullImageRequest& req, cri::PullImageResponse* resp) {
  if (req.image().image().empty()) return absl::InvalidArgumentError("image.image: required");
  image::registry::Credentials creds;
  creds.username = req.auth().username();
  creds.password = req.auth().password();
  creds.registry_token = req.auth().registry_token();
  creds.identity_token = req.auth().identity_token();
  if (creds.username.empty() && !req.auth().auth().empty()) {
    // "auth" is base64("user:password"), as in Docker's config.json.
    std::string decoded;
    if (!absl::Base64Unescape(req.auth().auth(), &decoded) || decoded.find(':') == std::string::npos) {
      return absl::InvalidArgumentError("auth.auth: not base64 of \"user:password\"");
    }
    creds.username = decoded.substr(0, decoded.find(':'));
    creds.password = decoded.substr(decoded.find(':') + 1);
  }
  ASSIGN_OR_RETURN(image::Image pulled, puller_->Pull(req.image().image(), creds));
  if (image_gc_) image_gc_->MarkUsed(pulled.id);
  resp->set_image_ref(pulled.id);
  return absl::OkStatus();
}

absl::StatusOr<image::ImageGcResult> Runtime::CollectImageGarbage() {
  std::set<std::string> in_use;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, container] : containers_) in_use.insert(container->image_id);
  }
  return image_gc_->Collect(in_use);
}

void Runtime::ImageGcLoop() {
  std::unique_lock<std::mutex> lock(image_gc_mu_);
  while (!image_gc_cv_.wait_for(lock, absl::ToChronoMilliseconds(options_.image_gc_period),
                                [this] { return image_gc_stop_; })) {
    lock.unlock();
    absl::StatusOr<image::ImageGcResult> result = CollectImageGarbage();
    if (!result.ok()) {
      BERTH_LOG(Warning) << "image gc: " << result.status();
    }
    lock.lock();
  }
}

absl::Status Runtime::RemoveImage(const cri::RemoveImageRequest& req, cri::RemoveImageResponse* resp) {
  if (req.image().image().empty()) return absl::InvalidArgumentError("image.image: required");
  absl::Status status = images_->Remove(req.image().image());
  // Idempotent, as CRI asks.
  if (status.code() == absl::StatusCode::kNotFound) return absl::OkStatus();
  return status;
}

absl::Status Runtime::ImageFsInfo(const cri::ImageFsInfoRequest& req, cri::ImageFsInfoResponse* resp) {
  ASSIGN_OR_RETURN(image::FsUsage usage, images_->Usage());
  auto* fs = resp->add_image_filesystems();
  fs->set_timestamp(NowUnixNanos());
  fs->mutable_fs_id()->set_mountpoint(images_->root());
  fs->mutable_used_bytes()->set_value(usage.used_bytes);
  fs->mutable_inodes_used()->set_value(usage.inodes_used);
  return absl::OkStatus();
}

// ---- runtime-level calls ----

absl::Status Runtime::Version(const cri::VersionRequest& req, cri::VersionResponse* resp) {
  resp->set_version("0.1.0");
  resp->set_runtime_name(options_.runtime_name);
  resp->set_runtime_version(options_.runtime_version);
  resp->set_runtime_api_version("v1");
  return absl::OkStatus();
}

absl::Status Runtime::Status(const cri::StatusRequest& req, cri::StatusResponse* resp) {
  auto* runtime_ready = resp->mutable_status()->add_conditions();
  runtime_ready->set_type("RuntimeReady");
  runtime_ready->set_status(true);
  auto* network_ready = resp->mutable_status()->add_conditions();
  network_ready->set_type("NetworkReady");
  absl::Status network = cni_->NetworkReady();
  network_ready->set_status(network.ok());
  if (!network.ok()) {
    // Pods still get a network namespace with loopback up.
    network_ready->set_reason("NetworkPluginNotReady");
    absl::string_view message = network.message();
    absl::ConsumePrefix(&message, "NetworkPluginNotReady: ");
    network_ready->set_message(std::string(message));
  }
  auto* handler = resp->add_runtime_handlers();
  handler->set_name("");
  if (req.verbose()) {
    (*resp->mutable_info())["config"] = absl::StrCat(
        "{\"stateDir\":\"", options_.state_dir, "\",\"runDir\":\"", options_.run_dir,
        "\",\"cgroupDriver\":\"", cgroups_->Driver(), "\",\"cgroupVersion\":", cgroups_->Version(), "}");
  }
  return absl::OkStatus();
}

absl::Status Runtime::RuntimeConfig(const cri::RuntimeConfigRequest& req, cri::RuntimeConfigResponse* resp) {
  resp->mutable_linux()->set_cgroup_driver(cgroups_->Driver() == "systemd" ? cri::SYSTEMD : cri::CGROUPFS);
  return absl::OkStatus();
}

absl::Status Runtime::UpdateRuntimeConfig(const cri::UpdateRuntimeConfigRequest& req,
                                          cri::UpdateRuntimeConfigResponse* resp) {
  return absl::OkStatus();
}

}  // namespace berth
