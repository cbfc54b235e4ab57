// What one pool's circuit breaker shares between workers and configs: the error-ratio
// breaker (when the config asks for one) and its counters. Kept across a reload that
// leaves the breaker's settings unchanged (FilterStates), shown on /-/upstreams and in
// /-/metrics.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "filters/circuit_breaker/ErrorRatioBreaker.h"

namespace portico::filters {

struct CircuitBreakerState {
  std::unique_ptr<ErrorRatioBreaker> breaker;  // nullptr: limits only
  std::atomic<uint64_t> overloaded_total{0};   // requests refused by max_requests/max_pending
  std::atomic<uint64_t> fallbacks_total{0};    // requests an open breaker sent to the fallback
};

}  // namespace portico::filters
