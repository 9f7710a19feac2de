#include "hack/berth-cri/query_filters.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::cri_cli {
namespace {

using ::testing::HasSubstr;
namespace v1 = runtime::v1;

Invocation With(std::map<std::string, std::string> flags) {
  Invocation inv;
  inv.flags = std::move(flags);
  return inv;
}

v1::PodSandbox Pod(const std::string& name, const std::string& ns) {
  v1::PodSandbox pod;
  pod.mutable_metadata()->set_name(name);
  pod.mutable_metadata()->set_namespace_(ns);
  return pod;
}

TEST(QueryFiltersTest, PodStateLabelAndNames) {
  auto query = PodQueryFrom(With({{"state", "Ready"}, {"label", "app=web"}, {"name", "^de"},
                                  {"namespace", "default"}, {"id", "abc"}}));
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_EQ(query->filter.state().state(), v1::SANDBOX_READY);
  EXPECT_EQ(query->filter.label_selector().at("app"), "web");
  EXPECT_EQ(query->filter.id(), "abc");
  EXPECT_TRUE(query->Matches(Pod("demo", "default")));
  EXPECT_FALSE(query->Matches(Pod("web-demo", "default")));
  EXPECT_FALSE(query->Matches(Pod("demo", "kube-system")));
  auto notready = PodQueryFrom(With({{"state", "notready"}}));
  ASSERT_TRUE(notready.ok());
  EXPECT_EQ(notready->filter.state().state(), v1::SANDBOX_NOTREADY);
  EXPECT_FALSE(PodQueryFrom(With({})).value().filter.has_state());
}

TEST(QueryFiltersTest, BadValuesAreNamed) {
  EXPECT_THAT(std::string(PodQueryFrom(With({{"state", "up"}})).status().message()), HasSubstr("\"up\""));
  EXPECT_THAT(std::string(PodQueryFrom(With({{"label", "novalue"}})).status().message()),
              HasSubstr("novalue"));
  EXPECT_THAT(std::string(PodQueryFrom(With({{"name", "("}})).status().message()), HasSubstr("--name"));
  EXPECT_THAT(std::string(ContainerQueryFrom(With({{"state", "dead"}})).status().message()),
              HasSubstr("dead"));
}

TEST(QueryFiltersTest, ContainersAreRunningOnlyUnlessAllOrState) {
  auto running = ContainerQueryFrom(With({{"pod", "p1"}}));
  ASSERT_TRUE(running.ok());
  EXPECT_EQ(running->filter.state().state(), v1::CONTAINER_RUNNING);
  EXPECT_EQ(running->filter.pod_sandbox_id(), "p1");
  auto all = ContainerQueryFrom(With({{"all", "true"}}));
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(all->filter.has_state());
  auto exited = ContainerQueryFrom(With({{"state", "exited"}, {"all", "true"}}));
  ASSERT_TRUE(exited.ok());
  EXPECT_EQ(exited->filter.state().state(), v1::CONTAINER_EXITED);
  auto named = ContainerQueryFrom(With({{"name", "web"}}));
  ASSERT_TRUE(named.ok());
  v1::Container c;
  c.mutable_metadata()->set_name("my-web-1");
  EXPECT_TRUE(named->Matches(c));
  c.mutable_metadata()->set_name("db");
  EXPECT_FALSE(named->Matches(c));
}

}  // namespace
}  // namespace berth::cri_cli
