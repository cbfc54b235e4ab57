// One client's token bucket: `burst` tokens at most, refilled at `rate` per second, one
// token per request. Time is passed in (nanoseconds of a monotonic clock), so the rule is
// tested without waiting. Not thread-safe: BucketTable guards each one.
#pragma once

#include <cstdint>

namespace portico::filters {

struct BucketLimit {
  double rate_per_sec = 1;  // refill rate
  double burst = 1;         // capacity; a new bucket starts full
};

struct BucketDecision {
  bool allowed = false;
  double remaining = 0;         // tokens left after this request
  uint64_t retry_after_ms = 0;  // when denied: until one token is back
};

class TokenBucket {
 public:
  TokenBucket(const BucketLimit& limit, uint64_t now_ns) : tokens_(limit.burst), last_ns_(now_ns) {}

  BucketDecision take(const BucketLimit& limit, uint64_t now_ns);
  // Whether the bucket has refilled to `burst` by now: forgetting it then changes nothing,
  // since a bucket made anew starts full too.
  bool full_at(const BucketLimit& limit, uint64_t now_ns) const;

 private:
  void refill(const BucketLimit& limit, uint64_t now_ns);

  double tokens_;
  uint64_t last_ns_;
};

}  // namespace portico::filters
