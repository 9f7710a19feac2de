// VolumeManager as root under a temporary root, in a private mount namespace:
// emptyDir (disk and tmpfs), hostPath, downwardAPI, fsGroup, subPath, CRI
// mounts, teardown and orphan cleanup.
#include "agent/volume/volume_manager.h"

#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "agent/volume/empty_dir.h"
#include "agent/volume/mount_table.h"
#include "agent/volume/testing/volume_test_env.h"

namespace berth::agent::volume {
namespace {

// The file's content, or the error as text (so a failed read fails the
// comparison instead of aborting the test binary).
std::string ReadOrError(const std::string& path) {
  auto data = ReadFile(path);
  return data.ok() ? *data : "<" + data.status().ToString() + ">";
}

namespace cri = ::runtime::v1;

[[maybe_unused]] auto* const kMountNs = ::testing::AddGlobalTestEnvironment(new testing::PrivateMountNamespace);

class VolumeManagerTest : public testing::TempRootTest {
 protected:
  void SetUp() override {
    TempRootTest::SetUp();
    manager_ = std::make_unique<VolumeManager>(
        VolumeManager::Options{root_ + "/pods", NodeAllocatable{2000, 1LL << 30, 10LL << 30}});
    pod_.metadata.name = "web";
    pod_.metadata.namespace_ = "default";
    pod_.metadata.uid = "uid-1";
    pod_.metadata.labels = {{"app", "web"}};
    k8s::Container c;
    c.name = "app";
    pod_.spec.containers.push_back(c);
  }
  void TearDown() override {
    manager_.reset();
    TempRootTest::TearDown();
  }
  k8s::Volume EmptyDir(const std::string& name, const std::string& medium = "", const char* size = nullptr) {
    k8s::Volume v;
    v.name = name;
    v.emptyDir.emplace();
    v.emptyDir->medium = medium;
    if (size) v.emptyDir->sizeLimit = *k8s::Quantity::Parse(size);
    return v;
  }
  k8s::Volume DownwardApi(const std::string& name) {
    k8s::Volume v;
    v.name = name;
    v.otherSources.fields["downwardAPI"] = nlohmann::json::parse(
        R"({"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
                      {"path": "podname", "fieldRef": {"fieldPath": "metadata.name"}}]})");
    return v;
  }
  static int MountCount(const std::string& path) {
    int n = 0;
    auto table = ReadMountTable();
    EXPECT_TRUE(table.ok()) << table.status();
    if (!table.ok()) return -1;
    for (const auto& m : *table) n += m.mount_point == path;
    return n;
  }
  static struct stat Stat(const std::string& path) {
    struct stat st {};
    EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
    return st;
  }

  std::unique_ptr<VolumeManager> manager_;
  k8s::Pod pod_;
};

TEST_F(VolumeManagerTest, EmptyDirOnDisk) {
  pod_.spec.volumes = {EmptyDir("cache")};
  auto vols = manager_->SetUp(pod_);
  ASSERT_TRUE(vols.ok()) << vols.status();
  std::string dir = root_ + "/pods/uid-1/volumes/kubernetes.io~empty-dir/cache";
  EXPECT_EQ(vols->at("cache").host_path, dir);
  EXPECT_EQ(vols->at("cache").kind, "emptyDir");
  EXPECT_TRUE(S_ISDIR(Stat(dir).st_mode));
  EXPECT_EQ(Stat(dir).st_mode & 07777, 0777u);
  EXPECT_EQ(MountCount(dir), 0);
  // Content survives a second SetUp.
  std::ofstream(dir + "/keep") << "data";
  ASSERT_TRUE(manager_->SetUp(pod_).ok());
  EXPECT_EQ(ReadOrError(dir + "/keep"), "data");
}

TEST_F(VolumeManagerTest, MemoryEmptyDirIsTmpfsWithSizeLimit) {
  pod_.spec.volumes = {EmptyDir("shm", "Memory", "1Mi")};
  auto vols = manager_->SetUp(pod_);
  ASSERT_TRUE(vols.ok()) << vols.status();
  std::string dir = vols->at("shm").host_path;
  auto m = MountAt(dir);
  ASSERT_TRUE(m.ok() && m->has_value());
  EXPECT_EQ((*m)->fs_type, "tmpfs");
  struct statfs fs;
  ASSERT_EQ(statfs(dir.c_str(), &fs), 0);
  EXPECT_EQ(static_cast<int64_t>(fs.f_blocks) * fs.f_bsize, 1 << 20);
  // Idempotent: no second tmpfs on top.
  ASSERT_TRUE(manager_->SetUp(pod_).ok());
  EXPECT_EQ(MountCount(dir), 1);

  ASSERT_TRUE(manager_->TearDown("uid-1").ok());
  EXPECT_EQ(MountCount(dir), 0);
  EXPECT_FALSE(PathExists(root_ + "/pods/uid-1"));
  EXPECT_TRUE(manager_->TearDown("uid-1").ok());  // again: nothing to do
}

TEST_F(VolumeManagerTest, MemoryEmptyDirWithoutSizeLimitGetsThePodLimit) {
  pod_.spec.containers[0].resources.limits["memory"] = *k8s::Quantity::Parse("2Mi");
  pod_.spec.volumes = {EmptyDir("shm", "Memory")};
  auto vols = manager_->SetUp(pod_);
  ASSERT_TRUE(vols.ok()) << vols.status();
  struct statfs fs;
  ASSERT_EQ(statfs(vols->at("shm").host_path.c_str(), &fs), 0);
  EXPECT_EQ(static_cast<int64_t>(fs.f_blocks) * fs.f_bsize, 2 << 20);
}

TEST(MemoryEmptyDirSizeTest, SmallestOfNodePodAndSizeLimit) {
  k8s::Pod pod;
  k8s::Container c;
  c.name = "a";
  pod.spec.containers = {c};
  k8s::EmptyDirVolumeSource src{"Memory", std::nullopt};
  const int64_t node = 1LL << 30;
  EXPECT_EQ(MemoryEmptyDirSize(src, pod, node), node);  // no limits anywhere
  src.sizeLimit = *k8s::Quantity::Parse("1Mi");
  EXPECT_EQ(MemoryEmptyDirSize(src, pod, node), 1 << 20);
  src.sizeLimit = *k8s::Quantity::Parse("2Gi");
  EXPECT_EQ(MemoryEmptyDirSize(src, pod, node), node);  // never more than the node has
  pod.spec.containers[0].resources.limits["memory"] = *k8s::Quantity::Parse("64Mi");
  k8s::Container init;
  init.name = "init";
  init.resources.limits["memory"] = *k8s::Quantity::Parse("128Mi");
  pod.spec.initContainers = {init};
  EXPECT_EQ(MemoryEmptyDirSize(src, pod, node), 128 << 20);  // the largest init container
  pod.spec.initContainers[0].restartPolicy = "Always";        // a sidecar adds up
  EXPECT_EQ(MemoryEmptyDirSize(src, pod, node), 192 << 20);
  pod.spec.initContainers.clear();
  k8s::Container unlimited;
  unlimited.name = "b";
  pod.spec.containers.push_back(unlimited);
  EXPECT_EQ(MemoryEmptyDirSize(src, pod, node), node);  // one container without a limit: no pod limit
}

TEST_F(VolumeManagerTest, BadVolumeChangesNothing) {
  k8s::Volume host;
  host.name = "host";
  host.hostPath = k8s::HostPathVolumeSource{root_ + "/h", "Directory"};
  k8s::Volume bad;
  bad.name = "bad";
  bad.hostPath = k8s::HostPathVolumeSource{root_ + "/x", "Folder"};
  pod_.spec.volumes = {EmptyDir("cache"), host, bad};
  auto vols = manager_->SetUp(pod_);
  ASSERT_FALSE(vols.ok());
  EXPECT_NE(vols.status().message().find("spec.volumes[2].hostPath.type: Unsupported value: \"Folder\""),
            std::string::npos)
      << vols.status();
  EXPECT_FALSE(PathExists(root_ + "/pods/uid-1"));

  k8s::Volume secret;
  secret.name = "creds";
  secret.secret.emplace();
  pod_.spec.volumes = {EmptyDir("cache"), secret};
  vols = manager_->SetUp(pod_);
  EXPECT_TRUE(absl::IsUnimplemented(vols.status())) << vols.status();
  EXPECT_NE(vols.status().message().find("spec.volumes[1]: volume source \"secret\""), std::string::npos);
  EXPECT_FALSE(PathExists(root_ + "/pods/uid-1"));

  pod_.spec.volumes = {EmptyDir("cache"), EmptyDir("cache")};
  EXPECT_NE(manager_->SetUp(pod_).status().message().find("spec.volumes[1].name: Duplicate value"), std::string::npos);
  pod_.spec.volumes = {EmptyDir("huge", "HugePages-2Mi")};
  EXPECT_FALSE(manager_->SetUp(pod_).ok());
  pod_.metadata.uid = "../escape";
  pod_.spec.volumes = {EmptyDir("cache")};
  EXPECT_NE(manager_->SetUp(pod_).status().message().find("metadata.uid"), std::string::npos);
  EXPECT_FALSE(PathExists(root_ + "/pods/uid-1"));
}

TEST_F(VolumeManagerTest, HostPathIsUsedInPlaceAndFailingCheckNamesThePath) {
  k8s::Volume v;
  v.name = "data";
  v.hostPath = k8s::HostPathVolumeSource{root_ + "/host/data", "DirectoryOrCreate"};
  pod_.spec.volumes = {v};
  auto vols = manager_->SetUp(pod_);
  ASSERT_TRUE(vols.ok()) << vols.status();
  EXPECT_EQ(vols->at("data").host_path, root_ + "/host/data");
  EXPECT_TRUE(PathExists(root_ + "/host/data"));
  v.hostPath->type = "File";
  pod_.spec.volumes = {v};
  vols = manager_->SetUp(pod_);
  EXPECT_FALSE(vols.ok());
  EXPECT_NE(vols.status().message().find("hostPath type check failed: " + root_ + "/host/data is not a file"),
            std::string::npos)
      << vols.status();
}

TEST_F(VolumeManagerTest, DownwardApiFilesAndRefresh) {
  pod_.spec.volumes = {DownwardApi("info")};
  auto vols = manager_->SetUp(pod_);
  ASSERT_TRUE(vols.ok()) << vols.status();
  std::string dir = root_ + "/pods/uid-1/volumes/kubernetes.io~downward-api/info";
  EXPECT_EQ(vols->at("info").host_path, dir);
  EXPECT_TRUE(vols->at("info").read_only);
  EXPECT_EQ(ReadOrError(dir + "/labels"), "app=\"web\"");
  EXPECT_EQ(ReadOrError(dir + "/podname"), "web");
  pod_.metadata.labels["tier"] = "db";
  ASSERT_TRUE(manager_->SetUp(pod_).ok());
  EXPECT_EQ(ReadOrError(dir + "/labels"), "app=\"web\"\ntier=\"db\"");
}

TEST_F(VolumeManagerTest, FsGroupOwnsEmptyDirAndDownwardApi) {
  pod_.spec.securityContext.emplace();
  pod_.spec.securityContext->fsGroup = 4321;
  pod_.spec.volumes = {EmptyDir("cache"), DownwardApi("info")};
  auto vols = manager_->SetUp(pod_);
  ASSERT_TRUE(vols.ok()) << vols.status();
  std::string cache = vols->at("cache").host_path;
  struct stat st = Stat(cache);
  EXPECT_EQ(st.st_gid, 4321u);
  EXPECT_TRUE(st.st_mode & S_ISGID);
  // A file the container made with 0600 gets the group and g+rw on the next SetUp.
  std::string file = cache + "/made-later";
  std::ofstream(file) << "x";
  ASSERT_EQ(chmod(file.c_str(), 0600), 0);
  ASSERT_TRUE(manager_->SetUp(pod_).ok());
  st = Stat(file);
  EXPECT_EQ(st.st_gid, 4321u);
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  // downwardAPI: read-only mask.
  std::string labels = vols->at("info").host_path + "/labels";
  st = Stat(labels);
  EXPECT_EQ(st.st_gid, 4321u);
  EXPECT_EQ(st.st_mode & 07777, 0644u | 0440u);
}

TEST_F(VolumeManagerTest, MountsForContainer) {
  k8s::Volume host;
  host.name = "host";
  host.hostPath = k8s::HostPathVolumeSource{root_, ""};
  pod_.spec.volumes = {EmptyDir("cache"), DownwardApi("info"), host};
  auto vols = manager_->SetUp(pod_);
  ASSERT_TRUE(vols.ok()) << vols.status();
  k8s::Container& c = pod_.spec.containers[0];
  c.volumeMounts = {
      k8s::VolumeMount{"cache", false, "/cache", "", "", std::nullopt, std::nullopt},
      k8s::VolumeMount{"info", false, "/etc/info", "", "", std::nullopt, std::nullopt},
      k8s::VolumeMount{"host", true, "/host", "", "", std::string("HostToContainer"), std::nullopt},
  };
  auto mounts = manager_->MountsFor(pod_, c, *vols);
  ASSERT_TRUE(mounts.ok()) << mounts.status();
  ASSERT_EQ(mounts->size(), 3u);
  EXPECT_EQ((*mounts)[0].container_path(), "/cache");
  EXPECT_EQ((*mounts)[0].host_path(), vols->at("cache").host_path);
  EXPECT_FALSE((*mounts)[0].readonly());
  EXPECT_EQ((*mounts)[0].propagation(), cri::PROPAGATION_PRIVATE);
  EXPECT_TRUE((*mounts)[1].readonly());  // downwardAPI is always read-only
  EXPECT_TRUE((*mounts)[2].readonly());
  EXPECT_EQ((*mounts)[2].propagation(), cri::PROPAGATION_HOST_TO_CONTAINER);

  c.volumeMounts = {k8s::VolumeMount{"host", false, "/host", "", "", std::string("Bidirectional"), std::nullopt}};
  mounts = manager_->MountsFor(pod_, c, *vols);
  EXPECT_NE(mounts.status().message().find("only to privileged containers"), std::string::npos) << mounts.status();
  c.securityContext.emplace();
  c.securityContext->privileged = true;
  mounts = manager_->MountsFor(pod_, c, *vols);
  ASSERT_TRUE(mounts.ok()) << mounts.status();
  EXPECT_EQ((*mounts)[0].propagation(), cri::PROPAGATION_BIDIRECTIONAL);

  c.volumeMounts = {k8s::VolumeMount{"nope", false, "/x", "", "", std::nullopt, std::nullopt}};
  mounts = manager_->MountsFor(pod_, c, *vols);
  EXPECT_TRUE(absl::IsNotFound(mounts.status()));
  EXPECT_NE(mounts.status().message().find("volumeMounts[0].name: Not found: \"nope\""), std::string::npos);
}

TEST_F(VolumeManagerTest, SubPathsAreBindMountedAndConfined) {
  pod_.spec.volumes = {EmptyDir("cache")};
  auto vols = manager_->SetUp(pod_);
  ASSERT_TRUE(vols.ok()) << vols.status();
  std::string vol = vols->at("cache").host_path;
  k8s::Container& c = pod_.spec.containers[0];
  c.volumeMounts = {k8s::VolumeMount{"cache", false, "/data", "a/b", "", std::nullopt, std::nullopt}};
  auto mounts = manager_->MountsFor(pod_, c, *vols);
  ASSERT_TRUE(mounts.ok()) << mounts.status();
  std::string target = root_ + "/pods/uid-1/volume-subpaths/cache/app/0";
  EXPECT_EQ((*mounts)[0].host_path(), target);
  EXPECT_TRUE(PathExists(vol + "/a/b"));  // made when missing
  EXPECT_EQ(Stat(vol + "/a/b").st_mode & 07777, 0777u);
  EXPECT_EQ(MountCount(target), 1);
  std::ofstream(target + "/through-bind") << "x";
  EXPECT_TRUE(PathExists(vol + "/a/b/through-bind"));
  ASSERT_TRUE(manager_->MountsFor(pod_, c, *vols).ok());
  EXPECT_EQ(MountCount(target), 1);  // reused, not stacked

  // A link inside the volume is fine; one leading out is refused.
  ASSERT_EQ(mkdir((root_ + "/outside").c_str(), 0755), 0);
  ASSERT_EQ(symlink("a", (vol + "/inner").c_str()), 0);
  ASSERT_EQ(symlink((root_ + "/outside").c_str(), (vol + "/evil").c_str()), 0);
  c.volumeMounts = {k8s::VolumeMount{"cache", false, "/in", "inner/b", "", std::nullopt, std::nullopt}};
  mounts = manager_->MountsFor(pod_, c, *vols);
  ASSERT_TRUE(mounts.ok()) << mounts.status();
  c.volumeMounts = {k8s::VolumeMount{"cache", false, "/x", "evil", "", std::nullopt, std::nullopt}};
  mounts = manager_->MountsFor(pod_, c, *vols);
  EXPECT_FALSE(mounts.ok());
  EXPECT_NE(mounts.status().message().find("not within volume path"), std::string::npos) << mounts.status();
  c.volumeMounts = {k8s::VolumeMount{"cache", false, "/x", "evil/new-dir", "", std::nullopt, std::nullopt}};
  EXPECT_FALSE(manager_->MountsFor(pod_, c, *vols).ok());
  EXPECT_FALSE(PathExists(root_ + "/outside/new-dir"));
  c.volumeMounts = {k8s::VolumeMount{"cache", false, "/x", "../up", "", std::nullopt, std::nullopt}};
  mounts = manager_->MountsFor(pod_, c, *vols);
  EXPECT_NE(mounts.status().message().find("must not contain '..'"), std::string::npos) << mounts.status();
  c.volumeMounts = {k8s::VolumeMount{"cache", false, "/x", "/abs", "", std::nullopt, std::nullopt}};
  EXPECT_FALSE(manager_->MountsFor(pod_, c, *vols).ok());

  // subPathExpr from the container's environment.
  c.volumeMounts = {k8s::VolumeMount{"cache", false, "/logs", "", "logs/$(POD_NAME)", std::nullopt, std::nullopt}};
  mounts = manager_->MountsFor(pod_, c, *vols, {{"POD_NAME", "web-0"}});
  ASSERT_TRUE(mounts.ok()) << mounts.status();
  EXPECT_TRUE(PathExists(vol + "/logs/web-0"));

  // A file subPath: the bind target is a file.
  std::ofstream(vol + "/config.txt") << "cfg";
  c.volumeMounts = {k8s::VolumeMount{"cache", true, "/etc/app.conf", "config.txt", "", std::nullopt, std::nullopt}};
  mounts = manager_->MountsFor(pod_, c, *vols);
  ASSERT_TRUE(mounts.ok()) << mounts.status();
  EXPECT_EQ(ReadOrError((*mounts)[0].host_path()), "cfg");

  ASSERT_TRUE(manager_->TearDown("uid-1").ok());
  EXPECT_EQ(MountCount(target), 0);
  EXPECT_FALSE(PathExists(root_ + "/pods/uid-1"));
  EXPECT_TRUE(PathExists(root_ + "/outside"));
}

TEST_F(VolumeManagerTest, OrphansAreCleanedAfterACrash) {
  pod_.spec.volumes = {EmptyDir("shm", "Memory", "1Mi"), EmptyDir("cache")};
  auto vols = manager_->SetUp(pod_);
  ASSERT_TRUE(vols.ok()) << vols.status();
  pod_.spec.containers[0].volumeMounts = {k8s::VolumeMount{"cache", false, "/d", "sub", "", std::nullopt, std::nullopt}};
  ASSERT_TRUE(manager_->MountsFor(pod_, pod_.spec.containers[0], *vols).ok());
  k8s::Pod keep = pod_;
  keep.metadata.uid = "uid-keep";
  ASSERT_TRUE(manager_->SetUp(keep).ok());
  // A new manager (the agent restarted) knows only "uid-keep".
  manager_ = std::make_unique<VolumeManager>(VolumeManager::Options{root_ + "/pods", std::nullopt});
  auto removed = manager_->CleanupOrphans({"uid-keep"});
  ASSERT_TRUE(removed.ok()) << removed.status();
  EXPECT_EQ(*removed, std::vector<std::string>{"uid-1"});
  EXPECT_FALSE(PathExists(root_ + "/pods/uid-1"));
  EXPECT_TRUE(PathExists(root_ + "/pods/uid-keep"));
  auto table = ReadMountTable();
  ASSERT_TRUE(table.ok()) << table.status();
  for (const auto& m : *table) EXPECT_EQ(m.mount_point.find(root_ + "/pods/uid-1"), std::string::npos);
}

TEST(MountTableTest, ParsesMountInfoWithEscapes) {
  auto entries = ParseMountInfo(
      "22 1 0:21 / /proc rw,nosuid shared:12 - proc proc rw\n"
      "99 22 0:50 / /tmp/with\\040space rw - tmpfs tmpfs rw,size=1024k\n");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].mount_point, "/tmp/with space");
  EXPECT_EQ(entries[1].fs_type, "tmpfs");
}

}  // namespace
}  // namespace berth::agent::volume
