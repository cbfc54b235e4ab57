#include "upstream/Balancer.h"

#include <algorithm>
#include <array>

#include "upstream/balancers/LeastRequest.h"
#include "upstream/balancers/Maglev.h"
#include "upstream/balancers/PowerOfTwoChoices.h"
#include "upstream/balancers/RingHash.h"
#include "upstream/balancers/RoundRobin.h"
#include "upstream/balancers/SmoothWeightedRoundRobin.h"
#include "upstream/balancers/WeightedRandom.h"

namespace portico::upstream {

namespace {

constexpr std::array<std::string_view, 7> kKinds = {
    "round_robin", "weighted_round_robin", "least_request", "p2c", "random", "ring_hash", "maglev",
};

}  // namespace

bool any_usable(const EndpointView& view) {
  for (size_t i = 0; i < view.size(); ++i)
    if (view.usable(i)) return true;
  return false;
}

std::span<const std::string_view> balancer_kinds() {
  return kKinds;
}

bool is_balancer_kind(std::string_view kind) {
  return std::find(kKinds.begin(), kKinds.end(), kind) != kKinds.end();
}

bool balancer_uses_hash(std::string_view kind) {
  return kind == "ring_hash" || kind == "maglev";
}

std::shared_ptr<const BalancerPlan> make_balancer_plan(
    std::string_view kind, std::span<const BalancerEndpoint> endpoints) {
  using namespace balancers;
  if (kind == "round_robin") return make_round_robin_plan(endpoints);
  if (kind == "weighted_round_robin") return make_smooth_weighted_round_robin_plan(endpoints);
  if (kind == "least_request") return make_least_request_plan(endpoints);
  if (kind == "p2c") return make_power_of_two_choices_plan(endpoints);
  if (kind == "random") return make_weighted_random_plan(endpoints);
  if (kind == "ring_hash") return make_ring_hash_plan(endpoints);
  if (kind == "maglev") return make_maglev_plan(endpoints);
  return nullptr;
}

std::unique_ptr<Balancer> make_balancer(std::string_view kind,
                                        std::span<const BalancerEndpoint> endpoints,
                                        uint64_t seed) {
  auto plan = make_balancer_plan(kind, endpoints);
  return plan ? plan->instantiate(seed) : nullptr;
}

}  // namespace portico::upstream
