#include "upstream/PoolState.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace portico::upstream {
namespace {

config::Upstream pool_of(size_t n) {
  config::Upstream u;
  u.name = "p";
  for (size_t i = 0; i < n; ++i) {
    config::Endpoint e;
    e.address.text = "127.0.0.1:" + std::to_string(9000 + i);
    e.address.length = sizeof(sockaddr_in);  // resolved
    u.endpoints.push_back(e);
  }
  u.outlier.enabled = true;
  u.outlier.consecutive_5xx = 3;
  u.outlier.consecutive_gateway_failures = 2;
  u.outlier.base_ejection_time = config::Duration{1000};
  u.outlier.max_ejection_time = config::Duration{2500};
  u.outlier.max_ejection_percent = 50;
  return u;
}

TEST(PoolState, ConsecutiveGatewayFailuresEject) {
  config::Upstream u = pool_of(4);
  PoolState s(u);
  EXPECT_FALSE(s.record(0, Outcome::GatewayFailure, 100));
  EXPECT_TRUE(s.record(0, Outcome::GatewayFailure, 100));
  EXPECT_FALSE(s.usable(0, 100));
  EXPECT_FALSE(s.usable(0, 1099));
  EXPECT_TRUE(s.usable(0, 1100)) << "the first ejection lasts base_ejection_time";
  EXPECT_EQ(s.ejections_total.load(), 1u);
}

TEST(PoolState, ASuccessResetsTheCount) {
  config::Upstream u = pool_of(4);
  PoolState s(u);
  s.record(1, Outcome::Status5xx, 0);
  s.record(1, Outcome::Status5xx, 0);
  s.record(1, Outcome::Success, 0);
  EXPECT_FALSE(s.record(1, Outcome::Status5xx, 0));
  EXPECT_FALSE(s.record(1, Outcome::Status5xx, 0));
  EXPECT_TRUE(s.record(1, Outcome::Status5xx, 0)) << "three 5xx in a row";
}

TEST(PoolState, EjectionGrowsWithRepeatsUpToTheMaximum) {
  config::Upstream u = pool_of(4);
  PoolState s(u);
  uint64_t now = 0;
  uint64_t expected[] = {1000, 2000, 2500, 2500};
  for (uint64_t span : expected) {
    s.record(0, Outcome::GatewayFailure, now);
    ASSERT_TRUE(s.record(0, Outcome::GatewayFailure, now));
    EXPECT_FALSE(s.usable(0, now + span - 1));
    EXPECT_TRUE(s.usable(0, now + span));
    now += span;
  }
}

TEST(PoolState, NeverMoreThanMaxEjectionPercent) {
  config::Upstream u = pool_of(4);  // 50% of 4: two endpoints at most
  PoolState s(u);
  for (size_t i = 0; i < 4; ++i) {
    s.record(i, Outcome::GatewayFailure, 0);
    s.record(i, Outcome::GatewayFailure, 0);
  }
  int usable = 0;
  for (size_t i = 0; i < 4; ++i) usable += s.usable(i, 0);
  EXPECT_EQ(usable, 2);
}

TEST(PoolState, AtLeastOneEndpointMayBeEjected) {
  config::Upstream u = pool_of(3);
  u.outlier.max_ejection_percent = 10;  // 10% of 3 rounds down to 0, but one is allowed
  PoolState s(u);
  s.record(0, Outcome::GatewayFailure, 0);
  EXPECT_TRUE(s.record(0, Outcome::GatewayFailure, 0));
  s.record(1, Outcome::GatewayFailure, 0);
  EXPECT_FALSE(s.record(1, Outcome::GatewayFailure, 0));
}

TEST(PoolState, UnhealthyEndpointsAreUsableOnlyInPanic) {
  config::Upstream u = pool_of(4);
  u.panic_threshold = 50;
  PoolState s(u);
  s.endpoint(0).active_healthy = false;
  EXPECT_FALSE(s.panicking(0));
  EXPECT_FALSE(s.usable(0, 0));
  s.endpoint(1).active_healthy = false;
  s.endpoint(2).active_healthy = false;  // 1 of 4 healthy: under 50%
  EXPECT_TRUE(s.panicking(0));
  EXPECT_TRUE(s.usable(0, 0));
}

TEST(PoolState, UnresolvedEndpointsAreNeverUsable) {
  config::Upstream u = pool_of(2);
  u.endpoints[1].address.length = 0;
  PoolState s(u);
  EXPECT_TRUE(s.usable(0, 0));
  EXPECT_FALSE(s.usable(1, 0));
}

TEST(PoolState, MaxConnectionsIsExactAcrossThreads) {
  config::Upstream u = pool_of(1);
  u.max_connections = 7;
  PoolState s(u);
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i)
        if (s.reserve_connection(0)) ++granted;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 7);
  EXPECT_FALSE(s.usable(0, 0)) << "a full endpoint takes no new connection";
  s.release_connection(0);
  EXPECT_TRUE(s.reserve_connection(0));
}

TEST(PoolState, RetryBudget) {
  config::Upstream u = pool_of(1);
  u.retries.budget_percent = 20;
  u.retries.min_retry_concurrency = 2;
  PoolState s(u);
  for (int i = 0; i < 20; ++i) s.request_started();
  // 20% of 20 active requests = 4 retries in flight.
  int started = 0;
  while (started < 10 && s.try_start_retry()) ++started;
  EXPECT_EQ(started, 4);
  s.end_retry();
  EXPECT_TRUE(s.try_start_retry());
  for (int i = 0; i < 20; ++i) s.request_ended();
  // Few active requests: min_retry_concurrency still allows some.
  for (int i = 0; i < 4; ++i) s.end_retry();
  EXPECT_TRUE(s.try_start_retry());
  EXPECT_TRUE(s.try_start_retry());
  EXPECT_FALSE(s.try_start_retry());
}

}  // namespace
}  // namespace portico::upstream
