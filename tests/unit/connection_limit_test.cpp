// ConnectionLimit: the exact count behind a listener's max_connections, its wake-ups for
// workers waiting at the limit, and the log gate.
#include "core/ConnectionLimit.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "config/ConfigLoader.h"
#include "core/Runtime.h"

namespace portico::core {
namespace {

struct CountingWaiter : ConnectionLimit::Waiter {
  std::atomic<int> woken{0};
  void slot_freed() override { woken.fetch_add(1); }
};

TEST(ConnectionLimit, ExactLimit) {
  ConnectionLimit limit(3);
  EXPECT_TRUE(limit.try_acquire());
  EXPECT_TRUE(limit.try_acquire());
  EXPECT_TRUE(limit.try_acquire());
  EXPECT_FALSE(limit.try_acquire());
  EXPECT_EQ(limit.open(), 3u);
  limit.release();
  EXPECT_EQ(limit.open(), 2u);
  EXPECT_TRUE(limit.try_acquire());
  EXPECT_FALSE(limit.try_acquire());
}

TEST(ConnectionLimit, UnlimitedStillCounts) {
  ConnectionLimit limit(0);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(limit.try_acquire());
  EXPECT_EQ(limit.open(), 1000u);
  // A reload sets a limit under the count: nothing more until enough have closed.
  limit.set_max(10);
  EXPECT_FALSE(limit.try_acquire());
  for (int i = 0; i < 990; ++i) limit.release();
  EXPECT_FALSE(limit.try_acquire());
  limit.release();
  EXPECT_TRUE(limit.try_acquire());
  EXPECT_EQ(limit.open(), 10u);
}

TEST(ConnectionLimit, ReleaseWakesWaitersOnce) {
  ConnectionLimit limit(1);
  CountingWaiter a, b;
  ASSERT_TRUE(limit.try_acquire());
  ASSERT_FALSE(limit.try_acquire());
  EXPECT_TRUE(limit.wait(&a));
  EXPECT_TRUE(limit.wait(&b));
  EXPECT_TRUE(limit.wait(&b));  // registered once
  limit.release();
  EXPECT_EQ(a.woken.load(), 1);
  EXPECT_EQ(b.woken.load(), 1);
  // The wake-up ended the registrations.
  ASSERT_TRUE(limit.try_acquire());
  limit.release();
  EXPECT_EQ(a.woken.load(), 1);
  EXPECT_EQ(b.woken.load(), 1);
}

TEST(ConnectionLimit, WaitRefusesWhenThereIsRoom) {
  ConnectionLimit limit(1);
  CountingWaiter w;
  // The slot freed between the failed acquire and the wait: no wake-up will come, so the
  // caller must be told to retry.
  EXPECT_FALSE(limit.wait(&w));
  ASSERT_TRUE(limit.try_acquire());
  limit.release();
  EXPECT_EQ(w.woken.load(), 0);
}

TEST(ConnectionLimit, ReleaseStillOverTheLimitWakesNobody) {
  ConnectionLimit limit(0);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limit.try_acquire());
  limit.set_max(2);
  CountingWaiter w;
  ASSERT_TRUE(limit.wait(&w));
  limit.release();  // 4 open
  limit.release();  // 3 open
  EXPECT_EQ(w.woken.load(), 0);
  limit.release();  // 2 open: still full
  EXPECT_EQ(w.woken.load(), 0);
  limit.release();  // 1 open: room
  EXPECT_EQ(w.woken.load(), 1);
}

TEST(ConnectionLimit, RaisingTheLimitWakesWaiters) {
  ConnectionLimit limit(1);
  CountingWaiter w;
  ASSERT_TRUE(limit.try_acquire());
  ASSERT_TRUE(limit.wait(&w));
  limit.set_max(2);
  EXPECT_EQ(w.woken.load(), 1);
  EXPECT_TRUE(limit.try_acquire());
}

TEST(ConnectionLimit, CancelledWaiterIsNotCalled) {
  ConnectionLimit limit(1);
  CountingWaiter w;
  ASSERT_TRUE(limit.try_acquire());
  ASSERT_TRUE(limit.wait(&w));
  limit.cancel_wait(&w);
  limit.release();
  EXPECT_EQ(w.woken.load(), 0);
}

TEST(ConnectionLimit, SlotGivesBackOnce) {
  auto limit = std::make_shared<ConnectionLimit>(1);
  {
    ConnectionSlot s = ConnectionSlot::try_take(limit);
    ASSERT_TRUE(s);
    EXPECT_FALSE(ConnectionSlot::try_take(limit));
    ConnectionSlot moved = std::move(s);
    EXPECT_EQ(limit->open(), 1u);
    ConnectionSlot other;
    other = std::move(moved);
    EXPECT_EQ(limit->open(), 1u);
  }
  EXPECT_EQ(limit->open(), 0u);
  EXPECT_FALSE(ConnectionSlot::try_take(nullptr));
}

TEST(ConnectionLimit, LogGate) {
  ConnectionLimit limit(1);
  EXPECT_TRUE(limit.note_paused(5, 1000));  // the first pause is logged
  EXPECT_FALSE(limit.note_paused(6, 1000));
  EXPECT_FALSE(limit.note_paused(1004, 1000));
  EXPECT_TRUE(limit.note_paused(1005, 1000));
  EXPECT_FALSE(limit.note_paused(1500, 1000));
  EXPECT_EQ(limit.paused_total(), 5u);
}

// Workers race for slots: never more than the limit at once, and a waiter is never left
// asleep while there is room (each thread waits for a wake-up before retrying).
TEST(ConnectionLimit, ThreadsNeverPassTheLimitAndLoseNoWakeUp) {
  constexpr uint32_t kMax = 3;
  constexpr int kThreads = 6;
  constexpr int kRounds = 2000;
  ConnectionLimit limit(kMax);
  std::atomic<int> holders{0};
  std::atomic<int> most{0};

  struct FlagWaiter : ConnectionLimit::Waiter {
    std::atomic<bool> woken{false};
    void slot_freed() override { woken.store(true); }
  };
  std::vector<std::thread> threads;
  std::atomic<int> stuck{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      FlagWaiter w;
      for (int i = 0; i < kRounds; ++i) {
        while (!limit.try_acquire()) {
          w.woken.store(false);
          if (!limit.wait(&w)) continue;
          // Bounded: a lost wake-up shows as a stuck thread, not a hung test.
          auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
          while (!w.woken.load() && std::chrono::steady_clock::now() < give_up)
            std::this_thread::yield();
          if (!w.woken.load()) {
            stuck.fetch_add(1);
            limit.cancel_wait(&w);
            return;
          }
        }
        int now = holders.fetch_add(1) + 1;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        holders.fetch_sub(1);
        limit.release();
      }
      limit.cancel_wait(&w);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(stuck.load(), 0);
  EXPECT_LE(most.load(), int(kMax));
  EXPECT_EQ(limit.open(), 0u);
}

// ---- the count's owner: the Runtime, by listening address ----

std::shared_ptr<const Runtime> build(const std::string& yaml, const Runtime* previous) {
  config::LoadResult r = config::load_config_string(yaml, "test.yaml");
  EXPECT_TRUE(r.config.has_value()) << (r.errors.empty() ? "" : r.errors[0].to_string());
  if (!r.config) return nullptr;
  return Runtime::build(std::move(*r.config), previous);
}

std::string two_listeners(std::string_view first, std::string_view first_max,
                          std::string_view second_port) {
  return "listeners:\n"
         "  - name: " +
         std::string(first) +
         "\n"
         "    address: 127.0.0.1:18080\n"
         "    limits: { max_connections: " +
         std::string(first_max) +
         " }\n"
         "    routes: [ { name: r, respond: {} } ]\n"
         "  - name: other\n"
         "    address: 127.0.0.1:" +
         std::string(second_port) +
         "\n"
         "    routes: [ { name: r, respond: {} } ]\n";
}

TEST(ListenerConnectionCount, KeptByAddressAcrossReloadsLimitSetOnCommit) {
  auto before = build(two_listeners("a", "4", "18081"), nullptr);
  ASSERT_TRUE(before);
  const auto& counted = before->listener("a")->connections;
  ASSERT_TRUE(counted);
  EXPECT_EQ(counted->max(), 4u);
  EXPECT_EQ(before->listener("other")->connections->max(), 0u);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(counted->try_acquire());

  // Renamed at the same address, with a lower limit; `other` moves to a new address.
  auto after = build(two_listeners("renamed", "2", "18082"), before.get());
  ASSERT_TRUE(after);
  EXPECT_EQ(after->listener("renamed")->connections, counted);  // the same count
  EXPECT_EQ(counted->open(), 3u);
  // Built, not committed: a reload that fails after building changes nothing.
  EXPECT_EQ(counted->max(), 4u);
  EXPECT_NE(after->listener("other")->connections, before->listener("other")->connections);
  after->take_over();
  EXPECT_EQ(counted->max(), 2u);
  EXPECT_FALSE(counted->try_acquire());  // 3 open, limit 2: none closed, none accepted
  for (int i = 0; i < 3; ++i) counted->release();
  EXPECT_EQ(counted->open(), 0u);
}

}  // namespace
}  // namespace portico::core
