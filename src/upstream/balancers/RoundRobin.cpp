#include "upstream/balancers/RoundRobin.h"

#include <cassert>
#include <utility>

#include "upstream/balancers/Rng.h"

namespace portico::upstream::balancers {

namespace {

class RoundRobinPlan final : public BalancerPlan {
 public:
  explicit RoundRobinPlan(size_t n) : n_(n) {}
  std::unique_ptr<Balancer> instantiate(uint64_t seed) const override;
  size_t size() const { return n_; }

 private:
  size_t n_;
};

class RoundRobin final : public Balancer {
 public:
  // Workers start at different endpoints, so their first requests spread.
  RoundRobin(std::shared_ptr<const RoundRobinPlan> plan, uint64_t seed)
      : plan_(std::move(plan)), next_(plan_->size() ? Rng(seed).below(plan_->size()) : 0) {}

  // The cursor moves to just after the endpoint chosen, not one step per pick: an
  // unusable endpoint is then skipped without giving its turn to its neighbour, and the
  // usable ones keep equal shares. O(1) while endpoints are usable; a run of unusable
  // ones costs its length, O(n) at worst.
  int pick(const EndpointView& view, std::optional<uint64_t>) override {
    const size_t n = plan_->size();
    assert(view.size() == n);
    for (size_t step = 0; step < n; ++step) {
      size_t i = next_;
      next_ = next_ + 1 == n ? 0 : next_ + 1;
      if (view.usable(i)) return int(i);
    }
    return -1;
  }

 private:
  std::shared_ptr<const RoundRobinPlan> plan_;
  size_t next_;
};

std::unique_ptr<Balancer> RoundRobinPlan::instantiate(uint64_t seed) const {
  return std::make_unique<RoundRobin>(
      std::static_pointer_cast<const RoundRobinPlan>(shared_from_this()), seed);
}

}  // namespace

std::shared_ptr<const BalancerPlan> make_round_robin_plan(
    std::span<const BalancerEndpoint> endpoints) {
  return std::make_shared<RoundRobinPlan>(endpoints.size());
}

}  // namespace portico::upstream::balancers
