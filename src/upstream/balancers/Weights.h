// Weights in lowest terms. Only ratios matter to a balancer, and the table-building ones
// (smooth round robin, ring hash) grow with the weights' sum: {100, 200} must cost no
// more than {1, 2}.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <span>
#include <vector>

#include "upstream/Balancer.h"

namespace portico::upstream::balancers {

// Each weight (0 counting as 1) divided by the greatest common divisor of them all.
inline std::vector<uint32_t> reduced_weights(std::span<const BalancerEndpoint> endpoints) {
  std::vector<uint32_t> weights;
  weights.reserve(endpoints.size());
  uint32_t divisor = 0;
  for (const BalancerEndpoint& e : endpoints) {
    weights.push_back(std::max<uint32_t>(e.weight, 1));
    divisor = std::gcd(divisor, weights.back());
  }
  for (uint32_t& w : weights) w /= divisor;
  return weights;
}

}  // namespace portico::upstream::balancers
