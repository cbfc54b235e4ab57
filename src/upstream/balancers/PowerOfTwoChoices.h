// p2c: two distinct usable endpoints drawn at random by weight, and of the two the one
// with fewer requests in flight (the first drawn on a tie, so an idle pool is shared by
// weight). Two samples are enough to keep the load even (Mitzenmacher, "The Power of Two
// Choices in Randomized Load Balancing"), in O(1), with no scan of the pool and no herd:
// the busiest endpoint is never chosen while another is usable.
#pragma once

#include <memory>
#include <span>

#include "upstream/Balancer.h"

namespace portico::upstream::balancers {

std::shared_ptr<const BalancerPlan> make_power_of_two_choices_plan(
    std::span<const BalancerEndpoint> endpoints);

}  // namespace portico::upstream::balancers
