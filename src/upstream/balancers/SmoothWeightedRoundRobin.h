// weighted_round_robin: smooth weighted round robin, the order nginx uses. Each step
// every endpoint earns its weight and the richest is chosen and pays the total, so the
// heavy endpoints' turns are spread through the cycle instead of bunched: {5, 1, 1} gives
// a a b a c a a, never five a's in a row.
#pragma once

#include <memory>
#include <span>

#include "upstream/Balancer.h"

namespace portico::upstream::balancers {

std::shared_ptr<const BalancerPlan> make_smooth_weighted_round_robin_plan(
    std::span<const BalancerEndpoint> endpoints);

}  // namespace portico::upstream::balancers
