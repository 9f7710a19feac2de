#include "api/k8s/static_pod.h"

#include <openssl/evp.h>

#include <cctype>
#include <memory>

#include "api/k8s/codec.h"

namespace berth::k8s {

std::string StaticPodUid(const Pod& pod, const std::string& node_name, const std::string& source) {
  Pod copy = pod;
  copy.metadata.uid.clear();
  std::string data = EncodePodJson(copy) + "host:" + node_name + "file:" + source;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_md5(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

std::string StaticPodName(const std::string& name, const std::string& node_name) {
  std::string node = node_name;
  for (char& c : node) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name + "-" + node;
}

}  // namespace berth::k8s
