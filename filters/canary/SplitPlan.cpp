#include "filters/canary/SplitPlan.h"

#include <algorithm>
#include <cmath>

namespace portico::filters {

SplitShares shares_from_weights(std::span<const double> weights) {
  double sum = 0;
  for (double w : weights) sum += w;
  SplitShares shares;
  uint32_t left = kSplitBuckets;
  for (size_t i = 1; i < weights.size() && i <= kMaxCanaries; ++i) {
    // The epsilon keeps 0.051 of 1 at 510, where binary fractions fall just below.
    uint32_t share = uint32_t(std::floor(weights[i] * kSplitBuckets / sum + 1e-9));
    share = std::min(share, left);
    shares.set(i - 1, share);
    left -= share;
  }
  return shares;
}

}  // namespace portico::filters
