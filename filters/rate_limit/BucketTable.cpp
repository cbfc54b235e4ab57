#include "filters/rate_limit/BucketTable.h"

#include <algorithm>

namespace portico::filters {

BucketTable::BucketTable(BucketLimit limit, size_t max_keys, size_t shards)
    : limit_(limit), per_shard_(std::max<size_t>(1, max_keys / std::max<size_t>(1, shards))) {
  shards = std::max<size_t>(1, std::min(shards, std::max<size_t>(1, max_keys)));
  for (size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

BucketDecision BucketTable::take(std::string_view key, uint64_t now_ns) {
  Shard& shard = *shards_[Hash{}(key) % shards_.size()];
  std::lock_guard lock(shard.mutex);
  auto it = shard.buckets.find(key);
  if (it == shard.buckets.end()) return take_new(shard, key, now_ns);
  // Most recently used at the back.
  shard.lru.splice(shard.lru.end(), shard.lru, it->second.lru);
  return it->second.bucket.take(limit_, now_ns);
}

BucketDecision BucketTable::take_new(Shard& shard, std::string_view key, uint64_t now_ns) {
  if (shard.buckets.size() >= per_shard_) {
    // Forget the least recently used key if its bucket is full again (no one gains by
    // it); otherwise every key here is still refilling and the new one must share.
    const std::string* oldest = shard.lru.front();
    auto victim = shard.buckets.find(*oldest);
    if (!victim->second.bucket.full_at(limit_, now_ns)) {
      if (!shard.overflow) shard.overflow = std::make_unique<TokenBucket>(limit_, now_ns);
      ++shard.overflowed;
      return shard.overflow->take(limit_, now_ns);
    }
    shard.lru.pop_front();
    shard.buckets.erase(victim);
  }
  auto [it, inserted] =
      shard.buckets.emplace(std::string(key), Entry{TokenBucket(limit_, now_ns), {}});
  it->second.lru = shard.lru.insert(shard.lru.end(), &it->first);
  return it->second.bucket.take(limit_, now_ns);
}

size_t BucketTable::keys() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s->mutex);
    n += s->buckets.size();
  }
  return n;
}

uint64_t BucketTable::overflowed() const {
  uint64_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s->mutex);
    n += s->overflowed;
  }
  return n;
}

}  // namespace portico::filters
