// A balancer's own random numbers: splitmix64 (Steele, Lea and Flood, 2014). Eight bytes
// of state, a full 2^64 period and statistically sound output; it spreads requests, it
// guards nothing, so it need not be cryptographic. Seeded explicitly, so tests are
// deterministic and each worker can get its own stream.
#pragma once

#include <cstdint>

#include "upstream/HashKey.h"

namespace portico::upstream::balancers {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    state_ += 0x9E3779B97F4A7C15ull;
    return mix64(state_);
  }

  // Uniform in [0, n) for n >= 1, by multiply-and-shift instead of a division (Lemire,
  // 2019); the bias, at most n / 2^64, is far below anything a balancer could notice.
  uint64_t below(uint64_t n) {
    __extension__ using u128 = unsigned __int128;
    return uint64_t((u128(next()) * n) >> 64);
  }

 private:
  uint64_t state_;
};

}  // namespace portico::upstream::balancers
