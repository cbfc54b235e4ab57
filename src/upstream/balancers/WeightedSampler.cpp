#include "upstream/balancers/WeightedSampler.h"

#include <algorithm>

namespace portico::upstream::balancers {

namespace {

// Redraws before falling back to the exact pass: with half the weight unusable, one pick
// in 256 takes the O(n) path.
constexpr int kRedraws = 8;

}  // namespace

WeightedSampler::WeightedSampler(std::span<const BalancerEndpoint> endpoints) {
  weights_.reserve(endpoints.size());
  for (const BalancerEndpoint& e : endpoints) weights_.push_back(std::max<uint32_t>(e.weight, 1));
  for (uint32_t w : weights_) {
    total_ += w;
    equal_ = equal_ && w == weights_.front();
  }
  if (equal_) return;

  // Vose's construction in integers: each of the n columns is total_ wide, endpoint i
  // needs weight_i * n of the n * total_ units. Columns that need less than a full width
  // are topped up by one that needs more.
  const size_t n = weights_.size();
  threshold_.assign(n, total_);
  alias_.resize(n);
  std::vector<uint64_t> need(n);
  std::vector<uint32_t> small, large;
  for (size_t i = 0; i < n; ++i) {
    alias_[i] = uint32_t(i);
    need[i] = uint64_t(weights_[i]) * n;
    (need[i] < total_ ? small : large).push_back(uint32_t(i));
  }
  while (!small.empty() && !large.empty()) {
    uint32_t s = small.back();
    small.pop_back();
    uint32_t l = large.back();
    threshold_[s] = need[s];
    alias_[s] = l;
    need[l] -= total_ - need[s];
    if (need[l] < total_) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // Whatever is left needs exactly a full column (the sums balance in integers).
}

int WeightedSampler::draw(Rng& rng) const {
  size_t column = rng.below(weights_.size());
  if (equal_) return int(column);
  return rng.below(total_) < threshold_[column] ? int(column) : int(alias_[column]);
}

int WeightedSampler::pick(const EndpointView& view, Rng& rng, int exclude) const {
  if (weights_.empty()) return -1;
  for (int attempt = 0; attempt < kRedraws; ++attempt) {
    int i = draw(rng);
    if (i != exclude && view.usable(size_t(i))) return i;
  }
  return pick_exactly(view, rng, exclude);
}

int WeightedSampler::pick_exactly(const EndpointView& view, Rng& rng, int exclude) const {
  uint64_t usable_total = 0;
  for (size_t i = 0; i < weights_.size(); ++i)
    if (int(i) != exclude && view.usable(i)) usable_total += weights_[i];
  if (usable_total == 0) return -1;
  uint64_t target = rng.below(usable_total);
  int last = -1;
  for (size_t i = 0; i < weights_.size(); ++i) {
    if (int(i) == exclude || !view.usable(i)) continue;
    if (target < weights_[i]) return int(i);
    target -= weights_[i];
    last = int(i);
  }
  // Endpoint state is shared with other threads and may change between the two passes:
  // an endpoint that went down since the first is no reason to give up.
  return last;
}

}  // namespace portico::upstream::balancers
