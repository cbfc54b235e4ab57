// random: each usable endpoint with probability proportional to its weight, O(1).
#pragma once

#include <memory>
#include <span>

#include "upstream/Balancer.h"

namespace portico::upstream::balancers {

std::shared_ptr<const BalancerPlan> make_weighted_random_plan(
    std::span<const BalancerEndpoint> endpoints);

}  // namespace portico::upstream::balancers
