#include "agent/images_command.h"

#include <cstdio>

#include "absl/strings/str_join.h"
#include "common/status_macros.h"
#include "runtime-shim/image/image_export.h"
#include "runtime-shim/image/image_store.h"
#include "runtime-shim/image/image_store_check.h"
#include "runtime-shim/image/registry/puller.h"
#include "runtime-shim/image/registry/registry_config_file.h"

namespace berth {
namespace {

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "berth-agent: %s\n", std::string(status.message()).c_str());
  return 1;
}

std::string StoreRoot(const AgentFlags& flags) { return flags.runtime.state_dir + "/images"; }

int Check(const AgentFlags& flags) {
  image::StoreCheckOptions options;
  options.repair = flags.repair;
  options.on_finding = [](const image::StoreFinding& f) {
    std::printf("%s\n", f.Line().c_str());
    std::fflush(stdout);
  };
  absl::StatusOr<image::StoreCheckResult> result = image::CheckImageStore(StoreRoot(flags), options);
  if (!result.ok()) return Fail(result.status());
  size_t found = result->findings.size(), remaining = result->Remaining();
  std::printf("checked %zu image records, %zu snapshots, %zu blobs (digests verified): %zu problems found",
              result->records_seen, result->snapshots_seen, result->blobs_verified, found);
  if (flags.repair) std::printf(", %zu repaired, %zu remain", found - remaining, remaining);
  std::printf("\n");
  return remaining == 0 ? 0 : 1;
}

int Resolve(const AgentFlags& flags, const std::string& ref) {
  absl::StatusOr<image::registry::RegistryConfig> config = LoadAgentRegistryConfig(flags);
  if (!config.ok()) return Fail(config.status());
  absl::StatusOr<std::vector<std::string>> urls = image::registry::ResolveManifestUrls(*config, ref);
  if (!urls.ok()) return Fail(urls.status());
  for (const std::string& url : *urls) std::printf("%s\n", url.c_str());
  return 0;
}

int Pull(const AgentFlags& flags, image::ImageStore& store, const std::string& ref) {
  absl::StatusOr<image::registry::RegistryConfig> config = LoadAgentRegistryConfig(flags);
  if (!config.ok()) return Fail(config.status());
  image::registry::PullOptions options;
  options.max_concurrent_downloads = flags.runtime.max_concurrent_downloads;
  options.progress_deadline = flags.runtime.image_pull_progress_deadline;
  image::registry::Puller puller(&store, std::make_shared<image::registry::RegistryClient>(*config), options);
  absl::StatusOr<image::Image> image = puller.Pull(ref);
  if (!image.ok()) return Fail(image.status());
  std::printf("pulled %s %s\n", image->id.c_str(), absl::StrJoin(image->repo_digests, ",").c_str());
  return 0;
}

// images export REF... -o FILE
int Export(image::ImageStore& store, const std::vector<std::string>& args) {
  std::vector<std::string> refs;
  std::string out;
  for (size_t i = 2; i < args.size(); ++i) {
    if (args[i] == "-o") {
      if (i + 1 >= args.size() || !out.empty()) {
        std::fputs("berth-agent: images export: -o needs one FILE\n", stderr);
        return 2;
      }
      out = args[++i];
      continue;
    }
    refs.push_back(args[i]);
  }
  if (out.empty() || refs.empty()) {
    std::fputs("berth-agent: usage: images export REF... -o FILE\n", stderr);
    return 2;
  }
  absl::Status exported = image::ExportImages(store, refs, out);
  if (!exported.ok()) return Fail(exported);
  std::printf("exported %s to %s\n", absl::StrJoin(refs, " ").c_str(), out.c_str());
  return 0;
}

}  // namespace

absl::StatusOr<image::registry::RegistryConfig> LoadAgentRegistryConfig(const AgentFlags& flags) {
  image::registry::RegistryConfig config;
  if (!flags.registry_config.empty()) {
    ASSIGN_OR_RETURN(config,
                     image::registry::LoadRegistryConfig(flags.registry_config, !flags.registry_config_set));
  }
  RETURN_IF_ERROR(image::registry::AddInsecureHosts(config, flags.runtime.insecure_registries));
  return config;
}

int RunImagesCommand(const AgentFlags& flags) {
  const auto& args = flags.positional;
  std::string sub = args.size() >= 2 ? args[1] : "";
  if (sub == "check" && args.size() == 2) return Check(flags);
  if (sub == "resolve" && args.size() == 3) return Resolve(flags, args[2]);
  if (flags.repair) {
    std::fputs("berth-agent: --repair goes with images check\n", stderr);
    return 2;
  }
  bool known = sub == "export" ? args.size() >= 5 : (sub == "import" || sub == "pull" || sub == "rm") ? args.size() == 3 : sub == "list" && args.size() == 2;
  if (!known) {
    std::fputs(kAgentUsage, stderr);
    return 2;
  }
  auto store = image::ImageStore::Open(StoreRoot(flags));
  if (!store.ok()) return Fail(store.status());
  if (sub == "import") {
    auto imported = (*store)->Import(args[2]);
    if (!imported.ok()) return Fail(imported.status());
    for (const auto& image : *imported) {
      std::printf("imported %s %s\n", image.id.c_str(), absl::StrJoin(image.repo_tags, ",").c_str());
    }
    return 0;
  }
  if (sub == "list") {
    std::printf("%-72s %s\n", "IMAGE ID", "TAGS");
    for (const auto& image : (*store)->List()) {
      std::printf("%-72s %s\n", image.id.c_str(), absl::StrJoin(image.repo_tags, ",").c_str());
    }
    return 0;
  }
  if (sub == "pull") return Pull(flags, **store, args[2]);
  if (sub == "export") return Export(**store, args);
  // rm
  absl::Status removed = (*store)->Remove(args[2]);
  if (!removed.ok()) return Fail(removed);
  std::printf("removed %s\n", args[2].c_str());
  return 0;
}

}  // namespace berth
