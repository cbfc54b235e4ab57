// How a canary split maps a request to a pool, as a pure function of a 64-bit point.
//
// A split has a stable target (the route's own upstream) and up to kMaxCanaries canary
// targets, ordered by name. Each canary has a share in basis points (1/10000); the
// stable target has what is left. A request's point becomes a bucket in [0, 10000), and
// the buckets are laid out from the top: the first canary owns
// [10000 - share1, 10000), the second the range just below it, and so on; the stable
// target owns [0, 10000 - sum of shares). So raising one canary's share (the stable
// share shrinking by as much) moves only keys at the boundary below it, from the
// target under it toward the canary, and never a key from a canary back to the stable
// target; with one canary that is exactly "only stable users move, and only to the
// canary".
//
// The point of a sticky request is
//   mix64(hash_bytes(key value) ^ hash_bytes(route name))
// with Portico's stable hash (upstream/HashKey.h), so every worker of every Portico
// instance, before and after a restart, puts a key in the same bucket; a different
// route name reshuffles keys, so one user is not the canary of every route at once.
// bucket = ((point >> 32) * 10000) >> 32.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "upstream/HashKey.h"

namespace portico::filters {

inline constexpr uint32_t kSplitBuckets = 10'000;
inline constexpr size_t kMaxCanaries = 4;  // shares pack into one 64-bit word

// Canary shares in basis points, target i (0-based among the canaries) in bits 16i..16i+15.
// One word, so every worker reads a consistent split with one atomic load.
class SplitShares {
 public:
  constexpr SplitShares() = default;
  static constexpr SplitShares unpack(uint64_t word) { return SplitShares(word); }
  constexpr uint64_t pack() const { return word_; }

  constexpr uint32_t share(size_t canary) const {
    return uint32_t(word_ >> (16 * canary)) & 0xffff;
  }
  // Each share at most kSplitBuckets, and the caller keeps their sum within it.
  constexpr void set(size_t canary, uint32_t basis_points) {
    word_ &= ~(uint64_t(0xffff) << (16 * canary));
    word_ |= uint64_t(basis_points) << (16 * canary);
  }
  constexpr uint32_t total() const {
    uint32_t sum = 0;
    for (size_t i = 0; i < kMaxCanaries; ++i) sum += share(i);
    return sum;
  }
  // Target t's share: 0 is the stable target (what the canaries leave), 1 + i canary i.
  constexpr uint32_t of_target(size_t t) const {
    return t == 0 ? kSplitBuckets - total() : share(t - 1);
  }
  // The shares without the canaries in `mask` (bit i: canary i): theirs go to stable.
  constexpr SplitShares without(uint32_t mask) const {
    SplitShares s = *this;
    for (size_t i = 0; i < kMaxCanaries; ++i)
      if (mask & (1u << i)) s.set(i, 0);
    return s;
  }
  friend constexpr bool operator==(SplitShares, SplitShares) = default;

 private:
  constexpr explicit SplitShares(uint64_t word) : word_(word) {}
  uint64_t word_ = 0;
};

// Shares from relative weights: `weights[0]` is the stable target's, the rest the
// canaries' in order. Each canary gets floor(weight * 10000 / sum); the stable target the
// rest. The weights are finite, non-negative, and sum to more than 0.
SplitShares shares_from_weights(std::span<const double> weights);

// The point of a sticky key on a route (see above), from hash_bytes of the key's value.
constexpr uint64_t split_point(uint64_t key_hash, uint64_t route_hash) {
  return upstream::mix64(key_hash ^ route_hash);
}
constexpr uint32_t split_bucket(uint64_t point) {
  return uint32_t(((point >> 32) * kSplitBuckets) >> 32);
}

// The target of a bucket: 0 for stable, 1 + i for canary i. A canary in `rolled_back`
// (bit i) keeps its range, whose requests go to the stable target: so its users, and only
// they, move.
constexpr size_t split_target(SplitShares shares, uint32_t bucket, uint32_t rolled_back = 0) {
  uint32_t top = kSplitBuckets;
  for (size_t i = 0; i < kMaxCanaries; ++i) {
    uint32_t s = shares.share(i);
    if (s && bucket >= top - s) return rolled_back & (1u << i) ? 0 : 1 + i;
    top -= s;
  }
  return 0;
}

}  // namespace portico::filters
