#include "controlplane/store/watch_queue.h"

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace berth::store {
namespace {

EventPtr Ev(int64_t rev) {
  auto e = std::make_shared<Event>();
  e->revision = rev;
  e->kv.key = "/k";
  return e;
}

TEST(WatchQueueTest, DeliversInOrderThenTheCloseReason) {
  WatchQueue q(10);
  EXPECT_TRUE(q.Push(Ev(1)));
  EXPECT_TRUE(q.Push(Ev(2)));
  q.Close(absl::CancelledError("stop"));
  EXPECT_FALSE(q.Push(Ev(3)));
  auto first = q.Next(absl::InfiniteFuture());
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 2u);
  EXPECT_EQ((*first)[0]->revision, 1);
  EXPECT_EQ((*first)[1]->revision, 2);
  EXPECT_TRUE(absl::IsCancelled(q.Next(absl::InfiniteFuture()).status()));
  EXPECT_EQ(q.last_revision(), 2);
}

TEST(WatchQueueTest, DeadlineReturnsEmpty) {
  WatchQueue q(10);
  auto r = q.Next(absl::Now() + absl::Milliseconds(20));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(WatchQueueTest, WakesABlockedReader) {
  WatchQueue q(10);
  std::thread pusher([&] { q.Push(Ev(7)); });
  auto r = q.Next(absl::Now() + absl::Seconds(30));
  pusher.join();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0]->revision, 7);
}

TEST(WatchQueueTest, TooFarBehindEndsTheWatchNamingWhereToResume) {
  WatchQueue q(3);
  for (int64_t rev : {5, 8, 9}) EXPECT_TRUE(q.Push(Ev(rev)));
  q.Push(Ev(12));
  EXPECT_TRUE(q.closed());
  auto r = q.Next(absl::InfiniteFuture());
  ASSERT_TRUE(absl::IsResourceExhausted(r.status())) << r.status();
  EXPECT_THAT(r.status().message(), ::testing::HasSubstr("resume from revision 5"));
}

}  // namespace
}  // namespace berth::store
