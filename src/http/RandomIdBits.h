// Random bits for identifiers (request ids, trace and span ids): xoshiro256** (Blackman
// and Vigna), seeded once from std::random_device. One per worker: no lock and no system
// call per id. Random enough for identifiers, which need uniqueness, not secrecy.
#pragma once

#include <cstdint>
#include <random>

namespace portico::http {

class RandomIdBits {
 public:
  RandomIdBits() {
    std::random_device rd;
    for (auto& s : s_) s = (uint64_t(rd()) << 32) ^ rd();
  }

  uint64_t next() {
    auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
    uint64_t result = rotl(s_[1] * 5, 7) * 9;
    uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

 private:
  uint64_t s_[4];
};

}  // namespace portico::http
