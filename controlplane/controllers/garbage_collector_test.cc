#include "controlplane/controllers/garbage_collector.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::controllers {
namespace {

using nlohmann::json;
using Kind = DependentAction::Kind;

json Refs(std::initializer_list<std::pair<const char*, bool>> uids_blocking) {
  json refs = json::array();
  for (const auto& [uid, block] : uids_blocking) {
    refs.push_back({{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"}, {"name", uid}, {"uid", uid},
                    {"blockOwnerDeletion", block}});
  }
  return refs;
}

TEST(GarbageCollectorTest, OrphanedDependentsGoAndPartlyOrphanedOnesLoseTheReference) {
  std::map<std::string, OwnerState> owners = {{"rs-1", {.exists = true}}};
  EXPECT_EQ(DecideDependent(Refs({{"rs-1", true}}), owners)->kind, Kind::kNothing);
  EXPECT_EQ(DecideDependent(Refs({{"rs-gone", true}}), owners)->kind, Kind::kDelete);
  auto partly = DecideDependent(Refs({{"rs-1", true}, {"rs-gone", false}}), owners);
  EXPECT_EQ(partly->kind, Kind::kRemoveReferences);
  EXPECT_EQ(partly->remove_owner_uids, std::vector<std::string>{"rs-gone"});
  EXPECT_EQ(DecideDependent(json(), owners)->kind, Kind::kNothing);
}

TEST(GarbageCollectorTest, ForegroundAndOrphanPropagation) {
  std::map<std::string, OwnerState> owners = {
      {"fg", {.exists = true, .deleting = true, .foreground = true}},
      {"orphaner", {.exists = true, .deleting = true, .orphan = true}},
      {"live", {.exists = true}}};
  EXPECT_EQ(DecideDependent(Refs({{"fg", true}}), owners)->kind, Kind::kDeleteForeground);
  auto orphaned = DecideDependent(Refs({{"orphaner", true}}), owners);
  EXPECT_EQ(orphaned->kind, Kind::kRemoveReferences);
  EXPECT_EQ(orphaned->remove_owner_uids, std::vector<std::string>{"orphaner"});
  // A live co-owner keeps the dependent alive.
  EXPECT_EQ(DecideDependent(Refs({{"fg", true}, {"live", false}}), owners)->kind, Kind::kNothing);

  EXPECT_FALSE(ForegroundOwnerMayGo("fg", {Refs({{"fg", true}})}));
  EXPECT_TRUE(ForegroundOwnerMayGo("fg", {Refs({{"fg", false}}), Refs({{"live", true}})}));
  EXPECT_TRUE(ForegroundOwnerMayGo("fg", {}));
}

TEST(GarbageCollectorTest, BadReferencesAreNamed) {
  EXPECT_EQ(std::string(DecideDependent(json::object(), {}).status().message()),
            "metadata.ownerReferences: not a list");
  EXPECT_EQ(std::string(DecideDependent(json::parse(R"([{"kind":"ReplicaSet"}])"), {}).status().message()),
            "metadata.ownerReferences[0].uid: missing");
}

}  // namespace
}  // namespace berth::controllers
