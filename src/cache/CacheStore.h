// The responses a cache zone holds, shared by every worker of the process: a map from
// primary key (host and target) to the key's stored variants (§4.1), kept under
// max_bytes by evicting the least recently used. Sharded by key, a mutex per shard, so
// workers hitting different keys do not contend; a lookup holds its shard's lock only to
// find the entry and copy a shared_ptr.
//
// It also collapses concurrent misses: the first request to miss a key leads (goes to
// the upstream and stores the answer), later ones wait for it, up to a bound.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "cache/CachedResponse.h"
#include "http/Header.h"

namespace portico::cache {

// Told when the fill it waits for has finished (stored or not). Called from the leading
// request's thread with the store's lock held: it must only hand the news to its own
// thread (post to its loop), never call back into the store.
class FillWaiter {
 public:
  virtual void fill_finished() = 0;

 protected:
  ~FillWaiter() = default;
};

struct StoreCounters {
  std::atomic<uint64_t> entries{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> evictions{0};  // entries dropped for room (not purges, not replacements)
  std::atomic<uint64_t> inserts{0};
  std::atomic<uint64_t> purged{0};  // entries removed by purge and invalidation
};

class CacheStore {
 public:
  struct Limits {
    uint64_t max_bytes = 64ull << 20;
    uint64_t max_object_bytes = 1ull << 20;  // an entry larger than this is not stored
  };
  explicit CacheStore(Limits limits);
  ~CacheStore();
  CacheStore(const CacheStore&) = delete;
  CacheStore& operator=(const CacheStore&) = delete;

  const Limits& limits() const { return limits_; }

  // The most recently stored variant of `key` that the request's fields select
  // (vary_matches), marked as recently used; nullptr when none.
  std::shared_ptr<const CachedResponse> find(std::string_view key,
                                             std::span<const http::Header> request_headers);

  // Stores `entry` under `key`, replacing the variant it is the same as (same_variant),
  // evicting the least recently used entries until the zone fits max_bytes. false (and
  // nothing stored) when the entry alone is larger than max_object_bytes or max_bytes.
  bool insert(std::string_view key, std::shared_ptr<const CachedResponse> entry);
  // As insert, unless a purge may have touched `key` since purge_generation(key) was
  // `generation`: a response fetched before an invalidation must not land after it.
  bool insert_unless_purged(std::string_view key, std::shared_ptr<const CachedResponse> entry,
                            uint64_t generation);
  // Counts purges and invalidations of the keys that share `key`'s shard (cheap and
  // conservative: a purge of another key of the shard counts too).
  uint64_t purge_generation(std::string_view key);

  // Replaces `old` by `updated` in place when `old` is still stored (a 304's refresh);
  // false when it was evicted, purged or replaced meanwhile (then nothing changes).
  bool replace(std::string_view key, const CachedResponse* old,
               std::shared_ptr<const CachedResponse> updated);

  // Removes every variant of `key`; returns how many entries went.
  size_t purge(std::string_view key);
  // Removes every entry whose key starts with `prefix` ("" removes all).
  size_t purge_prefix(std::string_view prefix);

  // ---- request collapsing ----
  enum class Claim {
    Lead,  // nobody is filling the key: the caller goes to the upstream and must
           // finish_fill(key) when done (FillLease does it)
    Wait,  // another request is filling it: `waiter` is told when it finishes
    Full,  // another request is filling it and max_waiters already wait: go upstream
  };
  Claim claim_fill(std::string_view key, FillWaiter* waiter, size_t max_waiters);
  // A waiter that stops waiting (timed out, client gone) before it was told; a no-op
  // after. After this returns, the waiter is never called.
  void cancel_wait(std::string_view key, FillWaiter* waiter);
  // The lead fill is over: every waiter is told (and forgotten), the key is free.
  void finish_fill(std::string_view key);

  const StoreCounters& counters() const { return counters_; }

 private:
  struct Shard;
  Shard& shard_for(std::string_view key);
  // Evicts the zone's least recently used entries, never `keep`, until it fits max_bytes.
  // Called after an entry is added, with no lock held.
  void make_room(const CachedResponse* keep);

  Limits limits_;
  StoreCounters counters_;
  std::unique_ptr<Shard[]> shards_;
};

// The lead of a fill: finishes it (waking the waiters) when destroyed, unless moved from.
class FillLease {
 public:
  FillLease() = default;
  FillLease(std::shared_ptr<CacheStore> store, std::string key)
      : store_(std::move(store)), key_(std::move(key)) {}
  FillLease(FillLease&& o) noexcept = default;
  FillLease& operator=(FillLease&& o) noexcept {
    release();
    store_ = std::move(o.store_);
    key_ = std::move(o.key_);
    return *this;
  }
  ~FillLease() { release(); }
  void release() {
    if (store_) store_->finish_fill(key_);
    store_.reset();
  }
  explicit operator bool() const { return store_ != nullptr; }

 private:
  std::shared_ptr<CacheStore> store_;
  std::string key_;
};

}  // namespace portico::cache
