#include "filters/rate_limit/TokenBucket.h"

#include <algorithm>
#include <cmath>

namespace portico::filters {

void TokenBucket::refill(const BucketLimit& limit, uint64_t now_ns) {
  if (now_ns <= last_ns_) return;  // a clock read earlier by another worker
  tokens_ = std::min(limit.burst, tokens_ + double(now_ns - last_ns_) * limit.rate_per_sec / 1e9);
  last_ns_ = now_ns;
}

BucketDecision TokenBucket::take(const BucketLimit& limit, uint64_t now_ns) {
  refill(limit, now_ns);
  if (tokens_ >= 1) {
    tokens_ -= 1;
    return {true, tokens_, 0};
  }
  double missing_sec = (1 - tokens_) / limit.rate_per_sec;
  return {false, tokens_, uint64_t(std::ceil(missing_sec * 1000))};
}

bool TokenBucket::full_at(const BucketLimit& limit, uint64_t now_ns) const {
  if (now_ns <= last_ns_) return tokens_ >= limit.burst;
  return tokens_ + double(now_ns - last_ns_) * limit.rate_per_sec / 1e9 >= limit.burst;
}

}  // namespace portico::filters
