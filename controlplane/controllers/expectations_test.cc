#include "controlplane/controllers/expectations.h"

#include "gtest/gtest.h"

namespace berth::controllers {
namespace {

TEST(ExpectationsTest, UnsetKeyIsSatisfied) {
  Expectations e;
  EXPECT_TRUE(e.Satisfied("ns/rs"));
}

TEST(ExpectationsTest, CreationsHoldUntilEachIsObserved) {
  Expectations e;
  e.ExpectCreations("ns/rs", 2);
  EXPECT_FALSE(e.Satisfied("ns/rs"));
  e.CreationObserved("ns/rs");
  EXPECT_FALSE(e.Satisfied("ns/rs"));
  e.CreationObserved("ns/rs");
  EXPECT_TRUE(e.Satisfied("ns/rs"));
  e.CreationObserved("ns/rs");  // an extra one does not go negative
  e.ExpectCreations("ns/rs", 1);
  EXPECT_FALSE(e.Satisfied("ns/rs"));
}

TEST(ExpectationsTest, DeletionsAreTrackedByUidAndMaySeenTwice) {
  Expectations e;
  e.ExpectDeletions("ns/rs", {"u1", "u2"});
  e.DeletionObserved("ns/rs", "u1");
  e.DeletionObserved("ns/rs", "u1");  // marked, then gone: the same pod
  EXPECT_FALSE(e.Satisfied("ns/rs"));
  e.DeletionObserved("ns/rs", "other");
  EXPECT_FALSE(e.Satisfied("ns/rs"));
  e.DeletionObserved("ns/rs", "u2");
  EXPECT_TRUE(e.Satisfied("ns/rs"));
}

TEST(ExpectationsTest, ForgetClearsAndKeysAreIndependent) {
  Expectations e;
  e.ExpectCreations("ns/a", 1);
  e.ExpectCreations("ns/b", 1);
  e.Forget("ns/a");
  EXPECT_TRUE(e.Satisfied("ns/a"));
  EXPECT_FALSE(e.Satisfied("ns/b"));
}

}  // namespace
}  // namespace berth::controllers
