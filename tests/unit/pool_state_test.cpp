#include "upstream/PoolState.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include <vector>
#include "upstream/NameSlots.h"

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
  EXPECT_EQ(s.ejections_total().load(), 1u);
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

config::SocketAddress v4(const char* ip, uint16_t port) {
  config::SocketAddress a;
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  inet_pton(AF_INET, ip, &sin.sin_addr);
  std::memcpy(&a.storage, &sin, sizeof sin);
  a.length = sizeof sin;
  a.text = std::string(ip) + ":" + std::to_string(port);
  return a;
}

// An endpoint written as a name that did not resolve when the config loaded.
config::Upstream pool_with_unresolved_name() {
  config::Upstream u = pool_of(1);
  config::Endpoint named;
  named.address.text = "api.internal:80";
  named.host = "api.internal";
  named.port = 80;
  named.named = true;
  u.endpoints.push_back(named);
  return u;
}

TEST(PoolState, ANameHasItsOwnSlotsWhichAreUnusableUntilFilled) {
  config::Upstream u = pool_with_unresolved_name();
  PoolState s(u);
  ASSERT_EQ(s.size(), 1 + kSlotsPerName);
  EXPECT_EQ(s.first_slot(1), 1u);
  EXPECT_EQ(s.slot_count(0), 1u);
  EXPECT_EQ(s.slot_count(1), kSlotsPerName);
  EXPECT_EQ(s.endpoint_of(0), 0u);
  EXPECT_EQ(s.endpoint_of(kSlotsPerName), 1u);
  EXPECT_TRUE(s.usable(0, 0));
  for (size_t slot = 1; slot < s.size(); ++slot) EXPECT_FALSE(s.usable(slot, 0)) << slot;
  sockaddr_storage addr;
  socklen_t len = 0;
  uint32_t gen = 0;
  EXPECT_FALSE(s.address(1, addr, len, gen));
  EXPECT_TRUE(s.address(0, addr, len, gen));
}

TEST(PoolState, SetAddressesFillsKeepsAndEmptiesSlots) {
  config::Upstream u = pool_with_unresolved_name();
  PoolState s(u);
  uint64_t epoch = s.address_epoch();
  std::vector<config::SocketAddress> two = {v4("10.0.0.1", 80), v4("10.0.0.2", 80)};
  EXPECT_EQ(s.set_addresses(1, two), 0u);
  EXPECT_GT(s.address_epoch(), epoch);
  EXPECT_TRUE(s.usable(1, 0));
  EXPECT_TRUE(s.usable(2, 0));
  EXPECT_FALSE(s.usable(3, 0));
  EXPECT_EQ(s.address_text(1), "10.0.0.1:80");
  EXPECT_EQ(s.address_text(2), "10.0.0.2:80");

  // 10.0.0.2 stays in its slot with its state; 10.0.0.1 goes, 10.0.0.3 takes its slot.
  uint32_t gen2 = s.endpoint(2).generation.load();
  uint32_t gen1 = s.endpoint(1).generation.load();
  s.endpoint(2).consecutive_5xx = 1;
  s.endpoint(1).active_healthy = false;
  std::vector<config::SocketAddress> next = {v4("10.0.0.3", 80), v4("10.0.0.2", 80)};
  s.set_addresses(1, next);
  EXPECT_EQ(s.address_text(1), "10.0.0.3:80");
  EXPECT_EQ(s.address_text(2), "10.0.0.2:80");
  EXPECT_EQ(s.endpoint(2).generation.load(), gen2) << "an address that stays keeps its slot";
  EXPECT_EQ(s.endpoint(2).consecutive_5xx.load(), 1u);
  EXPECT_NE(s.endpoint(1).generation.load(), gen1) << "a new address is a new server";
  EXPECT_TRUE(s.endpoint(1).active_healthy.load()) << "and starts healthy";

  // The same answer again changes nothing.
  epoch = s.address_epoch();
  s.set_addresses(1, next);
  EXPECT_EQ(s.address_epoch(), epoch);

  // An empty answer empties every slot of the name and none of the others.
  s.set_addresses(1, {});
  for (size_t slot = 1; slot < s.size(); ++slot) EXPECT_FALSE(s.usable(slot, 0)) << slot;
  EXPECT_TRUE(s.usable(0, 0));
}

TEST(PoolState, EmptySlotsDoNotCountTowardsPanicOrEjectionShares) {
  // One IP endpoint and a name with one address: two servers, not 1 + 8 slots.
  config::Upstream u = pool_with_unresolved_name();
  u.panic_threshold = 50;
  PoolState s(u);
  std::vector<config::SocketAddress> one = {v4("10.0.0.1", 80)};
  s.set_addresses(1, one);
  s.endpoint(0).active_healthy = false;
  EXPECT_FALSE(s.panicking(0)) << "one of two servers healthy is 50%, not below it";
  s.endpoint(1).active_healthy = false;
  EXPECT_TRUE(s.panicking(0));
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
  // A refused connection is retried whatever the budget says, and takes no place in it.
  EXPECT_TRUE(s.refused_retry_allowed());
  EXPECT_FALSE(s.try_start_retry());
}

}  // namespace
}  // namespace portico::upstream

namespace portico::upstream {
namespace {

// A reload builds a new PoolState from the previous one: endpoints written the same way
// keep their record (the same object), others start afresh.
TEST(PoolStateReload, EndpointsWrittenTheSameWayKeepTheirRecord) {
  config::Upstream before = pool_of(3);  // :9000 :9001 :9002
  PoolState old(before);
  old.endpoint(1).ejected_until_ms.store(5000);
  old.endpoint(1).connections.store(2);
  config::Upstream after = pool_of(3);
  after.endpoints.erase(after.endpoints.begin());      // :9001 :9002
  after.endpoints.push_back(pool_of(4).endpoints[3]);  // :9003, new
  PoolState next(after, &old);
  EXPECT_EQ(&next.endpoint(0), &old.endpoint(1));
  EXPECT_EQ(&next.endpoint(1), &old.endpoint(2));
  EXPECT_FALSE(next.usable(0, 1000)) << "still ejected";
  EXPECT_EQ(next.endpoint(0).connections.load(), 2u);
  EXPECT_NE(&next.endpoint(2), &old.endpoint(0));
  EXPECT_TRUE(next.usable(2, 1000));
}

TEST(PoolStateReload, TheSameAddressTwiceMapsInOrder) {
  config::Upstream u = pool_of(1);
  u.endpoints.push_back(u.endpoints[0]);
  PoolState old(u);
  PoolState next(u, &old);
  EXPECT_EQ(&next.endpoint(0), &old.endpoint(0));
  EXPECT_EQ(&next.endpoint(1), &old.endpoint(1));
}

TEST(PoolStateReload, DroppingActiveChecksClearsTheirVerdict) {
  config::Upstream u = pool_of(2);
  u.health_check.enabled = true;
  PoolState old(u);
  old.endpoint(0).active_healthy.store(false);
  PoolState checked(u, &old);
  EXPECT_FALSE(checked.endpoint(0).active_healthy.load()) << "checks go on: the verdict stays";
  u.health_check.enabled = false;
  PoolState unchecked(u, &checked);
  EXPECT_FALSE(unchecked.endpoint(0).active_healthy.load()) << "not before the reload commits";
  unchecked.take_over();
  EXPECT_TRUE(unchecked.endpoint(0).active_healthy.load()) << "nothing would ever clear it";
}

}  // namespace
}  // namespace portico::upstream
