// How the consistent-hash balancers step past an unusable owner: on to the next entry of
// their ring or table, going round, until a usable one. Every worker and every process
// walks the same way, so the keys of an endpoint that goes down move to the same
// replacement everywhere, and no other key moves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "upstream/Balancer.h"

namespace portico::upstream::balancers {

// The first usable endpoint in owners[at], owners[at + 1], ... (wrapping), or -1. With
// a few endpoints down the walk is short; when it grows long the pool may be entirely
// down, which one O(n) look settles before a walk over the whole ring would.
inline int first_usable_from(std::span<const uint32_t> owners, size_t at,
                             const EndpointView& view) {
  constexpr size_t kStepsBeforeCheck = 32;
  for (size_t step = 0; step < owners.size(); ++step) {
    uint32_t owner = owners[at];
    if (view.usable(owner)) return int(owner);
    if (step == kStepsBeforeCheck && !any_usable(view)) return -1;
    at = at + 1 == owners.size() ? 0 : at + 1;
  }
  return -1;
}

}  // namespace portico::upstream::balancers
