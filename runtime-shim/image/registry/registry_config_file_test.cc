#include "runtime-shim/image/registry/registry_config_file.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "absl/strings/match.h"
#include "common/fs.h"

namespace berth::image::registry {
namespace {

TEST(RegistryConfigFileTest, ParsesEveryField) {
  auto config = ParseRegistryConfig(R"(
registries:
  docker.io:
    mirrors: ["https://mirror.example:5000", "http://10.0.0.5:5000/", "plain.example"]
  registry.example:
    ca_file: /dev/null
    auth: {username: alice, password: secret}
  tokens.example:
    auth:
      identity_token: REFRESH
  "10.0.0.5:5000":
    insecure: true
  plain.example:
    insecure: true
)",
                                    "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->hosts.size(), 5u);
  EXPECT_EQ(config->For("docker.io").mirrors,
            (std::vector<std::string>{"https://mirror.example:5000", "http://10.0.0.5:5000/", "plain.example"}));
  EXPECT_EQ(config->For("registry.example").ca_file, "/dev/null");
  EXPECT_EQ(config->For("registry.example").username, "alice");
  EXPECT_EQ(config->For("registry.example").password, "secret");
  EXPECT_EQ(config->For("tokens.example").identity_token, "REFRESH");
  EXPECT_TRUE(config->For("10.0.0.5:5000").insecure);
  EXPECT_FALSE(config->For("registry.example").insecure);
}

TEST(RegistryConfigFileTest, EmptyAndMissingFiles) {
  auto empty = ParseRegistryConfig("", "empty.yaml");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->hosts.empty());
  auto missing = LoadRegistryConfig("/nonexistent/registries.yaml", /*missing_ok=*/true);
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_TRUE(missing->hosts.empty());
  auto required = LoadRegistryConfig("/nonexistent/registries.yaml", /*missing_ok=*/false);
  EXPECT_TRUE(absl::IsNotFound(required.status())) << required.status();
}

TEST(RegistryConfigFileTest, LoadsAFile) {
  char dir[] = "/tmp/berth-regconf-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/registries.yaml";
  ASSERT_TRUE(AtomicWriteFile(path, "registries:\n  a.example:\n    insecure: true\n").ok());
  auto config = LoadRegistryConfig(path, false);
  (void)RemoveAll(dir);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->For("a.example").insecure);
}

// Each bad input is refused with an error naming the key path and the value.
TEST(RegistryConfigFileTest, BadInputNamesTheKeyAndValue) {
  struct Case {
    const char* yaml;
    std::vector<std::string> named;
  } cases[] = {
      {"registrys: {}", {"registrys", "unknown key"}},
      {"registries: [a]", {"registries", "mapping"}},
      {"registries:\n  docker.io:\n    mirrorz: []", {"registries.docker.io.mirrorz", "unknown key"}},
      {"registries:\n  docker.io:\n    mirrors: mirror.example", {"registries.docker.io.mirrors", "list"}},
      {"registries:\n  docker.io:\n    mirrors: [\"https://m.example/path\"]",
       {"registries.docker.io.mirrors[0]", "https://m.example/path"}},
      {"registries:\n  docker.io:\n    mirrors: [\"ftp://m.example\"]", {"mirrors[0]", "ftp://m.example"}},
      {"registries:\n  docker.io:\n    mirrors: [\"m.example:99999\"]", {"mirrors[0]", "m.example:99999"}},
      {"registries:\n  a.example:\n    insecure: yes-please", {"registries.a.example.insecure", "yes-please"}},
      {"registries:\n  a.example:\n    ca_file: relative.pem", {"registries.a.example.ca_file", "relative.pem"}},
      {"registries:\n  a.example:\n    ca_file: /nonexistent/ca.pem", {"ca_file", "/nonexistent/ca.pem", "readable"}},
      {"registries:\n  a.example:\n    auth: {user: alice}", {"registries.a.example.auth.user", "unknown key"}},
      {"registries:\n  a.example:\n    auth: {username: alice}", {"registries.a.example.auth", "together"}},
      {"registries:\n  a.example:\n    auth: {username: a, password: b, identity_token: c}", {"auth", "exclude"}},
      {"registries:\n  \"https://a.example\": {}", {"registries.https://a.example", "host"}},
      {"registries:\n  a.example: [1]", {"registries.a.example", "mapping"}},
      {"registries: {a.example: {insecure: true}\n", {"not YAML"}},
  };
  for (const Case& c : cases) {
    auto config = ParseRegistryConfig(c.yaml, "bad.yaml");
    ASSERT_FALSE(config.ok()) << c.yaml;
    EXPECT_TRUE(absl::IsInvalidArgument(config.status())) << config.status();
    EXPECT_TRUE(absl::StartsWith(config.status().message(), "bad.yaml: ")) << config.status();
    for (const std::string& part : c.named) {
      EXPECT_NE(config.status().message().find(part), std::string::npos)
          << "'" << config.status().message() << "' does not name '" << part << "'";
    }
  }
}

TEST(RegistryConfigFileTest, InsecureHostsMergeIntoTheConfig) {
  auto config = ParseRegistryConfig("registries:\n  a.example:\n    mirrors: [m.example]\n", "x");
  ASSERT_TRUE(config.ok());
  ASSERT_TRUE(AddInsecureHosts(*config, {"a.example", "127.0.0.1:5000"}).ok());
  EXPECT_TRUE(config->For("a.example").insecure);
  EXPECT_EQ(config->For("a.example").mirrors, std::vector<std::string>{"m.example"});
  EXPECT_TRUE(config->For("127.0.0.1:5000").insecure);
  absl::Status bad = AddInsecureHosts(*config, {"http://b.example"});
  EXPECT_TRUE(absl::IsInvalidArgument(bad));
  EXPECT_NE(bad.message().find("http://b.example"), std::string::npos);
  EXPECT_FALSE(config->hosts.count("http://b.example"));
}

TEST(RegistryConfigFileTest, ResolvePrintsEndpointsInOrder) {
  auto config = ParseRegistryConfig(R"(
registries:
  docker.io:
    mirrors: ["https://mirror.example:5000", "http://10.0.0.5:5000", "local.example"]
  local.example:
    insecure: true
  "127.0.0.1:5000":
    insecure: true
)",
                                    "x");
  ASSERT_TRUE(config.ok()) << config.status();
  auto urls = ResolveManifestUrls(*config, "busybox");
  ASSERT_TRUE(urls.ok()) << urls.status();
  EXPECT_EQ(*urls, (std::vector<std::string>{
                       "https://mirror.example:5000/v2/library/busybox/manifests/latest",
                       "http://10.0.0.5:5000/v2/library/busybox/manifests/latest",
                       "http://local.example/v2/library/busybox/manifests/latest",
                       "https://registry-1.docker.io/v2/library/busybox/manifests/latest",
                   }));
  std::string digest = "sha256:" + std::string(64, 'a');
  urls = ResolveManifestUrls(*config, "127.0.0.1:5000/team/app:1.0@" + digest);
  ASSERT_TRUE(urls.ok()) << urls.status();
  EXPECT_EQ(*urls, std::vector<std::string>{"http://127.0.0.1:5000/v2/team/app/manifests/" + digest});
  urls = ResolveManifestUrls(*config, "quay.io/org/app:2");
  ASSERT_TRUE(urls.ok());
  EXPECT_EQ(*urls, std::vector<std::string>{"https://quay.io/v2/org/app/manifests/2"});
  EXPECT_TRUE(absl::IsInvalidArgument(ResolveManifestUrls(*config, "UPPER/case").status()));
}

}  // namespace
}  // namespace berth::image::registry
