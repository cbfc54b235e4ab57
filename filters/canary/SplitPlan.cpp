#include "filters/canary/SplitPlan.h"

#include <cmath>

namespace portico::filters {

SplitShares shares_from_weights(std::span<const double> weights) {
  double sum = 0;
  for (double w : weights) sum += w;
  SplitShares shares;
  for (size_t i = 1; i < weights.size() && i <= kMaxCanaries; ++i)
    shares.set(i - 1, uint32_t(std::floor(weights[i] * kSplitBuckets / sum)));
  return shares;
}

}  // namespace portico::filters
