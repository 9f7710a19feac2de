// berth-controlplane driven by kubectl 1.32 over HTTPS with client
// certificates from a test CA, on an SQLite store (and a subset on etcd),
// all inside the test's own network namespace.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/fs.h"
#include "controlplane/store/testing/etcd_process.h"
#include "e2e/controlplane/controlplane_process.h"
#include "e2e/controlplane/netns_environment.h"
#include "e2e/runtime_under_test.h"

namespace berth::e2e {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

// Every process the tests start listens and connects on the test's own
// network namespace's loopback.
const auto* const kNetns = ::testing::AddGlobalTestEnvironment(new NetnsEnvironment("berth-cpe2e-"));

std::string MakeRoot(const char* what) {
  std::string tmpl = absl::StrCat("/tmp/berth-cpe2e-", what, "-XXXXXX");
  if (mkdtemp(tmpl.data()) == nullptr) return "";
  return tmpl;
}

// A kubectl running in the background (get -w) with its output in a file.
class BackgroundKubectl {
 public:
  BackgroundKubectl(const std::string& kubeconfig, std::vector<std::string> args, const std::string& out)
      : out_(out) {
    std::vector<std::string> argv = {"/usr/bin/kubectl", "--kubeconfig", kubeconfig};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string home = kubeconfig.substr(0, kubeconfig.rfind('/'));
    pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(1);
      int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      setenv("HOME", home.c_str(), 1);
      std::vector<char*> raw;
      for (auto& a : argv) raw.push_back(a.data());
      raw.push_back(nullptr);
      execv(raw[0], raw.data());
      _exit(127);
    }
  }
  ~BackgroundKubectl() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // Waits until the output contains `text`.
  bool WaitFor(const std::string& text, absl::Duration timeout = absl::Seconds(20)) {
    absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (absl::StrContains(Output(), text)) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }
  std::string Output() const { return ReadFile(out_).value_or(""); }

 private:
  std::string out_;
  pid_t pid_ = -1;
};

class ControlPlaneE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(MakeRoot("sqlite"));
    auto cp = ControlPlaneProcess::Start({*root_, "", {}});
    ASSERT_TRUE(cp.ok()) << cp.status();
    cp_ = cp->release();
    auto admin = cp_->Kubeconfig("admin");
    ASSERT_TRUE(admin.ok());
    admin_ = new std::string(*admin);
  }
  static void TearDownTestSuite() {
    delete cp_;
    cp_ = nullptr;
    if (root_) (void)RemoveAll(*root_);
    delete root_;
    delete admin_;
  }
  void SetUp() override {
    if (cp_ == nullptr) GTEST_SKIP() << "control plane did not start";
  }

  // kubectl as the cluster admin; the test fails with the output when it fails.
  std::string Admin(const std::vector<std::string>& args) {
    auto out = Kubectl(*admin_, args);
    EXPECT_TRUE(out.ok()) << absl::StrJoin(args, " ") << ": " << out.status() << "\nserver log:\n"
                          << cp_->LogTail();
    return out.value_or("");
  }
  // kubectl expected to fail: its output.
  std::string AdminFails(const std::vector<std::string>& args) {
    auto out = Kubectl(*admin_, args);
    EXPECT_FALSE(out.ok()) << absl::StrJoin(args, " ") << " succeeded: " << *out;
    return out.ok() ? *out : std::string(out.status().message());
  }
  std::string File(const std::string& name, const std::string& text) {
    std::string path = *root_ + "/" + name;
    EXPECT_TRUE(AtomicWriteFile(path, text).ok());
    return path;
  }
  // kubectl create -f of a JSON object (typed commands such as `kubectl
  // create configmap` send protobuf, which berth does not decode yet).
  std::string CreateObject(const json& obj, const std::string& ns = "default") {
    std::string path = File(absl::StrCat("obj-", counter_++, ".json"), obj.dump());
    return Admin({"create", "-f", path, "-n", ns});
  }
  json GetJson(const std::vector<std::string>& args) {
    std::vector<std::string> full = args;
    full.push_back("-o");
    full.push_back("json");
    return json::parse(Admin(full), nullptr, false);
  }

  int counter_ = 0;
  static std::string* root_;
  static std::string* admin_;
  static ControlPlaneProcess* cp_;
};
std::string* ControlPlaneE2eTest::root_ = nullptr;

json ConfigMap(const std::string& name, const std::string& value = "1") {
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}, {"data", {{"a", value}}}};
}

json Namespace(const std::string& name) {
  return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
}

json Secret(const std::string& name, const std::string& key, const std::string& base64) {
  return {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", name}}}, {"data", {{key, base64}}}};
}
std::string* ControlPlaneE2eTest::admin_ = nullptr;
ControlPlaneProcess* ControlPlaneE2eTest::cp_ = nullptr;

constexpr char kPodYaml[] = R"(apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    ports:
    - containerPort: 80
)";

TEST_F(ControlPlaneE2eTest, HealthVersionAndAnonymous) {
  EXPECT_EQ(Admin({"get", "--raw", "/healthz"}), "ok");
  json version = json::parse(Admin({"version", "-o", "json"}), nullptr, false);
  EXPECT_THAT(version["serverVersion"].value("gitVersion", ""), HasSubstr("berth"));
  // No client certificate: health and version only (curl: kubectl would prompt for a user).
  std::string base = cp_->server();
  auto health = RunCommand({"curl", "-sS", "--cacert", cp_->pki() + "/ca.crt", base + "/readyz"}, absl::Seconds(20));
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ(*health, "ok");
  auto pods = RunCommand({"curl", "-sS", "--cacert", cp_->pki() + "/ca.crt", base + "/api/v1/pods"}, absl::Seconds(20));
  ASSERT_TRUE(pods.ok()) << pods.status();
  json status = json::parse(*pods, nullptr, false);
  EXPECT_EQ(status.value("code", 0), 401) << *pods;
  EXPECT_EQ(status.value("reason", ""), "Unauthorized");
}

TEST_F(ControlPlaneE2eTest, DiscoveryNamespacesAndApiResources) {
  std::string resources = Admin({"api-resources"});
  EXPECT_THAT(resources, HasSubstr("pods"));
  EXPECT_THAT(resources, HasSubstr("po "));
  EXPECT_THAT(resources, HasSubstr("namespaces"));
  std::string namespaces = Admin({"get", "namespaces"});
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    EXPECT_THAT(namespaces, HasSubstr(ns));
  }
  EXPECT_THAT(namespaces, HasSubstr("Active"));
}

TEST_F(ControlPlaneE2eTest, PodCreateGetLabelAnnotatePatchReplaceDelete) {
  std::string pod = File("pod.yaml", kPodYaml);
  EXPECT_THAT(Admin({"create", "-f", pod, "--validate=false"}), HasSubstr("pod/web created"));
  EXPECT_THAT(AdminFails({"create", "-f", pod, "--validate=false"}), HasSubstr("AlreadyExists"));
  json got = GetJson({"get", "pod", "web"});
  ASSERT_TRUE(got.is_object());
  EXPECT_EQ(got["kind"], "Pod");
  EXPECT_EQ(got["metadata"]["namespace"], "default");
  EXPECT_EQ(got["metadata"]["uid"].get<std::string>().size(), 36u);
  EXPECT_FALSE(got["metadata"].value("resourceVersion", "").empty());
  EXPECT_FALSE(got["metadata"].value("creationTimestamp", "").empty());
  EXPECT_THAT(Admin({"get", "pod", "web", "-o", "yaml"}), HasSubstr("name: web"));
  EXPECT_THAT(Admin({"get", "pods", "-o", "wide"}), HasSubstr("web"));
  EXPECT_THAT(Admin({"get", "po", "web"}), HasSubstr("web"));

  EXPECT_THAT(Admin({"label", "pod", "web", "tier=front"}), HasSubstr("labeled"));
  EXPECT_THAT(Admin({"get", "pods", "-l", "tier=front", "-o", "name"}), HasSubstr("pod/web"));
  EXPECT_THAT(Admin({"get", "pods", "-l", "tier!=front", "-o", "name"}), ::testing::Not(HasSubstr("pod/web")));
  EXPECT_THAT(Admin({"get", "pods", "-l", "tier in (front,back),app", "-o", "name"}), HasSubstr("pod/web"));
  EXPECT_THAT(Admin({"get", "pods", "--field-selector", "metadata.name=web", "-o", "name"}), HasSubstr("pod/web"));
  EXPECT_THAT(Admin({"annotate", "pod", "web", "note=hello"}), HasSubstr("annotated"));
  EXPECT_EQ(GetJson({"get", "pod", "web"})["metadata"]["annotations"]["note"], "hello");

  Admin({"patch", "pod", "web", "--type", "merge", "-p", R"({"metadata":{"labels":{"merged":"yes"}}})"});
  Admin({"patch", "pod", "web", "--type", "json", "-p",
         R"([{"op":"replace","path":"/spec/containers/0/image","value":"nginx:1.28"}])"});
  Admin({"patch", "pod", "web", "--type", "strategic", "-p",
         R"({"spec":{"containers":[{"name":"nginx","image":"nginx:1.29"}]}})"});
  got = GetJson({"get", "pod", "web"});
  EXPECT_EQ(got["metadata"]["labels"]["merged"], "yes");
  EXPECT_EQ(got["spec"]["containers"][0]["image"], "nginx:1.29");
  EXPECT_EQ(got["spec"]["containers"][0]["name"], "nginx");
  EXPECT_EQ(got["spec"]["containers"].size(), 1u);

  // Replace with the current version works; with a stale one it is a 409 naming the pod.
  std::string stale_rv = got["metadata"]["resourceVersion"];
  got["metadata"]["labels"]["replaced"] = "1";
  std::string current = File("current.json", got.dump());
  EXPECT_THAT(Admin({"replace", "-f", current, "--validate=false"}), HasSubstr("replaced"));
  got["metadata"]["labels"]["replaced"] = "2";
  got["metadata"]["resourceVersion"] = stale_rv;
  std::string stale = File("stale.json", got.dump());
  std::string conflict = AdminFails({"replace", "-f", stale, "--validate=false"});
  EXPECT_THAT(conflict, HasSubstr("Operation cannot be fulfilled on pods \"web\""));
  EXPECT_EQ(GetJson({"get", "pod", "web"})["metadata"]["labels"]["replaced"], "1");

  EXPECT_THAT(Admin({"delete", "pod", "web"}), HasSubstr("pod \"web\" deleted"));
  EXPECT_THAT(AdminFails({"get", "pod", "web"}), HasSubstr("NotFound"));
}

// kubectl's typed commands send protobuf bodies.
TEST_F(ControlPlaneE2eTest, TypedCommandsSendingProtobuf) {
  EXPECT_THAT(Admin({"create", "namespace", "typed"}), HasSubstr("namespace/typed created"));
  EXPECT_THAT(Admin({"create", "configmap", "typed-cm", "-n", "typed", "--from-literal=a=1"}),
              HasSubstr("configmap/typed-cm created"));
  EXPECT_THAT(Admin({"create", "secret", "generic", "typed-s", "-n", "typed", "--from-literal=k=hunter2"}),
              HasSubstr("secret/typed-s created"));
  EXPECT_EQ(Admin({"get", "secret", "typed-s", "-n", "typed", "-o", "jsonpath={.data.k}"}), "aHVudGVyMg==");
  EXPECT_EQ(Admin({"get", "configmap", "typed-cm", "-n", "typed", "-o", "jsonpath={.data.a}"}), "1");
  EXPECT_THAT(Admin({"auth", "can-i", "create", "deployments"}), HasSubstr("yes"));
  auto node = cp_->Kubeconfig("node1");
  ASSERT_TRUE(node.ok());
  auto can = Kubectl(*node, {"auth", "can-i", "create", "deployments"});
  ASSERT_FALSE(can.ok());  // "no" exits 1
  EXPECT_THAT(can.status().message(), HasSubstr("no"));
  EXPECT_TRUE(Kubectl(*node, {"auth", "can-i", "get", "pods"}).ok());
}

// kubectl create deployment/service/job/serviceaccount send protobuf bodies (the
// 1.32 client sends run's Pod and expose's Service as JSON; the decoder's
// Pod and Service paths are also covered by the unit tests): what each
// command sets is stored, checked field by field.
TEST_F(ControlPlaneE2eTest, CreateDeploymentServiceJobServiceAccountRunAndExpose) {
  Admin({"create", "namespace", "typed-apps"});
  EXPECT_THAT(Admin({"create", "deployment", "web", "-n", "typed-apps", "--image=busybox", "--replicas=2",
                     "--port=8080"}),
              HasSubstr("deployment.apps/web created"));
  json d = GetJson({"get", "deployment", "web", "-n", "typed-apps"});
  EXPECT_EQ(d["spec"]["replicas"], 2);
  EXPECT_EQ(d["spec"]["selector"]["matchLabels"]["app"], "web");
  EXPECT_EQ(d["metadata"]["labels"]["app"], "web");
  EXPECT_EQ(d["spec"]["template"]["metadata"]["labels"]["app"], "web");
  ASSERT_EQ(d["spec"]["template"]["spec"]["containers"].size(), 1u) << d.dump();
  json c = d["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["name"], "busybox");
  EXPECT_EQ(c["image"], "busybox");
  EXPECT_EQ(c["ports"][0]["containerPort"], 8080);
  // An explicit zero in a pointer field is kept (not dropped as a zero scalar).
  constexpr char kSentProtobuf[] = "Content-Type: application/vnd.kubernetes.protobuf";
  std::string zero = Admin({"create", "deployment", "web0", "-n", "typed-apps", "--image=busybox", "--replicas=0",
                            "-v=8"});
  EXPECT_THAT(zero, HasSubstr("deployment.apps/web0 created"));
  EXPECT_THAT(zero, HasSubstr(kSentProtobuf));
  EXPECT_EQ(GetJson({"get", "deployment", "web0", "-n", "typed-apps"})["spec"]["replicas"], 0);
  // The scale subresource (a merge patch) answers with the selector from matchLabels.
  std::string scaled = Admin({"scale", "deployment", "web0", "-n", "typed-apps", "--replicas=3"});
  EXPECT_THAT(scaled, HasSubstr("deployment.apps/web0 scaled"));
  EXPECT_EQ(GetJson({"get", "deployment", "web0", "-n", "typed-apps"})["spec"]["replicas"], 3) << scaled;
  json scale = json::parse(Admin({"get", "--raw", "/apis/apps/v1/namespaces/typed-apps/deployments/web0/scale"}),
                           nullptr, false);
  EXPECT_EQ(scale["status"]["selector"], "app=web0") << scale.dump();
  EXPECT_EQ(scale["spec"]["replicas"], 3);
  // set image and rollout restart: strategic merge patches of the pod template.
  EXPECT_THAT(Admin({"set", "image", "deployment/web", "-n", "typed-apps", "busybox=busybox:1.36"}),
              HasSubstr("deployment.apps/web image updated"));
  EXPECT_THAT(Admin({"rollout", "restart", "deployment/web", "-n", "typed-apps"}),
              HasSubstr("deployment.apps/web restarted"));
  d = GetJson({"get", "deployment", "web", "-n", "typed-apps"});
  EXPECT_EQ(d["spec"]["template"]["spec"]["containers"][0]["image"], "busybox:1.36") << d.dump();
  EXPECT_EQ(d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"], 8080);
  EXPECT_TRUE(d["spec"]["template"]["metadata"]["annotations"].contains("kubectl.kubernetes.io/restartedAt"))
      << d.dump();

  EXPECT_THAT(Admin({"run", "p1", "-n", "typed-apps", "--image=busybox", "--labels=app=x", "--env=A=1", "--port=80",
                     "--", "sleep", "10"}),
              HasSubstr("pod/p1 created"));
  json p = GetJson({"get", "pod", "p1", "-n", "typed-apps"});
  EXPECT_EQ(p["metadata"]["labels"], json::parse(R"({"app":"x"})"));
  ASSERT_EQ(p["spec"]["containers"].size(), 1u) << p.dump();
  c = p["spec"]["containers"][0];
  EXPECT_EQ(c["name"], "p1");
  EXPECT_EQ(c["image"], "busybox");
  EXPECT_EQ(c["args"], json::parse(R"(["sleep","10"])"));
  EXPECT_FALSE(c.contains("command"));
  EXPECT_EQ(c["env"], json::parse(R"([{"name":"A","value":"1"}])"));
  EXPECT_EQ(c["ports"][0]["containerPort"], 80);
  EXPECT_EQ(p["spec"]["restartPolicy"], "Always");
  EXPECT_THAT(Admin({"run", "p2", "-n", "typed-apps", "--image=busybox", "--restart=Never", "--command", "--", "sh",
                     "-c", "echo hi"}),
              HasSubstr("pod/p2 created"));
  p = GetJson({"get", "pod", "p2", "-n", "typed-apps"});
  EXPECT_EQ(p["spec"]["restartPolicy"], "Never");
  EXPECT_EQ(p["spec"]["containers"][0]["command"], json::parse(R"(["sh","-c","echo hi"])"));
  EXPECT_EQ(p["metadata"]["labels"]["run"], "p2");

  EXPECT_THAT(Admin({"expose", "deployment", "web", "-n", "typed-apps", "--port=80", "--target-port=8080"}),
              HasSubstr("service/web exposed"));
  json svc = GetJson({"get", "service", "web", "-n", "typed-apps"});
  EXPECT_EQ(svc["spec"]["selector"], json::parse(R"({"app":"web"})"));
  ASSERT_EQ(svc["spec"]["ports"].size(), 1u) << svc.dump();
  EXPECT_EQ(svc["spec"]["ports"][0]["port"], 80);
  EXPECT_EQ(svc["spec"]["ports"][0]["targetPort"], 8080);
  EXPECT_EQ(svc["spec"]["ports"][0]["protocol"], "TCP");
  EXPECT_THAT(Admin({"expose", "deployment", "web", "-n", "typed-apps", "--name=web-np", "--type=NodePort",
                     "--port=81", "--target-port=http", "--protocol=UDP"}),
              HasSubstr("service/web-np exposed"));
  svc = GetJson({"get", "service", "web-np", "-n", "typed-apps"});
  EXPECT_EQ(svc["spec"]["type"], "NodePort");
  EXPECT_EQ(svc["spec"]["ports"][0]["port"], 81);
  EXPECT_EQ(svc["spec"]["ports"][0]["targetPort"], "http");
  EXPECT_EQ(svc["spec"]["ports"][0]["protocol"], "UDP");
  // kubectl create service uses the typed client: a Service in protobuf.
  std::string created =
      Admin({"create", "service", "nodeport", "web-svc", "-n", "typed-apps", "--tcp=82:8082", "-v=8"});
  EXPECT_THAT(created, HasSubstr("service/web-svc created"));
  EXPECT_THAT(created, HasSubstr(kSentProtobuf));
  svc = GetJson({"get", "service", "web-svc", "-n", "typed-apps"});
  EXPECT_EQ(svc["spec"]["type"], "NodePort");
  EXPECT_EQ(svc["spec"]["selector"], json::parse(R"({"app":"web-svc"})"));
  EXPECT_EQ(svc["spec"]["ports"][0]["name"], "82-8082");
  EXPECT_EQ(svc["spec"]["ports"][0]["port"], 82);
  EXPECT_EQ(svc["spec"]["ports"][0]["targetPort"], 8082);

  std::string job = Admin({"create", "job", "j1", "-n", "typed-apps", "--image=busybox", "-v=8", "--", "echo", "hi"});
  EXPECT_THAT(job, HasSubstr("job.batch/j1 created"));
  EXPECT_THAT(job, HasSubstr(kSentProtobuf));
  json j = GetJson({"get", "job", "j1", "-n", "typed-apps"});
  ASSERT_EQ(j["spec"]["template"]["spec"]["containers"].size(), 1u) << j.dump();
  EXPECT_EQ(j["spec"]["template"]["spec"]["containers"][0]["image"], "busybox");
  EXPECT_EQ(j["spec"]["template"]["spec"]["containers"][0]["command"], json::parse(R"(["echo","hi"])"));
  EXPECT_EQ(j["spec"]["template"]["spec"]["restartPolicy"], "Never");
  std::string sa = Admin({"create", "serviceaccount", "sa1", "-n", "typed-apps", "-v=8"});
  EXPECT_THAT(sa, HasSubstr("serviceaccount/sa1 created"));
  EXPECT_THAT(sa, HasSubstr(kSentProtobuf));
  EXPECT_EQ(GetJson({"get", "serviceaccount", "sa1", "-n", "typed-apps"})["metadata"]["name"], "sa1");
  Admin({"delete", "namespace", "typed-apps", "--wait=false"});
}

TEST_F(ControlPlaneE2eTest, WatchSeesChanges) {
  CreateObject(ConfigMap("watched-1"));
  BackgroundKubectl watch(*admin_, {"get", "configmaps", "-w", "--output-watch-events", "-o", "name"},
                          *root_ + "/watch.out");
  ASSERT_TRUE(watch.WaitFor("configmap/watched-1")) << watch.Output();
  CreateObject(ConfigMap("watched-2"));
  // -o name prints one line per event (ADDED, MODIFIED, DELETED).
  auto lines = [&] {
    std::string out = watch.Output();
    size_t n = 0;
    for (size_t at = out.find("configmap/watched-2"); at != std::string::npos;
         at = out.find("configmap/watched-2", at + 1)) {
      ++n;
    }
    return n;
  };
  auto wait_lines = [&](size_t want) {
    absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (lines() < want && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(50));
    return lines() >= want;
  };
  EXPECT_TRUE(wait_lines(1)) << watch.Output();
  Admin({"label", "configmap", "watched-2", "x=y"});
  EXPECT_TRUE(wait_lines(2)) << watch.Output();
  Admin({"delete", "configmap", "watched-2"});
  EXPECT_TRUE(wait_lines(3)) << watch.Output();
  // The table form too (kubectl get -w without -o).
  BackgroundKubectl table(*admin_, {"get", "configmaps", "-w"}, *root_ + "/watch-table.out");
  ASSERT_TRUE(table.WaitFor("watched-1")) << table.Output();
  CreateObject(ConfigMap("watched-3"));
  EXPECT_TRUE(table.WaitFor("watched-3")) << table.Output();
}

TEST_F(ControlPlaneE2eTest, ListsThatNeedNotBeConsistentComeFromTheWatchCache) {
  Admin({"create", "namespace", "listcache"});
  json labeled = ConfigMap("cached-1");
  labeled["metadata"]["labels"] = {{"cache", "yes"}};
  CreateObject(labeled, "listcache");
  CreateObject(ConfigMap("cached-2"), "listcache");
  const std::string path = "/api/v1/namespaces/listcache/configmaps";
  auto names = [](const json& list) {
    std::vector<std::string> out;
    for (const auto& item : list.value("items", json::array())) out.push_back(item["metadata"].value("name", ""));
    return out;
  };
  // The consistent list (resourceVersion unset) is the store's, at revision R.
  json consistent = json::parse(Admin({"get", "--raw", path}), nullptr, false);
  ASSERT_TRUE(consistent.is_object());
  EXPECT_EQ(names(consistent), (std::vector<std::string>{"cached-1", "cached-2"}));
  int64_t r = 0;
  ASSERT_TRUE(absl::SimpleAtoi(consistent["metadata"].value("resourceVersion", ""), &r));
  // NotOlderThan R: the cache's state at R or later, with both objects.
  json not_older = json::parse(
      Admin({"get", "--raw", absl::StrCat(path, "?resourceVersion=", r, "&resourceVersionMatch=NotOlderThan")}),
      nullptr, false);
  ASSERT_TRUE(not_older.is_object());
  int64_t served_at = 0;
  ASSERT_TRUE(absl::SimpleAtoi(not_older["metadata"].value("resourceVersion", ""), &served_at));
  EXPECT_GE(served_at, r);
  EXPECT_EQ(names(not_older), (std::vector<std::string>{"cached-1", "cached-2"}));
  // resourceVersion=0 with a label selector: only the labeled one.
  json selected = json::parse(Admin({"get", "--raw", path + "?resourceVersion=0&labelSelector=cache%3Dyes"}),
                              nullptr, false);
  EXPECT_EQ(names(selected), (std::vector<std::string>{"cached-1"}));
  // A deletion reaches the cache's lists (eventually: poll with a deadline).
  Admin({"delete", "configmap", "cached-2", "-n", "listcache"});
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  std::vector<std::string> now;
  while (absl::Now() < deadline) {
    now = names(json::parse(Admin({"get", "--raw", path + "?resourceVersion=0"}), nullptr, false));
    if (now.size() == 1) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(now, (std::vector<std::string>{"cached-1"}));
  // resourceVersion=0 with a limit: the cache's whole state (as kube-apiserver, limit not applied).
  json limited = json::parse(Admin({"get", "--raw", path + "?resourceVersion=0&limit=500"}), nullptr, false);
  EXPECT_EQ(names(limited), (std::vector<std::string>{"cached-1"}));
  EXPECT_FALSE(limited["metadata"].contains("continue"));
  // A watch from resourceVersion=0 starts with the cache's state as ADDED events.
  std::string events = Admin({"get", "--raw", path + "?watch=1&resourceVersion=0&timeoutSeconds=1"});
  EXPECT_TRUE(absl::StrContains(events, "\"type\":\"ADDED\"")) << events;
  EXPECT_TRUE(absl::StrContains(events, "\"name\":\"cached-1\"")) << events;
  EXPECT_FALSE(absl::StrContains(events, "\"name\":\"cached-2\"")) << events;
  // ... and then goes on with the changes after that state.
  BackgroundKubectl watch(*admin_, {"get", "--raw", path + "?watch=1&resourceVersion=0"}, *root_ + "/watch-rv0.out");
  ASSERT_TRUE(watch.WaitFor("cached-1")) << watch.Output();
  CreateObject(ConfigMap("cached-3"), "listcache");
  EXPECT_TRUE(watch.WaitFor("cached-3")) << watch.Output();
}

TEST_F(ControlPlaneE2eTest, BadInputRefusedWithStatus) {
  std::string malformed = File("malformed.json", R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":)");
  std::string out = AdminFails({"create", "--raw", "/api/v1/namespaces/default/configmaps", "-f", malformed});
  EXPECT_THAT(out, HasSubstr("BadRequest"));
  std::string bad_name = AdminFails({"create", "-f", File("bad-name.json", ConfigMap("Bad_Name").dump())});
  EXPECT_THAT(bad_name, HasSubstr("is invalid"));
  EXPECT_THAT(bad_name, HasSubstr("metadata.name"));
  std::string wrong_kind = File("wrong-kind.json",
                                R"({"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}})");
  EXPECT_THAT(AdminFails({"create", "--raw", "/api/v1/namespaces/default/configmaps", "-f", wrong_kind}),
              HasSubstr("kind"));
  EXPECT_THAT(AdminFails({"get", "configmaps", "-l", "a in ("}), HasSubstr("labelSelector"));
  EXPECT_THAT(AdminFails({"create", "-f", File("x.json", ConfigMap("x").dump()), "-n", "no-such-namespace"}),
              HasSubstr("namespaces \"no-such-namespace\" not found"));
  // Nothing was written.
  EXPECT_THAT(AdminFails({"get", "configmap", "x"}), HasSubstr("NotFound"));
}

TEST_F(ControlPlaneE2eTest, NodeCertificateLimitedByNodeAuthorizer) {
  auto node = cp_->Kubeconfig("node1");
  ASSERT_TRUE(node.ok());
  EXPECT_TRUE(Kubectl(*node, {"get", "pods", "-A"}).ok());
  auto secrets = Kubectl(*node, {"get", "secrets"});
  ASSERT_FALSE(secrets.ok());
  EXPECT_THAT(secrets.status().message(), HasSubstr("system:node:n1"));
  EXPECT_THAT(secrets.status().message(), HasSubstr("forbidden"));
  // What `kubectl auth can-i` asks (sent as JSON here: kubectl's typed
  // client sends protobuf).
  std::string review = File("review.json", json{{"apiVersion", "authorization.k8s.io/v1"},
                                                {"kind", "SelfSubjectAccessReview"},
                                                {"spec", {{"resourceAttributes", {{"verb", "create"},
                                                                                  {"group", "apps"},
                                                                                  {"resource", "deployments"},
                                                                                  {"namespace", "default"}}}}}}
                                                   .dump());
  auto can = Kubectl(*node, {"create", "--raw", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "-f", review});
  ASSERT_TRUE(can.ok()) << can.status();
  EXPECT_EQ(json::parse(*can)["status"]["allowed"], false);
  std::string admin_can =
      Admin({"create", "--raw", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "-f", review});
  EXPECT_EQ(json::parse(admin_can, nullptr, false)["status"]["allowed"], true);
  // Its own Node: yes; another node's: no.
  std::string n1 = File("node-n1.json", R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}})");
  std::string n2 = File("node-n2.json", R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"n2"}})");
  auto own = Kubectl(*node, {"create", "-f", n1, "--validate=false"});
  EXPECT_TRUE(own.ok()) << own.status();
  auto other = Kubectl(*node, {"create", "-f", n2, "--validate=false"});
  EXPECT_FALSE(other.ok());
  Admin({"create", "-f", n2, "--validate=false"});
  auto patch_other = Kubectl(*node, {"label", "node", "n2", "x=y"});
  ASSERT_FALSE(patch_other.ok());
  EXPECT_THAT(patch_other.status().message(), HasSubstr("forbidden"));
  EXPECT_TRUE(Kubectl(*node, {"label", "node", "n1", "x=y"}).ok());
  // A plain user with no rights: refused, named.
  auto bob = cp_->Kubeconfig("bob");
  ASSERT_TRUE(bob.ok());
  auto bob_pods = Kubectl(*bob, {"get", "pods"});
  ASSERT_FALSE(bob_pods.ok());
  EXPECT_THAT(bob_pods.status().message(), HasSubstr("User \"bob\" cannot list resource \"pods\""));
}

TEST_F(ControlPlaneE2eTest, CertificateFromAnotherCaRefused) {
  auto intruder = cp_->Kubeconfig("intruder");
  ASSERT_TRUE(intruder.ok());
  auto out = Kubectl(*intruder, {"get", "pods"}, absl::Seconds(30));
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), ::testing::AnyOf(HasSubstr("certificate"), HasSubstr("tls")));
}

TEST_F(ControlPlaneE2eTest, NamespaceDeletionRemovesContent) {
  CreateObject(Namespace("doomed"));
  CreateObject(ConfigMap("c1"), "doomed");
  CreateObject(Secret("s1", "k", "dg=="), "doomed");
  EXPECT_THAT(Admin({"delete", "namespace", "doomed", "--timeout=30s"}), HasSubstr("deleted"));
  EXPECT_THAT(AdminFails({"get", "namespace", "doomed"}), HasSubstr("NotFound"));
  EXPECT_THAT(Admin({"get", "configmaps", "-n", "doomed", "-o", "name"}), ::testing::Not(HasSubstr("c1")));
  EXPECT_THAT(AdminFails({"delete", "namespace", "default"}), HasSubstr("may not be deleted"));
}

TEST_F(ControlPlaneE2eTest, SecretsEncryptedAtRestWhenConfigured) {
  // A second control plane with an encryption config on its own store.
  std::string root = MakeRoot("enc");
  ASSERT_TRUE(MkdirAll(root + "/pki").ok());
  ASSERT_TRUE(RunCommand({"cp", "-a", cp_->pki() + "/.", root + "/pki"}, absl::Seconds(10)).ok());
  std::string config = root + "/encryption.yaml";
  ASSERT_TRUE(AtomicWriteFile(config,
                              "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"
                              "resources:\n- resources: [secrets]\n  providers:\n  - aesgcm:\n      keys:\n"
                              "      - name: key1\n        secret: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n"
                              "  - identity: {}\n")
                  .ok());
  auto cp = ControlPlaneProcess::Start({root, "", {"--encryption-provider-config", config}});
  ASSERT_TRUE(cp.ok()) << cp.status();
  auto admin = (*cp)->Kubeconfig("admin");
  ASSERT_TRUE(admin.ok());
  std::string secret = root + "/secret.json";
  ASSERT_TRUE(AtomicWriteFile(secret, Secret("topsecret", "password", "aHVudGVyMg==").dump()).ok());
  auto created = Kubectl(*admin, {"create", "-f", secret});
  ASSERT_TRUE(created.ok()) << created.status();
  auto value = Kubectl(*admin, {"get", "secret", "topsecret", "-o", "jsonpath={.data.password}"});
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, "aHVudGVyMg==");
  (*cp)->Stop();
  auto db = ReadFile(root + "/cp.db");
  auto wal = ReadFile(root + "/cp.db-wal");
  std::string bytes = db.value_or("") + wal.value_or("");
  EXPECT_THAT(bytes, HasSubstr("k8s:enc:aesgcm:v1:key1:"));
  EXPECT_THAT(bytes, ::testing::Not(HasSubstr("aHVudGVyMg==")));
  cp->reset();
  (void)RemoveAll(root);
}

TEST_F(ControlPlaneE2eTest, SnapshotSaveAndRestoreSqlite) {
  std::string root = MakeRoot("snap");
  ASSERT_TRUE(MkdirAll(root + "/pki").ok());
  ASSERT_TRUE(RunCommand({"cp", "-a", cp_->pki() + "/.", root + "/pki"}, absl::Seconds(10)).ok());
  auto cp = ControlPlaneProcess::Start({root, "", {}});
  ASSERT_TRUE(cp.ok()) << cp.status();
  auto admin = (*cp)->Kubeconfig("admin");
  ASSERT_TRUE(AtomicWriteFile(root + "/kept.json", ConfigMap("kept").dump()).ok());
  ASSERT_TRUE(AtomicWriteFile(root + "/after.json", ConfigMap("after-snapshot").dump()).ok());
  auto kept = Kubectl(*admin, {"create", "-f", root + "/kept.json"});
  ASSERT_TRUE(kept.ok()) << kept.status();
  (*cp)->Stop();
  std::string store = "sqlite://" + root + "/cp.db";
  auto saved = RunCommand({ControlPlaneBinary(), "snapshot", "save", root + "/snap.db", "--store", store},
                          absl::Seconds(30));
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_THAT(*saved, HasSubstr("Snapshot saved"));
  ASSERT_TRUE((*cp)->Restart().ok());
  ASSERT_TRUE(Kubectl(*admin, {"delete", "configmap", "kept"}).ok());
  ASSERT_TRUE(Kubectl(*admin, {"create", "-f", root + "/after.json"}).ok());
  (*cp)->Stop();
  auto restored = RunCommand({ControlPlaneBinary(), "snapshot", "restore", root + "/snap.db", "--store", store},
                             absl::Seconds(30));
  ASSERT_TRUE(restored.ok()) << restored.status();
  ASSERT_TRUE((*cp)->Restart().ok());
  auto names = Kubectl(*admin, {"get", "configmaps", "-o", "name"});
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(*names, HasSubstr("configmap/kept"));
  EXPECT_THAT(*names, ::testing::Not(HasSubstr("after-snapshot")));
  // A file that is no snapshot changes nothing.
  ASSERT_TRUE(AtomicWriteFile(root + "/junk.db", "junk").ok());
  (*cp)->Stop();
  EXPECT_FALSE(RunCommand({ControlPlaneBinary(), "snapshot", "restore", root + "/junk.db", "--store", store},
                          absl::Seconds(30))
                   .ok());
  cp->reset();
  (void)RemoveAll(root);
}

// The same API on etcd: CRUD, watch, conflicts, and an online snapshot.
TEST_F(ControlPlaneE2eTest, EtcdBackend) {
  std::string root = MakeRoot("etcd");
  auto etcd = store::testing::EtcdProcess::Start(root + "/etcd");
  if (!etcd.ok() && etcd.status().code() == absl::StatusCode::kUnimplemented) GTEST_SKIP() << etcd.status();
  ASSERT_TRUE(etcd.ok()) << etcd.status();
  ASSERT_TRUE(MkdirAll(root + "/pki").ok());
  ASSERT_TRUE(RunCommand({"cp", "-a", cp_->pki() + "/.", root + "/pki"}, absl::Seconds(10)).ok());
  std::string store = "etcd://" + (*etcd)->client_endpoint();
  auto cp = ControlPlaneProcess::Start({root, store, {}});
  ASSERT_TRUE(cp.ok()) << cp.status();
  auto admin = (*cp)->Kubeconfig("admin");
  ASSERT_TRUE(admin.ok());
  std::string pod = root + "/pod.yaml";
  ASSERT_TRUE(AtomicWriteFile(pod, kPodYaml).ok());
  BackgroundKubectl watch(*admin, {"get", "pods", "-w", "-o", "name"}, root + "/watch.out");
  auto created = Kubectl(*admin, {"create", "-f", pod, "--validate=false"});
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(watch.WaitFor("pod/web")) << watch.Output();
  auto got = Kubectl(*admin, {"get", "pod", "web", "-o", "json"});
  ASSERT_TRUE(got.ok());
  json obj = json::parse(*got);
  EXPECT_EQ(obj["metadata"]["name"], "web");
  obj["metadata"]["resourceVersion"] = "1";
  std::string stale = root + "/stale.json";
  ASSERT_TRUE(AtomicWriteFile(stale, obj.dump()).ok());
  auto conflict = Kubectl(*admin, {"replace", "-f", stale, "--validate=false"});
  ASSERT_FALSE(conflict.ok());
  EXPECT_THAT(conflict.status().message(), HasSubstr("Operation cannot be fulfilled"));
  auto saved = RunCommand({ControlPlaneBinary(), "snapshot", "save", root + "/etcd.snap", "--store", store},
                          absl::Seconds(60));
  ASSERT_TRUE(saved.ok()) << saved.status();
  EXPECT_THAT(*saved, HasSubstr("Snapshot saved"));
  EXPECT_TRUE(Kubectl(*admin, {"delete", "pod", "web"}).ok());
  if (PathExists("/usr/bin/etcdctl")) {
    auto restored = RunCommand({ControlPlaneBinary(), "snapshot", "restore", root + "/etcd.snap", "--store", store,
                                "--etcd-data-dir", root + "/etcd-restored"},
                               absl::Seconds(60));
    ASSERT_TRUE(restored.ok()) << restored.status();
    EXPECT_TRUE(PathExists(root + "/etcd-restored/member"));
  }
  cp->reset();
  etcd->reset();
  (void)RemoveAll(root);
}

}  // namespace
}  // namespace berth::e2e
