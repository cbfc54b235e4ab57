#include "filters/circuit_breaker/BreakerPolicy.h"

namespace portico::filters {

std::string breaker_policy_error(const BreakerPolicy& policy) {
  // Written so that NaN fails too.
  if (!(policy.failure_ratio > 0 && policy.failure_ratio <= 1)) {
    return "failure_ratio must be greater than 0 and at most 1";
  }
  if (policy.min_requests < 1) return "min_requests must be at least 1";
  if (policy.window_buckets < 1 || policy.window_buckets > kMaxWindowBuckets) {
    return "window_buckets must be between 1 and " + std::to_string(kMaxWindowBuckets);
  }
  if (policy.window.count() < int64_t(policy.window_buckets)) {
    return "window must be at least 1 ms per bucket";
  }
  if (policy.open_for.count() < 1) return "open_for must be at least 1 ms";
  if (policy.half_open_requests < 1 || policy.half_open_requests > kMaxHalfOpenRequests) {
    return "half_open_requests must be between 1 and " + std::to_string(kMaxHalfOpenRequests);
  }
  return {};
}

}  // namespace portico::filters
