#include "upstream/balancers/RingHash.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <tuple>
#include <utility>
#include <vector>

#include "upstream/HashKey.h"
#include "upstream/balancers/ClockwiseWalk.h"
#include "upstream/balancers/HashBalancer.h"
#include "upstream/balancers/Rng.h"
#include "upstream/balancers/WeightedSampler.h"
#include "upstream/balancers/Weights.h"

namespace portico::upstream::balancers {

namespace {

constexpr uint64_t kPointStride = 0x9E3779B97F4A7C15ull;

class RingHashPlan final : public BalancerPlan {
 public:
  explicit RingHashPlan(std::span<const BalancerEndpoint> endpoints) : sampler_(endpoints) {
    std::vector<uint32_t> weights = reduced_weights(endpoints);
    uint64_t weight_sum = 0;
    for (uint32_t w : weights) weight_sum += w;
    uint64_t per_weight = kRingPointsPerWeight;
    while (per_weight > 1 && weight_sum * per_weight > kMaxRingPoints) per_weight /= 2;

    struct Point {
      uint64_t position;
      uint64_t owner_key;
      uint32_t owner;
    };
    std::vector<Point> points;
    points.reserve(weight_sum * per_weight);
    for (size_t e = 0; e < endpoints.size(); ++e) {
      uint64_t key = hash_bytes(endpoints[e].key);
      for (uint64_t j = 1; j <= weights[e] * per_weight; ++j)
        points.push_back({mix64(key + j * kPointStride), key, uint32_t(e)});
    }
    std::sort(points.begin(), points.end(), [](const Point& a, const Point& b) {
      return std::tie(a.position, a.owner_key, a.owner) <
             std::tie(b.position, b.owner_key, b.owner);
    });
    positions_.reserve(points.size());
    owners_.reserve(points.size());
    for (const Point& p : points) {
      positions_.push_back(p.position);
      owners_.push_back(p.owner);
    }
    build_index();
  }

  std::unique_ptr<Balancer> instantiate(uint64_t seed) const override;

  const WeightedSampler& sampler() const { return sampler_; }

  int lookup(uint64_t hash, const EndpointView& view) const {
    if (positions_.empty()) return -1;
    uint64_t at = mix64(hash);
    size_t bucket = bucket_of(at);
    auto first = positions_.begin() + long(index_[bucket]);
    auto last = positions_.begin() + long(index_[bucket + 1]);
    size_t i = size_t(std::lower_bound(first, last, at) - positions_.begin());
    if (i == positions_.size()) i = 0;  // past the last point: round to the first
    return first_usable_from(owners_, i, view);
  }

 private:
  // A binary search over a ring of hundreds of thousands of points costs a cache miss per
  // step. The index splits the 64-bit circle into equal buckets, about four points each,
  // and records where each bucket starts, so a lookup searches a handful of neighbours.
  void build_index() {
    size_t buckets = std::bit_floor(std::max<size_t>(positions_.size() / 4, 1));
    bucket_bits_ = std::countr_zero(buckets);
    index_.resize(buckets + 1);
    size_t i = 0;
    for (size_t b = 0; b < buckets; ++b) {
      uint64_t start = bucket_bits_ == 0 ? 0 : uint64_t(b) << (64 - bucket_bits_);
      while (i < positions_.size() && positions_[i] < start) ++i;
      index_[b] = uint32_t(i);
    }
    index_[buckets] = uint32_t(positions_.size());
  }
  size_t bucket_of(uint64_t at) const {
    return bucket_bits_ == 0 ? 0 : size_t(at >> (64 - bucket_bits_));
  }

  // The ring, sorted by position; kept apart from the owners so searching reads only
  // positions.
  std::vector<uint64_t> positions_;
  std::vector<uint32_t> owners_;
  std::vector<uint32_t> index_;  // index_[b]: first point in bucket b or later
  int bucket_bits_ = 0;
  WeightedSampler sampler_;  // requests without a key
};

std::unique_ptr<Balancer> RingHashPlan::instantiate(uint64_t seed) const {
  return std::make_unique<HashBalancer<RingHashPlan>>(
      std::static_pointer_cast<const RingHashPlan>(shared_from_this()), seed);
}

}  // namespace

std::shared_ptr<const BalancerPlan> make_ring_hash_plan(
    std::span<const BalancerEndpoint> endpoints) {
  return std::make_shared<RingHashPlan>(endpoints);
}

}  // namespace portico::upstream::balancers
