#include "upstream/balancers/PowerOfTwoChoices.h"

#include <cassert>
#include <utility>

#include "upstream/balancers/Rng.h"
#include "upstream/balancers/WeightedSampler.h"

namespace portico::upstream::balancers {

namespace {

class PowerOfTwoChoicesPlan final : public BalancerPlan {
 public:
  explicit PowerOfTwoChoicesPlan(std::span<const BalancerEndpoint> endpoints)
      : sampler_(endpoints) {}
  std::unique_ptr<Balancer> instantiate(uint64_t seed) const override;
  const WeightedSampler& sampler() const { return sampler_; }

 private:
  WeightedSampler sampler_;
};

class PowerOfTwoChoices final : public Balancer {
 public:
  PowerOfTwoChoices(std::shared_ptr<const PowerOfTwoChoicesPlan> plan, uint64_t seed)
      : plan_(std::move(plan)), rng_(seed) {}

  int pick(const EndpointView& view, std::optional<uint64_t>) override {
    const WeightedSampler& sampler = plan_->sampler();
    assert(view.size() == sampler.size());
    int first = sampler.pick(view, rng_);
    if (first < 0) return -1;
    int second = sampler.pick(view, rng_, first);
    if (second < 0) return first;  // the only usable endpoint
    return view.load(size_t(second)) < view.load(size_t(first)) ? second : first;
  }

 private:
  std::shared_ptr<const PowerOfTwoChoicesPlan> plan_;
  Rng rng_;
};

std::unique_ptr<Balancer> PowerOfTwoChoicesPlan::instantiate(uint64_t seed) const {
  return std::make_unique<PowerOfTwoChoices>(
      std::static_pointer_cast<const PowerOfTwoChoicesPlan>(shared_from_this()), seed);
}

}  // namespace

std::shared_ptr<const BalancerPlan> make_power_of_two_choices_plan(
    std::span<const BalancerEndpoint> endpoints) {
  return std::make_shared<PowerOfTwoChoicesPlan>(endpoints);
}

}  // namespace portico::upstream::balancers
