#include "upstream/balancers/Maglev.h"

#include <algorithm>
#include <cassert>
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

constexpr uint64_t kRehashStride = 0x9E3779B97F4A7C15ull;
constexpr uint32_t kFree = UINT32_MAX;

bool is_prime(uint64_t x) {
  if (x < 2) return false;
  for (uint64_t d = 2; d * d <= x; ++d)
    if (x % d == 0) return false;
  return true;
}

// The paper wants M well above n (100 times) so shares stay even.
uint64_t table_size(size_t n) {
  if (n * 100 <= kMaglevTableSize) return kMaglevTableSize;
  uint64_t m = n * 100;
  while (!is_prime(m)) ++m;
  return m;
}

class MaglevPlan final : public BalancerPlan {
 public:
  explicit MaglevPlan(std::span<const BalancerEndpoint> endpoints) : sampler_(endpoints) {
    const size_t n = endpoints.size();
    if (n == 0) return;
    const uint64_t m = table_size(n);
    std::vector<uint32_t> weights = reduced_weights(endpoints);
    const uint64_t max_weight = *std::max_element(weights.begin(), weights.end());

    struct Turn {
      uint64_t key;
      uint32_t endpoint;
      uint64_t slot;  // next slot of its permutation to try
      uint64_t step;
      uint64_t credit = 0;
    };
    std::vector<Turn> turns;
    turns.reserve(n);
    for (size_t e = 0; e < n; ++e) {
      uint64_t key = hash_bytes(endpoints[e].key);
      turns.push_back({key, uint32_t(e), key % m, mix64(key) % (m - 1) + 1});
    }
    std::sort(turns.begin(), turns.end(), [](const Turn& a, const Turn& b) {
      return a.key != b.key ? a.key < b.key : a.endpoint < b.endpoint;
    });

    table_.assign(m, kFree);
    uint64_t filled = 0;
    while (filled < m) {
      for (Turn& t : turns) {
        t.credit += weights[t.endpoint];
        if (t.credit < max_weight) continue;
        t.credit -= max_weight;
        while (table_[t.slot] != kFree)
          t.slot = t.slot + t.step >= m ? t.slot + t.step - m : t.slot + t.step;
        table_[t.slot] = t.endpoint;
        if (++filled == m) break;
      }
    }
  }

  std::unique_ptr<Balancer> instantiate(uint64_t seed) const override;

  const WeightedSampler& sampler() const { return sampler_; }

  int lookup(uint64_t hash, const EndpointView& view) const {
    if (table_.empty()) return -1;
    size_t slot = 0;
    for (int r = 0; r <= kMaglevRehashes; ++r) {
      slot = reduce(mix64(hash + uint64_t(r) * kRehashStride));
      if (view.usable(table_[slot])) return int(table_[slot]);
    }
    return first_usable_from(table_, slot, view);
  }

 private:
  size_t reduce(uint64_t x) const {
    __extension__ using u128 = unsigned __int128;
    return size_t((u128(x) * table_.size()) >> 64);
  }

  std::vector<uint32_t> table_;  // slot -> endpoint
  WeightedSampler sampler_;      // requests without a key
};

std::unique_ptr<Balancer> MaglevPlan::instantiate(uint64_t seed) const {
  return std::make_unique<HashBalancer<MaglevPlan>>(
      std::static_pointer_cast<const MaglevPlan>(shared_from_this()), seed);
}

}  // namespace

std::shared_ptr<const BalancerPlan> make_maglev_plan(std::span<const BalancerEndpoint> endpoints) {
  return std::make_shared<MaglevPlan>(endpoints);
}

}  // namespace portico::upstream::balancers
