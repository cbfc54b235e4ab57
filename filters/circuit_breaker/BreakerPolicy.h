// When an upstream pool's circuit breaker opens and how it tries the pool again: the
// settings of one ErrorRatioBreaker, as the config gives them.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace portico::filters {

struct BreakerPolicy {
  // Opens when failures / requests in the window reach this, in (0, 1].
  double failure_ratio = 0.5;
  // Requests the window must hold before the ratio is judged: a few early failures of a
  // quiet pool do not open it.
  uint32_t min_requests = 20;
  // The rolling window, aged out one bucket at a time (window / window_buckets each,
  // rounded down to whole milliseconds) rather than forgotten all at once.
  std::chrono::milliseconds window{10'000};
  uint32_t window_buckets = 10;
  // How long an open breaker rejects before it lets probes through. The same every time
  // it reopens: no growth, so its behaviour is what the config says.
  std::chrono::milliseconds open_for{30'000};
  // Probes in flight at once while half-open; this many must succeed to close.
  uint32_t half_open_requests = 1;
};

// Limits of what the breaker's counters can hold.
inline constexpr uint32_t kMaxWindowBuckets = 1000;
inline constexpr uint32_t kMaxHalfOpenRequests = 0xffff;

// Why `policy` cannot be used, or an empty string when it can. For the config loader: the
// breaker itself only clamps the values that would break its arithmetic.
std::string breaker_policy_error(const BreakerPolicy& policy);

}  // namespace portico::filters
