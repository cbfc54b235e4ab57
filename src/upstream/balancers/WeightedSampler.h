// Weighted random choice among the usable endpoints, in O(1) expected time. Random,
// p2c, and the hash balancers (for requests without a key) all draw this way.
//
// Draws come from an alias table (Walker 1977, Vose 1991) over every endpoint: one
// column chosen uniformly, then the column's own endpoint or its alias. A draw that lands
// on an unusable endpoint is thrown away and drawn again, which keeps the shares of the
// usable endpoints exactly proportional to their weights. When most of the weight is
// unusable the retries would drag on, so after a few the choice is made exactly by one
// pass over the endpoints instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "upstream/Balancer.h"
#include "upstream/balancers/Rng.h"

namespace portico::upstream::balancers {

class WeightedSampler {
 public:
  // Weights of 0 count as 1.
  explicit WeightedSampler(std::span<const BalancerEndpoint> endpoints);

  size_t size() const { return weights_.size(); }
  uint32_t weight(size_t i) const { return weights_[i]; }

  // A usable endpoint other than `exclude` (-1: none excluded), with probability
  // proportional to its weight among those; -1 when there is none.
  int pick(const EndpointView& view, Rng& rng, int exclude = -1) const;

 private:
  int draw(Rng& rng) const;
  int pick_exactly(const EndpointView& view, Rng& rng, int exclude) const;

  std::vector<uint32_t> weights_;
  uint64_t total_ = 0;
  bool equal_ = true;  // all weights equal: a uniform draw, no alias table needed
  // Column i keeps endpoint i for draws below threshold_[i] (out of total_), and gives
  // the rest of its width to alias_[i]. Integers, so the shares are exact.
  std::vector<uint64_t> threshold_;
  std::vector<uint32_t> alias_;
};

}  // namespace portico::upstream::balancers
