// Token buckets and the per-process table of them (filters/rate_limit), in simulated time.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "filters/rate_limit/BucketTable.h"
#include "filters/rate_limit/TokenBucket.h"

namespace portico::filters {
namespace {

constexpr uint64_t kMs = 1'000'000;  // ns

TEST(TokenBucket, StartsFullThenDeniesWithTheTimeUntilATokenIsBack) {
  BucketLimit limit{10, 3};
  TokenBucket b(limit, 0);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(b.take(limit, 0).allowed) << i;
  BucketDecision d = b.take(limit, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.retry_after_ms, 100u);  // 10/s: one token every 100 ms
  EXPECT_FALSE(b.take(limit, 99 * kMs).allowed);
  EXPECT_TRUE(b.take(limit, 100 * kMs).allowed);
}

TEST(TokenBucket, NeverHoldsMoreThanBurst) {
  BucketLimit limit{100, 5};
  TokenBucket b(limit, 0);
  int allowed = 0;
  for (int i = 0; i < 10; ++i) allowed += b.take(limit, 3600'000 * kMs).allowed;  // an hour idle
  EXPECT_EQ(allowed, 5);
  EXPECT_FALSE(b.full_at(limit, 3600'000 * kMs));
  EXPECT_TRUE(b.full_at(limit, 3600'000 * kMs + 50 * kMs));  // 5 tokens at 100/s
}

// The accuracy case in simulated time: 1,000 req/s for 5 s against 100 req/s with
// burst 100 accepts the burst plus 5 s of refill.
TEST(TokenBucket, AThousandPerSecondAgainstAHundredAcceptsSixHundredInFiveSeconds) {
  BucketLimit limit{100, 100};
  TokenBucket b(limit, 0);
  int allowed = 0;
  for (uint64_t t = 0; t < 5'000 * kMs; t += 1 * kMs) allowed += b.take(limit, t).allowed;
  EXPECT_NEAR(allowed, 600, 1);
}

TEST(BucketTable, KeysHaveTheirOwnBuckets) {
  BucketTable t({1, 2}, 100);
  EXPECT_TRUE(t.take("a", 0).allowed);
  EXPECT_TRUE(t.take("a", 0).allowed);
  EXPECT_FALSE(t.take("a", 0).allowed);
  EXPECT_TRUE(t.take("b", 0).allowed);
  EXPECT_EQ(t.keys(), 2u);
}

// More clients than max_keys, each asking far above the rate: the bound on keys must not
// let any of them through faster than the limit allows one client.
TEST(BucketTable, MoreActiveClientsThanMaxKeysNeverExceedTheRate) {
  BucketLimit limit{5, 5};
  BucketTable t(limit, 8, 4);
  constexpr int kClients = 40;
  std::map<int, int> allowed;
  const uint64_t kEnd = 2'000 * kMs;
  for (uint64_t now = 0; now < kEnd; now += 10 * kMs)
    for (int c = 0; c < kClients; ++c)
      allowed[c] += t.take("client-" + std::to_string(c), now).allowed;
  const int most = int(limit.burst + limit.rate_per_sec * 2.0);  // burst + 2 s of refill
  for (const auto& [c, n] : allowed) EXPECT_LE(n, most) << "client " << c;
  EXPECT_LE(t.keys(), 8u);
  EXPECT_GT(t.overflowed(), 0u);
}

TEST(BucketTable, AKeyIsForgottenOnlyOnceItsBucketIsFullAgain) {
  BucketLimit limit{10, 2};
  BucketTable t(limit, 1, 1);
  EXPECT_TRUE(t.take("a", 0).allowed);
  EXPECT_TRUE(t.take("a", 0).allowed);
  // "a" is empty and refilling: "b" may not take its place with a fresh bucket...
  EXPECT_TRUE(t.take("b", 0).allowed);  // ...it shares the overflow bucket (full at first)
  EXPECT_EQ(t.keys(), 1u);
  EXPECT_EQ(t.overflowed(), 1u);
  // 200 ms later "a" has refilled to burst: forgetting it changes nothing, "b" gets a bucket.
  EXPECT_TRUE(t.take("b", 200 * kMs).allowed);
  EXPECT_EQ(t.overflowed(), 1u);
  EXPECT_EQ(t.keys(), 1u);
}

// One limit per process: workers (threads) taking from the same key at the same instant
// get exactly `burst` tokens between them.
TEST(BucketTable, ThreadsShareOneLimit) {
  BucketTable t({1, 500}, 1000);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      for (int k = 0; k < 1000; ++k) allowed += t.take("shared", 0).allowed;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(allowed.load(), 500);
}

}  // namespace
}  // namespace portico::filters
