#include "cache/CacheStore.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <list>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace portico::cache {
namespace {

constexpr size_t kShards = 16;

// When an entry was last used, for eviction across shards: the steady clock, which every
// thread reads without writing anything shared (a global use counter would bounce one
// cache line between workers on every hit).
uint64_t now_ns() {
  return uint64_t(std::chrono::steady_clock::now().time_since_epoch().count());
}

// Transparent, so a lookup by string_view builds no std::string.
struct KeyHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

template <typename V>
using KeyMap = std::unordered_map<std::string, V, KeyHash, std::equal_to<>>;

}  // namespace

// Aligned apart so that workers locking neighbouring shards do not share a cache line.
struct alignas(64) CacheStore::Shard {
  struct Item {
    // The key's string in `keys`: a node's key never moves while the node lives.
    const std::string* key;
    std::shared_ptr<const CachedResponse> entry;
    // Taken once at insert so the bytes released are exactly the bytes added.
    uint64_t size;
    uint64_t used_ns;
  };
  using ItemIt = std::list<Item>::iterator;

  std::mutex mu;
  std::list<Item> lru;               // front: most recently used
  KeyMap<std::vector<ItemIt>> keys;  // each key's variants, oldest first
  KeyMap<std::vector<FillWaiter*>> fills;
  uint64_t purges = 0;  // see purge_generation()

  // Drops one entry of a key, and the key when it was the last. Returns its bytes.
  uint64_t remove(ItemIt it) {
    uint64_t size = it->size;
    auto k = keys.find(*it->key);
    std::erase(k->second, it);
    if (k->second.empty()) keys.erase(k);
    lru.erase(it);
    return size;
  }

  // The least recently used entry other than `keep`, or lru.end().
  ItemIt eviction_candidate(const CachedResponse* keep) {
    if (lru.empty()) return lru.end();
    auto it = std::prev(lru.end());
    if (it->entry.get() != keep) return it;
    return it == lru.begin() ? lru.end() : std::prev(it);
  }
};

CacheStore::CacheStore(Limits limits)
    : limits_(limits), shards_(std::make_unique<Shard[]>(kShards)) {}

CacheStore::~CacheStore() = default;

CacheStore::Shard& CacheStore::shard_for(std::string_view key) {
  // The maps hash the same key again; the multiply spreads the bits the shard is chosen
  // by, so keys that share a bucket pattern do not also share a shard.
  const uint64_t hash = std::hash<std::string_view>{}(key);
  const uint64_t h = hash * 0x9E3779B97F4A7C15ull;
  return shards_[(h >> 32) % kShards];
}

std::shared_ptr<const CachedResponse> CacheStore::find(
    std::string_view key, std::span<const http::Header> request_headers) {
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  auto k = s.keys.find(key);
  if (k == s.keys.end()) return nullptr;
  for (auto v = k->second.rbegin(); v != k->second.rend(); ++v) {
    if (!vary_matches(*(*v)->entry, request_headers)) continue;
    (*v)->used_ns = now_ns();
    s.lru.splice(s.lru.begin(), s.lru, *v);
    return (*v)->entry;
  }
  return nullptr;
}

uint64_t CacheStore::purge_generation(std::string_view key) {
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  return s.purges;
}

bool CacheStore::insert(std::string_view key, std::shared_ptr<const CachedResponse> entry) {
  return insert_unless_purged(key, std::move(entry), UINT64_MAX);
}

bool CacheStore::insert_unless_purged(std::string_view key,
                                      std::shared_ptr<const CachedResponse> entry,
                                      uint64_t generation) {
  if (!entry || entry->vary_any) return false;  // Vary: * would never be found
  const uint64_t size = entry->size();
  if (size > limits_.max_object_bytes || size > limits_.max_bytes) return false;
  const CachedResponse* added = entry.get();
  Shard& s = shard_for(key);
  {
    std::lock_guard lock(s.mu);
    if (generation != UINT64_MAX && generation != s.purges) return false;
    auto k = s.keys.find(key);
    if (k == s.keys.end()) k = s.keys.try_emplace(std::string(key)).first;
    std::vector<Shard::ItemIt>& variants = k->second;
    // The same variant is replaced; so is every variant that varies on other fields: the
    // resource's Vary changed, and an older variant (one without Vary at all, say) would
    // otherwise go on matching requests the new one does not.
    std::erase_if(variants, [&](const Shard::ItemIt& it) {
      if (!same_variant(*it->entry, *entry) && same_vary_fields(*it->entry, *entry)) return false;
      counters_.bytes -= it->size;
      counters_.entries -= 1;
      s.lru.erase(it);
      return true;
    });
    // Reserved first so that nothing can throw once the entry is in the LRU.
    variants.reserve(variants.size() + 1);
    s.lru.push_front(Shard::Item{&k->first, std::move(entry), size, now_ns()});
    variants.push_back(s.lru.begin());
    counters_.bytes += size;
    counters_.entries += 1;
    counters_.inserts += 1;
  }
  // Added before room is made, not after: an insert then always trims what every insert
  // that added before it left, so once concurrent inserts are over the zone fits.
  if (counters_.bytes.load() > limits_.max_bytes) make_room(added);
  return true;
}

void CacheStore::make_room(const CachedResponse* keep) {
  // Least recently used across the zone, not per shard: each round evicts the oldest of
  // the shards' least recently used entries. Eviction is rare next to lookups, so it pays
  // the scan; lookups touch only their own shard.
  while (counters_.bytes.load() > limits_.max_bytes) {
    Shard* oldest = nullptr;
    uint64_t oldest_ns = UINT64_MAX;
    for (size_t i = 0; i < kShards; ++i) {
      // One shard lock at a time: holding two would need a lock order across inserts.
      Shard& s = shards_[i];
      std::lock_guard lock(s.mu);
      auto victim = s.eviction_candidate(keep);
      if (victim != s.lru.end() && victim->used_ns < oldest_ns) {
        oldest = &s;
        oldest_ns = victim->used_ns;
      }
    }
    // Nothing left but `keep`, which fits alone; any excess is a concurrent insert's to
    // trim.
    if (!oldest) return;
    std::lock_guard lock(oldest->mu);
    auto victim = oldest->eviction_candidate(keep);
    if (victim == oldest->lru.end() || victim->used_ns != oldest_ns) continue;  // used meanwhile
    counters_.bytes -= oldest->remove(victim);
    counters_.entries -= 1;
    counters_.evictions += 1;
  }
}

bool CacheStore::replace(std::string_view key, const CachedResponse* old,
                         std::shared_ptr<const CachedResponse> updated) {
  if (!updated || !old) return false;
  const uint64_t size = updated->size();
  // Keeping the stale entry is safe: it is revalidated again when next used.
  if (size > limits_.max_object_bytes || size > limits_.max_bytes) return false;
  const CachedResponse* added = updated.get();
  Shard& s = shard_for(key);
  {
    std::lock_guard lock(s.mu);
    auto k = s.keys.find(key);
    if (k == s.keys.end()) return false;
    auto v = std::find_if(k->second.begin(), k->second.end(),
                          [&](const Shard::ItemIt& it) { return it->entry.get() == old; });
    if (v == k->second.end()) return false;
    Shard::ItemIt it = *v;
    counters_.bytes -= it->size;
    counters_.bytes += size;
    it->entry = std::move(updated);
    it->size = size;
    it->used_ns = now_ns();
    s.lru.splice(s.lru.begin(), s.lru, it);
  }
  if (counters_.bytes.load() > limits_.max_bytes) make_room(added);
  return true;
}

size_t CacheStore::purge(std::string_view key) {
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  ++s.purges;
  auto k = s.keys.find(key);
  if (k == s.keys.end()) return 0;
  const size_t n = k->second.size();
  for (Shard::ItemIt it : k->second) {
    counters_.bytes -= it->size;
    s.lru.erase(it);
  }
  s.keys.erase(k);
  counters_.entries -= n;
  counters_.purged += n;
  return n;
}

size_t CacheStore::purge_prefix(std::string_view prefix) {
  size_t total = 0;
  for (size_t i = 0; i < kShards; ++i) {
    Shard& s = shards_[i];
    std::lock_guard lock(s.mu);
    ++s.purges;
    for (auto k = s.keys.begin(); k != s.keys.end();) {
      if (!std::string_view(k->first).starts_with(prefix)) {
        ++k;
        continue;
      }
      const size_t n = k->second.size();
      for (Shard::ItemIt it : k->second) {
        counters_.bytes -= it->size;
        s.lru.erase(it);
      }
      k = s.keys.erase(k);
      counters_.entries -= n;
      counters_.purged += n;
      total += n;
    }
  }
  return total;
}

CacheStore::Claim CacheStore::claim_fill(std::string_view key, FillWaiter* waiter,
                                         size_t max_waiters) {
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  auto f = s.fills.find(key);
  if (f == s.fills.end()) {
    s.fills.try_emplace(std::string(key));
    return Claim::Lead;
  }
  if (f->second.size() >= max_waiters) return Claim::Full;
  f->second.push_back(waiter);
  return Claim::Wait;
}

void CacheStore::cancel_wait(std::string_view key, FillWaiter* waiter) {
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  auto f = s.fills.find(key);
  if (f == s.fills.end()) return;
  std::erase(f->second, waiter);
}

void CacheStore::finish_fill(std::string_view key) {
  Shard& s = shard_for(key);
  std::lock_guard lock(s.mu);
  auto f = s.fills.find(key);
  if (f == s.fills.end()) return;
  // Told under the lock, so a waiter that cancel_wait()s concurrently is either told
  // before its cancel or never (FillWaiter's contract: it only posts to its own loop).
  for (FillWaiter* w : f->second) w->fill_finished();
  s.fills.erase(f);
}

}  // namespace portico::cache
