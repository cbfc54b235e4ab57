#include "upstream/balancers/WeightedRandom.h"

#include <cassert>
#include <utility>

#include "upstream/balancers/Rng.h"
#include "upstream/balancers/WeightedSampler.h"

namespace portico::upstream::balancers {

namespace {

class WeightedRandomPlan final : public BalancerPlan {
 public:
  explicit WeightedRandomPlan(std::span<const BalancerEndpoint> endpoints) : sampler_(endpoints) {}
  std::unique_ptr<Balancer> instantiate(uint64_t seed) const override;
  const WeightedSampler& sampler() const { return sampler_; }

 private:
  WeightedSampler sampler_;
};

class WeightedRandom final : public Balancer {
 public:
  WeightedRandom(std::shared_ptr<const WeightedRandomPlan> plan, uint64_t seed)
      : plan_(std::move(plan)), rng_(seed) {}

  int pick(const EndpointView& view, std::optional<uint64_t>) override {
    assert(view.size() == plan_->sampler().size());
    return plan_->sampler().pick(view, rng_);
  }

 private:
  std::shared_ptr<const WeightedRandomPlan> plan_;
  Rng rng_;
};

std::unique_ptr<Balancer> WeightedRandomPlan::instantiate(uint64_t seed) const {
  return std::make_unique<WeightedRandom>(
      std::static_pointer_cast<const WeightedRandomPlan>(shared_from_this()), seed);
}

}  // namespace

std::shared_ptr<const BalancerPlan> make_weighted_random_plan(
    std::span<const BalancerEndpoint> endpoints) {
  return std::make_shared<WeightedRandomPlan>(endpoints);
}

}  // namespace portico::upstream::balancers
