#include "upstream/balancers/LeastRequest.h"

#include <algorithm>
#include <cassert>
#include <utility>
#include <vector>

#include "upstream/balancers/Rng.h"

namespace portico::upstream::balancers {

namespace {

// Endpoints compared per pick: the whole pool up to this size, this many beyond it.
constexpr size_t kCandidates = 16;

class LeastRequestPlan final : public BalancerPlan {
 public:
  explicit LeastRequestPlan(std::span<const BalancerEndpoint> endpoints) {
    weights_.reserve(endpoints.size());
    for (const BalancerEndpoint& e : endpoints) weights_.push_back(std::max<uint32_t>(e.weight, 1));
  }
  std::unique_ptr<Balancer> instantiate(uint64_t seed) const override;
  std::span<const uint32_t> weights() const { return weights_; }

 private:
  std::vector<uint32_t> weights_;
};

class LeastRequest final : public Balancer {
 public:
  LeastRequest(std::shared_ptr<const LeastRequestPlan> plan, uint64_t seed)
      : plan_(std::move(plan)), rng_(seed) {}

  int pick(const EndpointView& view, std::optional<uint64_t>) override {
    std::span<const uint32_t> weights = plan_->weights();
    const size_t n = weights.size();
    assert(view.size() == n);
    if (n == 0) return -1;
    size_t i = n <= kCandidates ? 0 : rng_.below(n);
    int best = -1;
    uint64_t best_load = 0, best_weight = 1;
    uint64_t tied_weight = 0;  // weight of the endpoints tied with `best` so far
    size_t compared = 0;
    for (size_t step = 0; step < n && compared < kCandidates; ++step, i = i + 1 == n ? 0 : i + 1) {
      if (!view.usable(i)) continue;
      ++compared;
      uint64_t load = view.load(i), weight = weights[i];
      // load / weight against best_load / best_weight, cross-multiplied: exact, and the
      // products of 32-bit values cannot overflow.
      uint64_t mine = load * best_weight, theirs = best_load * weight;
      if (best < 0 || mine < theirs) {
        best = int(i);
        best_load = load;
        best_weight = weight;
        tied_weight = weight;
      } else if (mine == theirs) {
        // One-item weighted reservoir: endpoint i takes over with probability
        // weight / (weight of all tied so far), so each tied endpoint ends up chosen in
        // proportion to its weight.
        tied_weight += weight;
        if (rng_.below(tied_weight) < weight) {
          best = int(i);
          best_load = load;
          best_weight = weight;
        }
      }
    }
    return best;
  }

 private:
  std::shared_ptr<const LeastRequestPlan> plan_;
  Rng rng_;
};

std::unique_ptr<Balancer> LeastRequestPlan::instantiate(uint64_t seed) const {
  return std::make_unique<LeastRequest>(
      std::static_pointer_cast<const LeastRequestPlan>(shared_from_this()), seed);
}

}  // namespace

std::shared_ptr<const BalancerPlan> make_least_request_plan(
    std::span<const BalancerEndpoint> endpoints) {
  return std::make_shared<LeastRequestPlan>(endpoints);
}

}  // namespace portico::upstream::balancers
