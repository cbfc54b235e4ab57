// A worker's cursor over a consistent-hash plan (ring hash or Maglev): a request with a
// key goes where the plan's table says; one without a key is spread by weight at random.
#pragma once

#include <cassert>
#include <memory>
#include <optional>

#include "upstream/Balancer.h"
#include "upstream/balancers/Rng.h"

namespace portico::upstream::balancers {

// Plan must offer sampler() (a WeightedSampler) and lookup(hash, view).
template <typename Plan>
class HashBalancer final : public Balancer {
 public:
  HashBalancer(std::shared_ptr<const Plan> plan, uint64_t seed)
      : plan_(std::move(plan)), rng_(seed) {}

  int pick(const EndpointView& view, std::optional<uint64_t> hash) override {
    assert(view.size() == plan_->sampler().size());
    if (!hash) return plan_->sampler().pick(view, rng_);
    return plan_->lookup(*hash, view);
  }

 private:
  std::shared_ptr<const Plan> plan_;
  Rng rng_;
};

}  // namespace portico::upstream::balancers
