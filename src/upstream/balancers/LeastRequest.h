// least_request: the usable endpoint with the fewest requests in flight relative to its
// weight (load / weight, compared without division), ties broken at random in proportion
// to weight. Pools of up to 16 endpoints are scanned whole, O(n) per pick. Larger pools
// compare 16 consecutive usable endpoints from a random starting point, which bounds the
// comparisons and still finds a lightly loaded endpoint, though not always the lightest.
// With equal weights an idle pool is shared evenly; under load, load / weight makes an
// endpoint of weight 2 carry about twice the requests of one of weight 1.
#pragma once

#include <memory>
#include <span>

#include "upstream/Balancer.h"

namespace portico::upstream::balancers {

std::shared_ptr<const BalancerPlan> make_least_request_plan(
    std::span<const BalancerEndpoint> endpoints);

}  // namespace portico::upstream::balancers
