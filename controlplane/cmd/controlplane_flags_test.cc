#include "controlplane/cmd/controlplane_flags.h"

#include <gtest/gtest.h>

namespace berth::controlplane {
namespace {

TEST(ControlPlaneFlagsTest, Serve) {
  auto f = ParseControlPlaneFlags({"--tls-cert-file", "c.pem", "--tls-private-key-file=k.pem", "--client-ca-file",
                                   "ca.pem", "--secure-port", "7443", "--bind-address", "127.0.0.1", "--store",
                                   "sqlite:///tmp/x.db", "--token-auth-file", "t.csv",
                                   "--encryption-provider-config", "e.yaml"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->command, ControlPlaneFlags::Command::kServe);
  EXPECT_EQ(f->server.https.port, 7443);
  EXPECT_EQ(f->server.https.cert_file, "c.pem");
  EXPECT_EQ(f->server.https.key_file, "k.pem");
  EXPECT_EQ(f->server.https.client_ca_file, "ca.pem");
  EXPECT_EQ(f->server.https.bind_address, "127.0.0.1");
  EXPECT_EQ(f->store_url, "sqlite:///tmp/x.db");
  EXPECT_EQ(f->server.token_auth_file, "t.csv");
  EXPECT_EQ(f->server.encryption_provider_config, "e.yaml");
}

TEST(ControlPlaneFlagsTest, SchedulerOnByDefaultAndOffByFlag) {
  auto f = ParseControlPlaneFlags({"--tls-cert-file", "c", "--tls-private-key-file", "k"});
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->scheduler);
  EXPECT_TRUE(f->leader_elect);
  f = ParseControlPlaneFlags({"--tls-cert-file", "c", "--tls-private-key-file", "k", "--scheduler=false",
                              "--leader-elect", "false"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_FALSE(f->scheduler);
  EXPECT_FALSE(f->leader_elect);
  f = ParseControlPlaneFlags({"--tls-cert-file", "c", "--tls-private-key-file", "k", "--scheduler=off"});
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("--scheduler: \"off\""), std::string::npos) << f.status();
  EXPECT_NE(ControlPlaneUsage().find("--scheduler=true|false"), std::string::npos);
}

TEST(ControlPlaneFlagsTest, Snapshot) {
  auto f = ParseControlPlaneFlags({"snapshot", "save", "/tmp/s.db", "--store", "etcd://127.0.0.1:2379"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->command, ControlPlaneFlags::Command::kSnapshotSave);
  EXPECT_EQ(f->snapshot_file, "/tmp/s.db");
  f = ParseControlPlaneFlags({"snapshot", "restore", "/tmp/s.db", "--store", "sqlite:///x"});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->command, ControlPlaneFlags::Command::kSnapshotRestore);
}

TEST(ControlPlaneFlagsTest, BadInputNamed) {
  auto f = ParseControlPlaneFlags({"--tls-cert-file", "c", "--tls-private-key-file", "k", "--secure-port", "99999"});
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("--secure-port"), std::string::npos);
  f = ParseControlPlaneFlags({"--nope", "x"});
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("--nope"), std::string::npos);
  f = ParseControlPlaneFlags({"--tls-private-key-file", "k"});
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("--tls-cert-file"), std::string::npos);
  EXPECT_FALSE(ParseControlPlaneFlags({"snapshot", "frobnicate", "x"}).ok());
  EXPECT_FALSE(ParseControlPlaneFlags({"--store"}).ok());
}

}  // namespace
}  // namespace berth::controlplane
