#include "cache/CacheStore.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace portico::cache {
namespace {

using http::Header;
using Entry = std::shared_ptr<const CachedResponse>;

// An entry varying on V with this request value (nullopt: V absent; no vary at all when
// `varies` is false), with a body of `body` bytes.
Entry make_entry(std::optional<std::string> v, size_t body = 100, bool varies = true,
                 std::string fields = "Content-Type: text/plain\r\n") {
  auto r = std::make_shared<CachedResponse>();
  r->status = 200;
  r->reason = "OK";
  r->fields = std::move(fields);
  r->headers.push_back(
      {std::string_view(r->fields).substr(0, 12), std::string_view(r->fields).substr(14, 10)});
  r->body = std::make_shared<const std::string>(body, 'b');
  if (varies) r->vary.push_back({"v", std::move(v)});
  return r;
}

Entry make_star() {
  auto r = std::make_shared<CachedResponse>();
  r->vary_any = true;
  return r;
}

std::vector<Header> req(std::string_view v) {
  return {{"V", v}};
}
const std::vector<Header> kNoV{{"Accept", "*/*"}};

uint64_t entry_size() {
  return make_entry("1")->size();
}

CacheStore::Limits limits_for(uint64_t entries) {
  CacheStore::Limits l;
  l.max_bytes = entry_size() * entries + entry_size() / 2;
  l.max_object_bytes = l.max_bytes;
  return l;
}

TEST(CacheStore, MissOnEmptyAndUnknownKey) {
  CacheStore store({});
  EXPECT_EQ(store.find("/a", req("1")), nullptr);
  ASSERT_TRUE(store.insert("/a", make_entry("1")));
  EXPECT_EQ(store.find("/b", req("1")), nullptr);
  EXPECT_EQ(store.find("/a", req("2")), nullptr);
  EXPECT_EQ(store.find("/a", kNoV), nullptr);
}

TEST(CacheStore, FindReturnsTheStoredEntry) {
  CacheStore store({});
  Entry e = make_entry(std::nullopt, 10, false);
  ASSERT_TRUE(store.insert("/a", e));
  EXPECT_EQ(store.find("/a", kNoV), e);
  EXPECT_EQ(store.find("/a", {}), e);
  EXPECT_EQ(store.counters().entries, 1u);
  EXPECT_EQ(store.counters().bytes, e->size());
  EXPECT_EQ(store.counters().inserts, 1u);
}

TEST(CacheStore, VariantsOfOneKeyCoexist) {
  CacheStore store({});
  Entry one = make_entry("1"), two = make_entry("2"), absent = make_entry(std::nullopt);
  ASSERT_TRUE(store.insert("/a", one));
  ASSERT_TRUE(store.insert("/a", two));
  ASSERT_TRUE(store.insert("/a", absent));
  EXPECT_EQ(store.find("/a", req("1")), one);
  EXPECT_EQ(store.find("/a", req("2")), two);
  EXPECT_EQ(store.find("/a", kNoV), absent);
  EXPECT_EQ(store.counters().entries, 3u);
  EXPECT_EQ(store.counters().bytes, one->size() + two->size() + absent->size());
}

TEST(CacheStore, SameVariantIsReplaced) {
  CacheStore store({});
  Entry old = make_entry("1", 100), other = make_entry("2", 10), fresh = make_entry("1", 300);
  ASSERT_TRUE(store.insert("/a", old));
  ASSERT_TRUE(store.insert("/a", other));
  ASSERT_TRUE(store.insert("/a", fresh));
  EXPECT_EQ(store.find("/a", req("1")), fresh);
  EXPECT_EQ(store.find("/a", req("2")), other);
  EXPECT_EQ(store.counters().entries, 2u);
  EXPECT_EQ(store.counters().bytes, fresh->size() + other->size());
  EXPECT_EQ(store.counters().inserts, 3u);
  EXPECT_EQ(store.counters().evictions, 0u);
  EXPECT_EQ(store.counters().purged, 0u);
}

TEST(CacheStore, AChangedVaryReplacesTheOtherVariants) {
  CacheStore store(limits_for(8));
  ASSERT_TRUE(store.insert("/a", make_entry(std::nullopt, 100, false)));  // no Vary
  ASSERT_TRUE(store.insert("/a", make_entry("1")));                       // now Vary: V
  EXPECT_EQ(store.find("/a", kNoV), nullptr);  // the old one no longer answers
  EXPECT_NE(store.find("/a", req("1")), nullptr);
  ASSERT_TRUE(store.insert("/a", make_entry("2")));  // the same fields: both kept
  EXPECT_NE(store.find("/a", req("1")), nullptr);
  EXPECT_EQ(store.counters().entries, 2u);
}

TEST(CacheStore, NewestMatchingVariantWins) {
  CacheStore store({});
  // Two variants on V (absent, and 1): a newer one for V absent replaces the older.
  Entry absent = make_entry(std::nullopt);
  Entry v1 = make_entry("1");
  ASSERT_TRUE(store.insert("/a", absent));
  ASSERT_TRUE(store.insert("/a", v1));
  EXPECT_EQ(store.find("/a", req("1")), v1);
  EXPECT_EQ(store.find("/a", kNoV), absent);
  Entry absent2 = make_entry(std::nullopt, 20);
  ASSERT_TRUE(store.insert("/a", absent2));
  EXPECT_EQ(store.find("/a", kNoV), absent2);
  EXPECT_EQ(store.find("/a", req("1")), v1);
  EXPECT_EQ(store.counters().entries, 2u);
}

TEST(CacheStore, VaryStarIsNeverStored) {
  CacheStore store({});
  ASSERT_TRUE(store.insert("/a", make_entry("1")));
  // It could never be found, and it would push out the key's other variants.
  EXPECT_FALSE(store.insert("/a", make_star()));
  EXPECT_EQ(store.find("/a", {}), nullptr);
  EXPECT_NE(store.find("/a", req("1")), nullptr);
  EXPECT_EQ(store.counters().entries, 1u);
}

TEST(CacheStore, AnInsertAfterAPurgeOfItsKeyIsDropped) {
  CacheStore store({});
  uint64_t before = store.purge_generation("/a");
  ASSERT_TRUE(store.insert_unless_purged("/a", make_entry("1"), before));
  EXPECT_EQ(store.purge("/a"), 1u);  // an invalidation while a fetch was in flight
  EXPECT_FALSE(store.insert_unless_purged("/a", make_entry("1"), before));
  EXPECT_EQ(store.find("/a", req("1")), nullptr);
  uint64_t after = store.purge_generation("/a");
  EXPECT_NE(after, before);
  EXPECT_TRUE(store.insert_unless_purged("/a", make_entry("1"), after));
  store.purge_prefix("/zzz");  // any purge of the zone counts, conservatively
  EXPECT_FALSE(store.insert_unless_purged("/a", make_entry("2"), after));
}

TEST(CacheStore, RefusesEntriesLargerThanTheLimits) {
  CacheStore::Limits l;
  l.max_bytes = 10000;
  l.max_object_bytes = 2000;
  CacheStore store(l);
  Entry big = make_entry("1", 3000);
  ASSERT_GT(big->size(), l.max_object_bytes);
  EXPECT_FALSE(store.insert("/a", big));
  Entry fits = make_entry("1", 2000 - entry_size() + 100);
  ASSERT_EQ(fits->size(), l.max_object_bytes);
  EXPECT_TRUE(store.insert("/a", fits));
  EXPECT_FALSE(store.insert("/a", nullptr));

  CacheStore::Limits small;
  small.max_bytes = 1000;
  small.max_object_bytes = 1 << 20;
  CacheStore tiny(small);
  EXPECT_FALSE(tiny.insert("/a", make_entry("1", 2000)));
  EXPECT_EQ(tiny.counters().entries, 0u);
  EXPECT_EQ(tiny.counters().bytes, 0u);
  EXPECT_EQ(tiny.counters().inserts, 0u);
}

// Variants of one key share a shard, so their order of eviction is the LRU order exactly.
TEST(CacheStore, EvictsLeastRecentlyUsedFirst) {
  CacheStore store(limits_for(3));
  ASSERT_TRUE(store.insert("/a", make_entry("1")));
  ASSERT_TRUE(store.insert("/a", make_entry("2")));
  ASSERT_TRUE(store.insert("/a", make_entry("3")));
  ASSERT_NE(store.find("/a", req("1")), nullptr);  // now 2 is the least recently used
  ASSERT_TRUE(store.insert("/a", make_entry("4")));
  EXPECT_EQ(store.find("/a", req("2")), nullptr);
  EXPECT_NE(store.find("/a", req("1")), nullptr);
  EXPECT_NE(store.find("/a", req("3")), nullptr);
  EXPECT_NE(store.find("/a", req("4")), nullptr);
  EXPECT_EQ(store.counters().evictions, 1u);
  EXPECT_EQ(store.counters().entries, 3u);
  // Order now (least recent first): 1, 3, 4.
  ASSERT_TRUE(store.insert("/a", make_entry("5")));
  ASSERT_TRUE(store.insert("/a", make_entry("6")));
  EXPECT_EQ(store.find("/a", req("1")), nullptr);
  EXPECT_EQ(store.find("/a", req("3")), nullptr);
  EXPECT_NE(store.find("/a", req("4")), nullptr);
  EXPECT_EQ(store.counters().evictions, 3u);
}

TEST(CacheStore, EvictsFromOtherKeysWhenItsOwnCannotMakeRoom) {
  CacheStore store(limits_for(2));
  for (int i = 0; i < 10; ++i) {
    std::string key = "/k" + std::to_string(i);
    Entry e = make_entry("1");
    ASSERT_TRUE(store.insert(key, e));
    EXPECT_EQ(store.find(key, req("1")), e) << key;  // the entry just added is never evicted
    EXPECT_LE(store.counters().bytes, store.limits().max_bytes);
  }
  EXPECT_EQ(store.counters().entries, 2u);
  EXPECT_EQ(store.counters().evictions, 8u);
  EXPECT_EQ(store.counters().bytes, 2 * entry_size());
}

// Keys spread over every shard: the entry evicted is the zone's least recently used, not
// the inserting shard's.
TEST(CacheStore, EvictionIsLeastRecentlyUsedAcrossShards) {
  constexpr int kKeys = 48;
  CacheStore store(limits_for(kKeys));
  for (int i = 0; i < kKeys; ++i)
    ASSERT_TRUE(store.insert("/k" + std::to_string(i), make_entry("1")));
  // Use them in another order: odd keys first, then even ones.
  std::vector<int> order;
  for (int i = 1; i < kKeys; i += 2) order.push_back(i);
  for (int i = 0; i < kKeys; i += 2) order.push_back(i);
  for (int i : order) ASSERT_NE(store.find("/k" + std::to_string(i), req("1")), nullptr);
  // Each new key evicts the oldest in use order, wherever its shard is.
  for (int n = 0; n < kKeys / 2; ++n) {
    ASSERT_TRUE(store.insert("/new" + std::to_string(n), make_entry("1")));
    EXPECT_EQ(store.find("/k" + std::to_string(order[size_t(n)]), req("1")), nullptr) << n;
  }
  for (size_t n = kKeys / 2; n < order.size(); ++n)
    EXPECT_NE(store.find("/k" + std::to_string(order[n]), req("1")), nullptr) << n;
  EXPECT_EQ(store.counters().evictions, uint64_t(kKeys / 2));
}

TEST(CacheStore, NeverExceedsMaxBytes) {
  CacheStore::Limits l;
  l.max_bytes = 20000;
  l.max_object_bytes = 5000;
  CacheStore store(l);
  std::mt19937 rng(7);
  uint64_t refused = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string key = "/k" + std::to_string(rng() % 40);
    Entry e = make_entry(std::to_string(rng() % 3), rng() % 6000);
    if (!store.insert(key, e)) {
      EXPECT_GT(e->size(), l.max_object_bytes);
      ++refused;
      continue;
    }
    ASSERT_LE(store.counters().bytes, l.max_bytes);
  }
  EXPECT_GT(refused, 0u);
  EXPECT_GT(store.counters().evictions, 0u);
  // The counters agree with what can be found.
  uint64_t found = 0, bytes = 0;
  for (int k = 0; k < 40; ++k)
    for (int v = 0; v < 3; ++v)
      if (Entry e = store.find("/k" + std::to_string(k), req(std::to_string(v)))) {
        ++found;
        bytes += e->size();
      }
  EXPECT_EQ(store.counters().entries, found);
  EXPECT_EQ(store.counters().bytes, bytes);
}

TEST(CacheStore, PurgeByKey) {
  CacheStore store({});
  ASSERT_TRUE(store.insert("/a", make_entry("1")));
  ASSERT_TRUE(store.insert("/a", make_entry("2")));
  ASSERT_TRUE(store.insert("/ab", make_entry("1")));
  EXPECT_EQ(store.purge("/a"), 2u);
  EXPECT_EQ(store.purge("/a"), 0u);
  EXPECT_EQ(store.purge("/nothing"), 0u);
  EXPECT_EQ(store.find("/a", req("1")), nullptr);
  EXPECT_NE(store.find("/ab", req("1")), nullptr);
  EXPECT_EQ(store.counters().entries, 1u);
  EXPECT_EQ(store.counters().purged, 2u);
  EXPECT_EQ(store.counters().bytes, entry_size());
  EXPECT_EQ(store.counters().evictions, 0u);
}

TEST(CacheStore, PurgeByPrefix) {
  CacheStore store({});
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(store.insert("a.example/" + std::to_string(i), make_entry("1")));
    ASSERT_TRUE(store.insert("b.example/" + std::to_string(i), make_entry("1")));
    ASSERT_TRUE(store.insert("b.example/" + std::to_string(i), make_entry("2")));
  }
  EXPECT_EQ(store.purge_prefix("a.example/"), 50u);
  EXPECT_EQ(store.find("a.example/3", req("1")), nullptr);
  EXPECT_NE(store.find("b.example/3", req("1")), nullptr);
  EXPECT_EQ(store.counters().entries, 100u);
  EXPECT_EQ(store.purge_prefix("b.example/1"), 22u);  // 1, 10..19: eleven keys, two each
  EXPECT_EQ(store.purge_prefix("zzz"), 0u);
  EXPECT_EQ(store.purge_prefix(""), 78u);
  EXPECT_EQ(store.counters().entries, 0u);
  EXPECT_EQ(store.counters().bytes, 0u);
  EXPECT_EQ(store.counters().purged, 150u);
  // The store still works after being emptied.
  ASSERT_TRUE(store.insert("a.example/3", make_entry("1")));
  EXPECT_NE(store.find("a.example/3", req("1")), nullptr);
}

TEST(CacheStore, ReplaceWhenPresent) {
  CacheStore store({});
  Entry old = make_entry("1", 100);
  Entry other = make_entry("2", 100);
  ASSERT_TRUE(store.insert("/a", old));
  ASSERT_TRUE(store.insert("/a", other));
  Entry updated = make_entry("1", 500);
  EXPECT_TRUE(store.replace("/a", old.get(), updated));
  EXPECT_EQ(store.find("/a", req("1")), updated);
  EXPECT_EQ(store.counters().entries, 2u);
  EXPECT_EQ(store.counters().bytes, updated->size() + other->size());
  EXPECT_EQ(store.counters().inserts, 2u);
  // `old` is no longer stored: a second refresh of it loses.
  EXPECT_FALSE(store.replace("/a", old.get(), make_entry("1", 7)));
  EXPECT_EQ(store.find("/a", req("1")), updated);
  EXPECT_FALSE(store.replace("/b", updated.get(), make_entry("1", 7)));  // wrong key
}

TEST(CacheStore, ReplaceKeepsTheEntryMostRecentlyUsed) {
  CacheStore store(limits_for(3));
  Entry one = make_entry("1");
  ASSERT_TRUE(store.insert("/a", one));
  ASSERT_TRUE(store.insert("/a", make_entry("2")));
  ASSERT_TRUE(store.insert("/a", make_entry("3")));
  Entry updated = make_entry("1");
  ASSERT_TRUE(store.replace("/a", one.get(), updated));
  ASSERT_TRUE(store.insert("/a", make_entry("4")));  // evicts 2, not the refreshed 1
  EXPECT_EQ(store.find("/a", req("1")), updated);
  EXPECT_EQ(store.find("/a", req("2")), nullptr);
}

TEST(CacheStore, ReplaceAfterEvictionOrPurgeChangesNothing) {
  CacheStore store(limits_for(1));
  Entry first = make_entry("1");
  ASSERT_TRUE(store.insert("/a", first));
  ASSERT_TRUE(store.insert("/b", make_entry("1")));  // evicts `first`
  ASSERT_EQ(store.counters().evictions, 1u);
  const uint64_t bytes = store.counters().bytes;
  EXPECT_FALSE(store.replace("/a", first.get(), make_entry("1")));
  EXPECT_EQ(store.find("/a", req("1")), nullptr);
  EXPECT_EQ(store.counters().bytes, bytes);
  EXPECT_EQ(store.counters().entries, 1u);

  Entry second = make_entry("1");
  ASSERT_TRUE(store.insert("/c", second));
  ASSERT_EQ(store.purge("/c"), 1u);
  EXPECT_FALSE(store.replace("/c", second.get(), make_entry("1")));
  EXPECT_EQ(store.find("/c", req("1")), nullptr);
}

TEST(CacheStore, ReplaceGrowingPastMaxBytesEvictsOthers) {
  CacheStore store(limits_for(2));
  Entry a = make_entry("1");
  ASSERT_TRUE(store.insert("/a", a));
  ASSERT_TRUE(store.insert("/b", make_entry("1")));
  Entry bigger = make_entry("1", 100 + entry_size() * 3 / 4);
  ASSERT_TRUE(store.replace("/a", a.get(), bigger));
  EXPECT_LE(store.counters().bytes, store.limits().max_bytes);
  EXPECT_EQ(store.find("/a", req("1")), bigger);
  EXPECT_EQ(store.find("/b", req("1")), nullptr);
  EXPECT_EQ(store.counters().evictions, 1u);
  // Too large to store: the old entry stays.
  Entry huge = make_entry("1", store.limits().max_bytes);
  EXPECT_FALSE(store.replace("/a", bigger.get(), huge));
  EXPECT_EQ(store.find("/a", req("1")), bigger);
}

struct CountingWaiter final : FillWaiter {
  std::atomic<int> told{0};
  void fill_finished() override { told.fetch_add(1); }
};

TEST(CacheStoreCollapsing, LeadThenWaitThenFull) {
  CacheStore store({});
  CountingWaiter w1, w2, w3;
  EXPECT_EQ(store.claim_fill("/a", nullptr, 2), CacheStore::Claim::Lead);
  EXPECT_EQ(store.claim_fill("/b", nullptr, 2), CacheStore::Claim::Lead);  // keys are apart
  EXPECT_EQ(store.claim_fill("/a", &w1, 2), CacheStore::Claim::Wait);
  EXPECT_EQ(store.claim_fill("/a", &w2, 2), CacheStore::Claim::Wait);
  EXPECT_EQ(store.claim_fill("/a", &w3, 2), CacheStore::Claim::Full);
  store.finish_fill("/a");
  EXPECT_EQ(w1.told, 1);
  EXPECT_EQ(w2.told, 1);
  EXPECT_EQ(w3.told, 0);
  store.finish_fill("/a");  // nothing to finish: nobody is told again
  EXPECT_EQ(w1.told, 1);
  EXPECT_EQ(store.claim_fill("/a", nullptr, 2), CacheStore::Claim::Lead);
  EXPECT_EQ(store.claim_fill("/b", &w3, 0), CacheStore::Claim::Full);
  store.finish_fill("/a");
  store.finish_fill("/b");
  EXPECT_EQ(w3.told, 0);
}

TEST(CacheStoreCollapsing, CancelledWaiterIsNotTold) {
  CacheStore store({});
  CountingWaiter stays, leaves;
  ASSERT_EQ(store.claim_fill("/a", nullptr, 1), CacheStore::Claim::Lead);
  ASSERT_EQ(store.claim_fill("/a", &leaves, 1), CacheStore::Claim::Wait);
  ASSERT_EQ(store.claim_fill("/a", &stays, 1), CacheStore::Claim::Full);
  store.cancel_wait("/a", &leaves);  // frees its place
  store.cancel_wait("/a", &leaves);  // no-op
  store.cancel_wait("/zzz", &leaves);
  ASSERT_EQ(store.claim_fill("/a", &stays, 1), CacheStore::Claim::Wait);
  store.finish_fill("/a");
  EXPECT_EQ(leaves.told, 0);
  EXPECT_EQ(stays.told, 1);
  store.cancel_wait("/a", &stays);  // after being told: a no-op
  EXPECT_EQ(stays.told, 1);
}

TEST(CacheStoreCollapsing, FillLeaseFinishesOnce) {
  auto store = std::make_shared<CacheStore>(CacheStore::Limits{});
  CountingWaiter w;
  ASSERT_EQ(store->claim_fill("/a", nullptr, 4), CacheStore::Claim::Lead);
  {
    FillLease lease(store, "/a");
    ASSERT_EQ(store->claim_fill("/a", &w, 4), CacheStore::Claim::Wait);
    FillLease moved = std::move(lease);
    EXPECT_FALSE(lease);  // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_TRUE(moved);
  }
  EXPECT_EQ(w.told, 1);
  EXPECT_EQ(store->claim_fill("/a", nullptr, 4), CacheStore::Claim::Lead);
  store->finish_fill("/a");
}

// Four threads on overlapping keys; run under ThreadSanitizer too. At the end the
// counters must agree with what is stored and every fill must be over.
TEST(CacheStoreConcurrency, MixedOperationsKeepInvariants) {
  CacheStore::Limits l;
  l.max_bytes = 40 * 1024;
  l.max_object_bytes = 8 * 1024;
  CacheStore store(l);
  constexpr int kThreads = 4, kOps = 20000, kKeys = 24, kVariants = 3;
  auto key_of = [](int k) { return (k % 2 ? "/a/" : "/b/") + std::to_string(k); };

  struct Waited {
    std::unique_ptr<CountingWaiter> waiter;
    bool cancelled;
  };
  std::vector<std::vector<Waited>> waited(kThreads);
  std::atomic<uint64_t> leads{0};

  auto worker = [&](int t) {
    std::mt19937 rng(1000 + t);
    for (int i = 0; i < kOps; ++i) {
      const std::string key = key_of(int(rng() % kKeys));
      const std::string v = std::to_string(rng() % kVariants);
      switch (rng() % 10) {
        case 0:
        case 1:
        case 2:
          if (Entry e = store.find(key, req(v))) {
            // Read the shared entry while others may be evicting it.
            EXPECT_TRUE(e->body->empty() || e->body->back() == 'b');
            EXPECT_EQ(e->vary[0].value, v);
            if (rng() % 4 == 0) store.replace(key, e.get(), make_entry(v, rng() % 3000));
          }
          break;
        case 3:
        case 4:
          store.insert(key, make_entry(v, rng() % 10000));
          break;
        case 5:
          store.purge(key);
          break;
        case 6:
          if (rng() % 20 == 0) store.purge_prefix("/a/");
          break;
        default: {
          auto w = std::make_unique<CountingWaiter>();
          switch (store.claim_fill(key, w.get(), 2)) {
            case CacheStore::Claim::Lead:
              leads.fetch_add(1);
              store.insert(key, make_entry(v, rng() % 4000));
              store.finish_fill(key);
              break;
            case CacheStore::Claim::Wait: {
              const bool cancel = rng() % 2 == 0;
              if (cancel) store.cancel_wait(key, w.get());
              waited[t].push_back({std::move(w), cancel});
              break;
            }
            case CacheStore::Claim::Full:
              break;
          }
        }
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(worker, t);
  for (auto& th : threads) th.join();

  const StoreCounters& c = store.counters();
  EXPECT_LE(c.bytes, l.max_bytes);
  uint64_t found = 0, bytes = 0;
  for (int k = 0; k < kKeys; ++k) {
    for (int v = 0; v < kVariants; ++v) {
      if (Entry e = store.find(key_of(k), req(std::to_string(v)))) {
        ++found;
        bytes += e->size();
      }
    }
    // Every lead finished: the key is free.
    EXPECT_EQ(store.claim_fill(key_of(k), nullptr, 2), CacheStore::Claim::Lead);
    store.finish_fill(key_of(k));
  }
  EXPECT_EQ(c.entries, found);
  EXPECT_EQ(c.bytes, bytes);
  // Same-variant replacements are counted nowhere else, hence >=.
  EXPECT_GE(c.inserts, c.entries + c.evictions + c.purged);
  EXPECT_GT(c.evictions, 0u);
  EXPECT_GT(leads, 0u);

  size_t waits = 0;
  for (const auto& list : waited) {
    for (const Waited& w : list) {
      ++waits;
      if (w.cancelled)
        EXPECT_LE(w.waiter->told, 1);
      else
        EXPECT_EQ(w.waiter->told, 1);
    }
  }
  EXPECT_GT(waits, 0u);

  EXPECT_EQ(store.purge_prefix(""), found);
  EXPECT_EQ(c.entries, 0u);
  EXPECT_EQ(c.bytes, 0u);
}

}  // namespace
}  // namespace portico::cache
