// A cache as routes use it. The zone (a store and its counters) is shared by every route
// that names it with the same sizes, and kept across reloads that leave those alone; the
// other settings are each route's own.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "cache/CacheStore.h"
#include "config/Config.h"
#include "stats/Counter.h"

namespace portico::cache {

// What a cache did with a request; the status header's values.
enum class CacheResult { Hit, Miss, Stale, Revalidated, Bypass };
inline constexpr std::array<std::string_view, 5> kCacheResultNames{"HIT", "MISS", "STALE",
                                                                   "REVALIDATED", "BYPASS"};

class CacheZone {
 public:
  static constexpr unsigned kMaxWorkers = 1024;  // as the config allows

  CacheZone(std::string name, CacheStore::Limits limits)
      : name_(std::move(name)),
        store_(std::make_shared<CacheStore>(limits)),
        counters_(std::make_unique<WorkerCounters[]>(kMaxWorkers)) {}

  const std::string& name() const { return name_; }
  CacheStore& store() const { return *store_; }
  const std::shared_ptr<CacheStore>& store_ptr() const { return store_; }
  // One writer per worker (stats::Counter), summed when scraped.
  void count(unsigned worker, CacheResult r) const {
    counters_[worker % kMaxWorkers].results[size_t(r)].add();
  }
  uint64_t total(CacheResult r) const {
    uint64_t n = 0;
    for (unsigned i = 0; i < kMaxWorkers; ++i) n += counters_[i].results[size_t(r)].value();
    return n;
  }

 private:
  struct alignas(64) WorkerCounters {
    std::array<stats::Counter, 5> results;  // by CacheResult
  };
  std::string name_;
  std::shared_ptr<CacheStore> store_;
  std::unique_ptr<WorkerCounters[]> counters_;
};

// One route's cache: its settings and the zone it stores in.
struct CacheRoute {
  std::shared_ptr<CacheZone> zone;
  // The response field that says what the cache did (HIT, MISS, ...); "" for none.
  std::string status_header = "x-cache";
  bool store_set_cookie = false;
  // Heuristic freshness (RFC 9111 §4.2.2) where the RFC allows one.
  Heuristic heuristic;
  // Request collapsing: how long a request waits for another's fill of the same key, and
  // how many may wait; max_waiters 0 turns collapsing off.
  config::Duration collapse_timeout{5000};
  size_t collapse_max_waiters = 256;
};

}  // namespace portico::cache
