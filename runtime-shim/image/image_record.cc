#include "runtime-shim/image/image_record.h"

#include "nlohmann/json.hpp"

namespace berth::image {

using json = nlohmann::json;

std::string EncodeImageRecord(const ImageRecord& record) {
  const Image& image = record.image;
  json doc = {
      {"id", image.id},
      {"repo_tags", image.repo_tags},
      {"repo_digests", image.repo_digests},
      {"size", image.size},
      {"user", image.user},
      {"entrypoint", image.entrypoint},
      {"cmd", image.cmd},
      {"env", image.env},
      {"working_dir", image.working_dir},
      {"labels", image.labels},
      {"stop_signal", image.stop_signal},
      {"chain_ids", image.chain_ids},
      {"manifest_digests", record.manifest_digests},
      {"layer_digests", record.layer_digests},
  };
  return doc.dump(2);
}

absl::StatusOr<ImageRecord> DecodeImageRecord(const std::string& text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return absl::DataLossError("image record: not a JSON object");
  try {
    ImageRecord record;
    Image& image = record.image;
    image.id = doc.at("id").get<std::string>();
    image.repo_tags = doc.value("repo_tags", std::vector<std::string>{});
    image.repo_digests = doc.value("repo_digests", std::vector<std::string>{});
    image.size = doc.value("size", uint64_t{0});
    image.user = doc.value("user", "");
    image.entrypoint = doc.value("entrypoint", std::vector<std::string>{});
    image.cmd = doc.value("cmd", std::vector<std::string>{});
    image.env = doc.value("env", std::vector<std::string>{});
    image.working_dir = doc.value("working_dir", "");
    image.labels = doc.value("labels", std::map<std::string, std::string>{});
    image.stop_signal = doc.value("stop_signal", "");
    image.chain_ids = doc.value("chain_ids", std::vector<std::string>{});
    record.manifest_digests = doc.value("manifest_digests", std::vector<std::string>{});
    record.layer_digests = doc.value("layer_digests", std::vector<std::string>{});
    return record;
  } catch (const json::exception& e) {
    return absl::DataLossError(std::string("image record: ") + e.what());
  }
}

}  // namespace berth::image
