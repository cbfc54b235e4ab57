// round_robin: every usable endpoint in turn, weights ignored.
#pragma once

#include <memory>
#include <span>

#include "upstream/Balancer.h"

namespace portico::upstream::balancers {

std::shared_ptr<const BalancerPlan> make_round_robin_plan(
    std::span<const BalancerEndpoint> endpoints);

}  // namespace portico::upstream::balancers
