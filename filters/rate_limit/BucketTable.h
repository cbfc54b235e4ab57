// The token buckets of one rate limit, one per key (a client address, a header value...),
// shared by every worker: one limit per process, not per worker. Keys spread over shards,
// each with its own mutex, so workers rarely wait on each other.
//
// Memory is bounded by `max_keys`, and the bound never weakens the limit. A key is only
// forgotten once its bucket has refilled to `burst` (it would start full if it came
// back, exactly as a new bucket does); that is also how idle keys expire. When a shard is
// full of keys that are all still refilling, a new key gets no bucket of its own: it
// shares the shard's overflow bucket with every other such key, which can only limit it
// more, never less.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "filters/rate_limit/TokenBucket.h"

namespace portico::filters {

class BucketTable {
 public:
  BucketTable(BucketLimit limit, size_t max_keys, size_t shards = 16);
  BucketTable(const BucketTable&) = delete;
  BucketTable& operator=(const BucketTable&) = delete;

  // Thread-safe: takes a token from `key`'s bucket.
  BucketDecision take(std::string_view key, uint64_t now_ns);

  const BucketLimit& limit() const { return limit_; }
  size_t keys() const;          // buckets held now
  uint64_t overflowed() const;  // decisions made on an overflow bucket

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Entry {
    TokenBucket bucket;
    std::list<const std::string*>::iterator lru;  // position in Shard::lru
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, Entry, Hash, std::equal_to<>> buckets;
    std::list<const std::string*> lru;  // least recently used first
    std::unique_ptr<TokenBucket> overflow;
    uint64_t overflowed = 0;
  };

  BucketDecision take_new(Shard& shard, std::string_view key, uint64_t now_ns);

  BucketLimit limit_;
  size_t per_shard_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace portico::filters
