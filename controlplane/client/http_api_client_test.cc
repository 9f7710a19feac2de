// HttpApiClient against a real berth-controlplane on 127.0.0.1 (its own
// network namespace and temporary PKI): the verbs, the API's errors as
// Status codes, connection reuse, watches, and kubeconfig errors.
#include "controlplane/client/http_api_client.h"

#include <stdlib.h>

#include <condition_variable>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "controlplane/client/watch_event_line.h"
#include "e2e/controlplane/controlplane_process.h"
#include "e2e/controlplane/netns_environment.h"

namespace berth::client {
namespace {

using ::testing::HasSubstr;

const auto* const kNetns = ::testing::AddGlobalTestEnvironment(new e2e::NetnsEnvironment("berth-httpc-"));

nlohmann::json ConfigMap(const std::string& name, const std::string& value) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"labels", {{"app", "httpc"}}}}},
          {"data", {{"k", value}}}};
}

class HttpApiClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/berth-httpc-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = new std::string(tmpl);
    auto cp = e2e::ControlPlaneProcess::Start({.root = *root_});
    ASSERT_TRUE(cp.ok()) << cp.status();
    cp_ = cp->release();
  }
  static void TearDownTestSuite() {
    delete cp_;
    cp_ = nullptr;
    if (root_) (void)RemoveAll(*root_);
    delete root_;
  }
  void SetUp() override { ASSERT_NE(cp_, nullptr); }
  void TearDown() override {
    if (HasFailure() && cp_) std::cerr << "controlplane log:\n" << cp_->LogTail() << "\n";
  }

  std::unique_ptr<HttpApiClient> Client(const std::string& user) {
    auto kubeconfig = cp_->Kubeconfig(user);
    EXPECT_TRUE(kubeconfig.ok()) << kubeconfig.status();
    auto client = HttpApiClient::FromKubeconfig(*kubeconfig);
    EXPECT_TRUE(client.ok()) << client.status();
    return client.ok() ? std::move(*client) : nullptr;
  }

  static std::string* root_;
  static e2e::ControlPlaneProcess* cp_;
};
std::string* HttpApiClientTest::root_ = nullptr;
e2e::ControlPlaneProcess* HttpApiClientTest::cp_ = nullptr;

TEST_F(HttpApiClientTest, VerbsOverOneKeptAliveConnection) {
  auto client = Client("admin");
  ASSERT_NE(client, nullptr);
  auto created = client->Create(resources::kConfigMaps, "default", ConfigMap("one", "a"));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_FALSE(created->value("/metadata/uid"_json_pointer, "").empty());

  auto got = client->Get(resources::kConfigMaps, "default", "one");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->value("/data/k"_json_pointer, ""), "a");

  ASSERT_TRUE(client->Create(resources::kConfigMaps, "default", ConfigMap("two", "b")).ok());
  auto listed = client->List(resources::kConfigMaps, "default", {.label_selector = "app in (httpc)"});
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ((*listed)["items"].size(), 2u);
  auto by_name = client->List(resources::kConfigMaps, "default", {.field_selector = "metadata.name=two"});
  ASSERT_TRUE(by_name.ok()) << by_name.status();
  ASSERT_EQ((*by_name)["items"].size(), 1u);

  // Update with the current resourceVersion works; with the old one it conflicts.
  nlohmann::json changed = *got;
  changed["data"]["k"] = "a2";
  auto updated = client->Update(resources::kConfigMaps, "default", changed);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->value("/data/k"_json_pointer, ""), "a2");
  auto stale = client->Update(resources::kConfigMaps, "default", changed);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted) << stale.status();

  auto patched = client->Patch(resources::kConfigMaps, "default", "one", PatchType::kMerge, {{"data", {{"p", "1"}}}});
  ASSERT_TRUE(patched.ok()) << patched.status();
  EXPECT_EQ(patched->value("/data/p"_json_pointer, ""), "1");
  EXPECT_EQ(patched->value("/data/k"_json_pointer, ""), "a2");
  auto json_patched = client->Patch(resources::kConfigMaps, "default", "one", PatchType::kJson,
                                    nlohmann::json::array({{{"op", "remove"}, {"path", "/data/p"}}}));
  ASSERT_TRUE(json_patched.ok()) << json_patched.status();
  EXPECT_FALSE((*json_patched)["data"].contains("p"));

  ASSERT_TRUE(client->Delete(resources::kConfigMaps, "default", "one").ok());
  ASSERT_TRUE(client->Delete(resources::kConfigMaps, "default", "two").ok());
  auto gone = client->Get(resources::kConfigMaps, "default", "one");
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound) << gone.status();
  EXPECT_THAT(std::string(gone.status().message()), HasSubstr("\"one\" not found"));
  // Eleven requests, one after another: one connection.
  EXPECT_EQ(client->connections_opened(), 1);
}

TEST_F(HttpApiClientTest, ApiErrorsBecomeStatusCodes) {
  auto admin = Client("admin");
  ASSERT_NE(admin, nullptr);
  auto dup = admin->Create(resources::kNamespaces, "", {{"apiVersion", "v1"}, {"kind", "Namespace"},
                                                        {"metadata", {{"name", "default"}}}});
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists) << dup.status();
  auto invalid = admin->Create(resources::kConfigMaps, "default", ConfigMap("Not_Valid", "x"));
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument) << invalid.status();
  EXPECT_THAT(std::string(invalid.status().message()), HasSubstr("Not_Valid"));

  // The node n1 may not write another node.
  auto node = Client("node1");
  ASSERT_NE(node, nullptr);
  nlohmann::json n2 = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "n2"}}}};
  ASSERT_TRUE(admin->Create(resources::kNodes, "", n2).ok());
  auto denied = node->Patch(resources::kNodes, "", "n2", PatchType::kMerge,
                            {{"metadata", {{"labels", {{"x", "y"}}}}}});
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied) << denied.status();
  EXPECT_THAT(std::string(denied.status().message()), HasSubstr("n2"));
  ASSERT_TRUE(admin->Delete(resources::kNodes, "", "n2").ok());

  // A client certificate from another CA fails the handshake; nothing listening is Unavailable.
  auto intruder = Client("intruder");
  ASSERT_NE(intruder, nullptr);
  EXPECT_FALSE(intruder->Get(resources::kNamespaces, "", "default").ok());
  KubeconfigCredentials nowhere;
  nowhere.server = "https://127.0.0.1:1";
  auto closed = HttpApiClient::Create(nowhere);
  ASSERT_TRUE(closed.ok());
  auto refused = (*closed)->Get(resources::kNamespaces, "", "default");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable) << refused.status();
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("127.0.0.1:1"));
}

TEST_F(HttpApiClientTest, ThreadsShareASmallPool) {
  auto client = Client("admin");
  ASSERT_NE(client, nullptr);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        if (!client->Get(resources::kNamespaces, "", "default").ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_LE(client->connections_opened(), 6);  // at most one per concurrent caller, not one per request
  EXPECT_GE(client->connections_opened(), 1);
}

TEST_F(HttpApiClientTest, WatchDeliversEventsInOrderAndStops) {
  auto client = Client("admin");
  ASSERT_NE(client, nullptr);
  auto list = client->List(resources::kConfigMaps, "kube-public");
  ASSERT_TRUE(list.ok()) << list.status();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<WatchEvent::Type, std::string>> seen;
  bool ended = false;
  auto watch = client->Watch(
      resources::kConfigMaps, "kube-public",
      {.field_selector = "metadata.name=w", .resource_version = (*list)["metadata"].value("resourceVersion", "")},
      [&](WatchEvent e) {
        std::lock_guard<std::mutex> lock(mu);
        seen.emplace_back(e.type, e.object.value("/data/k"_json_pointer, ""));
        cv.notify_all();
      },
      [&](absl::Status) {
        std::lock_guard<std::mutex> lock(mu);
        ended = true;
      });
  ASSERT_TRUE(watch.ok()) << watch.status();
  ASSERT_TRUE(client->Create(resources::kConfigMaps, "kube-public", ConfigMap("w", "1")).ok());
  ASSERT_TRUE(client->Patch(resources::kConfigMaps, "kube-public", "w", PatchType::kMerge, {{"data", {{"k", "2"}}}})
                  .ok());
  ASSERT_TRUE(client->Delete(resources::kConfigMaps, "kube-public", "w").ok());
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return seen.size() >= 3; }));
    EXPECT_EQ(seen[0], std::make_pair(WatchEvent::Type::kAdded, std::string("1")));
    EXPECT_EQ(seen[1], std::make_pair(WatchEvent::Type::kModified, std::string("2")));
    EXPECT_EQ(seen[2].first, WatchEvent::Type::kDeleted);
  }
  auto begin = std::chrono::steady_clock::now();
  (*watch)->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::milliseconds(500));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_FALSE(ended);  // Stop is not an end of its own
}

TEST_F(HttpApiClientTest, WatchRefusedOrEndedByTheServer) {
  // The node may not watch leases: the watch fails at once.
  auto node = Client("node1");
  ASSERT_NE(node, nullptr);
  auto refused = node->Watch(resources::kLeases, "kube-node-lease", {}, [](WatchEvent) {}, [](absl::Status) {});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied) << refused.status();

  // timeoutSeconds: the server ends it; on_end gets OK.
  auto admin = Client("admin");
  ASSERT_NE(admin, nullptr);
  std::mutex mu;
  std::condition_variable cv;
  std::optional<absl::Status> end;
  auto watch = admin->Watch(resources::kConfigMaps, "default", {.timeout_seconds = 1}, [](WatchEvent) {},
                            [&](absl::Status s) {
                              std::lock_guard<std::mutex> lock(mu);
                              end = s;
                              cv.notify_all();
                            });
  ASSERT_TRUE(watch.ok()) << watch.status();
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return end.has_value(); }));
  EXPECT_TRUE(end->ok()) << *end;
}

TEST(KubeconfigTest, InlineDataAndFieldErrors) {
  std::string ca = absl::Base64Escape("CA PEM");
  auto text = [&](const std::string& user) {
    return absl::StrCat("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://h:6443/\n",
                        "    certificate-authority-data: ", ca, "\nusers:\n- name: u\n  user:\n", user,
                        "contexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n");
  };
  auto ok = ParseKubeconfig(text(absl::StrCat("    client-certificate-data: ", absl::Base64Escape("CERT"),
                                             "\n    client-key-data: ", absl::Base64Escape("KEY"), "\n")),
                            "/nonexistent");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->server, "https://h:6443");
  EXPECT_EQ(ok->ca_pem, "CA PEM");
  EXPECT_EQ(ok->client_cert_pem, "CERT");
  EXPECT_EQ(ok->client_key_pem, "KEY");

  auto token = ParseKubeconfig(text("    token: abc.def\n"), "/");
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->token, "abc.def");

  auto bad_b64 = ParseKubeconfig(text("    client-key-data: '***'\n    client-certificate-data: Q0VSVA==\n"), "/");
  EXPECT_THAT(std::string(bad_b64.status().message()), HasSubstr("users[0].user.client-key-data: not base64"));
  auto no_key = ParseKubeconfig(text("    client-certificate-data: Q0VSVA==\n"), "/");
  EXPECT_THAT(std::string(no_key.status().message()), HasSubstr("users[0].user.client-key: not set"));
  auto missing_file = ParseKubeconfig(text("    client-certificate: cert.pem\n    client-key: key.pem\n"), "/nonexistent");
  EXPECT_THAT(std::string(missing_file.status().message()), HasSubstr("users[0].user.client-certificate"));
  auto other_context = ParseKubeconfig(text("    token: t\n"), "/", "y");
  EXPECT_THAT(std::string(other_context.status().message()), HasSubstr("contexts: no entry named \"y\""));
  auto no_server = ParseKubeconfig(
      "clusters:\n- name: c\n  cluster: {}\ncontexts:\n- name: x\n  context: {cluster: c}\ncurrent-context: x\n", "/");
  EXPECT_THAT(std::string(no_server.status().message()), HasSubstr("clusters[0].cluster.server: not set"));
  auto not_url = ParseKubeconfig(
      "clusters:\n- name: c\n  cluster: {server: 'h:6443'}\ncontexts:\n- name: x\n  context: {cluster: c}\n"
      "current-context: x\n", "/");
  EXPECT_THAT(std::string(not_url.status().message()), HasSubstr("\"h:6443\" is not an http(s) URL"));
  auto missing = LoadKubeconfig("/nonexistent/kubeconfig");
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("/nonexistent/kubeconfig"));
}

TEST(WatchEventLineTest, EventsErrorsAndJunk) {
  auto added = DecodeWatchEventLine(R"({"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"a"}}})");
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->type, WatchEvent::Type::kAdded);
  EXPECT_EQ(added->object["metadata"]["name"], "a");
  EXPECT_EQ(DecodeWatchEventLine(R"({"type":"BOOKMARK","object":{}})")->type, WatchEvent::Type::kBookmark);
  auto gone = DecodeWatchEventLine(
      R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version"}})");
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(std::string(gone.status().message()), HasSubstr("too old resource version"));
  EXPECT_EQ(DecodeWatchEventLine("not json").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(DecodeWatchEventLine(R"({"type":"RENAMED"})").status().message()), HasSubstr("RENAMED"));
}

}  // namespace
}  // namespace berth::client
