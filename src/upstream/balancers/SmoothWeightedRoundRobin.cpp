#include "upstream/balancers/SmoothWeightedRoundRobin.h"

#include <cassert>
#include <utility>
#include <vector>

#include "upstream/balancers/Rng.h"
#include "upstream/balancers/WeightedSampler.h"
#include "upstream/balancers/Weights.h"

namespace portico::upstream::balancers {

namespace {

// Longest cycle kept. Run step by step, the algorithm costs O(n) per pick; the plan runs
// it once for a whole cycle (sum of the reduced weights) and workers walk the result in
// O(1). Weights that sum to more are scaled down to fit, each keeping at least one turn.
constexpr uint64_t kMaxCycle = 1 << 16;

// Unusable entries skipped in a row before one pick is made by weighted random instead,
// which bounds the cost when a heavy endpoint is down.
constexpr int kMaxSkips = 16;

std::vector<uint32_t> cycle_weights(std::span<const BalancerEndpoint> endpoints) {
  std::vector<uint32_t> weights = reduced_weights(endpoints);
  uint64_t sum = 0;
  for (uint32_t w : weights) sum += w;
  if (sum > kMaxCycle)
    for (uint32_t& w : weights) w = uint32_t(std::max<uint64_t>(1, w * kMaxCycle / sum));
  return weights;
}

class SmoothWeightedRoundRobinPlan final : public BalancerPlan {
 public:
  explicit SmoothWeightedRoundRobinPlan(std::span<const BalancerEndpoint> endpoints)
      : sampler_(endpoints) {
    std::vector<uint32_t> weights = cycle_weights(endpoints);
    int64_t total = 0;
    for (uint32_t w : weights) total += w;
    cycle_.reserve(size_t(total));
    std::vector<int64_t> current(weights.size(), 0);
    for (int64_t step = 0; step < total; ++step) {
      size_t best = 0;
      for (size_t i = 0; i < weights.size(); ++i) {
        current[i] += weights[i];
        if (current[i] > current[best]) best = i;  // ties: the first, as nginx does
      }
      current[best] -= total;
      cycle_.push_back(uint32_t(best));
    }
  }

  std::unique_ptr<Balancer> instantiate(uint64_t seed) const override;

  std::span<const uint32_t> cycle() const { return cycle_; }
  const WeightedSampler& sampler() const { return sampler_; }

 private:
  std::vector<uint32_t> cycle_;  // endpoint indexes, one cycle
  WeightedSampler sampler_;
};

class SmoothWeightedRoundRobin final : public Balancer {
 public:
  SmoothWeightedRoundRobin(std::shared_ptr<const SmoothWeightedRoundRobinPlan> plan, uint64_t seed)
      : plan_(std::move(plan)), rng_(seed) {
    // Workers start at different points of the cycle, so their first requests spread.
    if (!plan_->cycle().empty()) next_ = rng_.below(plan_->cycle().size());
  }

  // Walking the cycle past unusable endpoints' turns leaves the cycle of the usable ones,
  // so their shares stay exactly proportional to their weights.
  int pick(const EndpointView& view, std::optional<uint64_t>) override {
    std::span<const uint32_t> cycle = plan_->cycle();
    assert(view.size() == plan_->sampler().size());
    if (cycle.empty()) return -1;
    for (int skip = 0; skip < kMaxSkips; ++skip) {
      uint32_t i = cycle[next_];
      next_ = next_ + 1 == cycle.size() ? 0 : next_ + 1;
      if (view.usable(i)) return int(i);
    }
    return plan_->sampler().pick(view, rng_);
  }

 private:
  std::shared_ptr<const SmoothWeightedRoundRobinPlan> plan_;
  Rng rng_;
  size_t next_ = 0;
};

std::unique_ptr<Balancer> SmoothWeightedRoundRobinPlan::instantiate(uint64_t seed) const {
  return std::make_unique<SmoothWeightedRoundRobin>(
      std::static_pointer_cast<const SmoothWeightedRoundRobinPlan>(shared_from_this()), seed);
}

}  // namespace

std::shared_ptr<const BalancerPlan> make_smooth_weighted_round_robin_plan(
    std::span<const BalancerEndpoint> endpoints) {
  return std::make_shared<SmoothWeightedRoundRobinPlan>(endpoints);
}

}  // namespace portico::upstream::balancers
