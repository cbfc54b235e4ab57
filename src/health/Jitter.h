// The time until an endpoint's next probe. Spreading each interval at random keeps the
// probes of many endpoints (and of several Portico instances started together) from
// hitting the upstreams in lockstep.
#pragma once

#include <chrono>
#include <cstdint>

namespace portico::health {

// interval × (1 − jitter + 2 × jitter × unit): uniform over
// [interval × (1 − jitter), interval × (1 + jitter)] when `unit` is uniform over [0, 1].
// `jitter` is clamped to [0, 1] and `unit` to [0, 1]; the result is never negative.
std::chrono::milliseconds jittered_interval(std::chrono::milliseconds interval, double jitter,
                                            double unit);

// 64 random bits as a double uniform over [0, 1): the top 53 bits, all a double can hold.
constexpr double unit_from_bits(uint64_t bits) {
  return double(bits >> 11) * 0x1.0p-53;
}

}  // namespace portico::health
