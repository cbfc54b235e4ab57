// ring_hash: consistent hashing on a ring (Karger et al., 1997). Each endpoint owns
// points on a 64-bit ring, in number proportional to its weight; a request key goes to
// the owner of the first point at or after it, found by binary search in the few points
// of its bucket (O(1) expected, O(log points) at worst).
// An endpoint's points depend only on its own key and weight (in lowest terms with the
// others', which removing one rarely changes), so adding or removing an
// endpoint moves only the keys it gains or loses; when an owner is unusable the key
// walks on to the next point's owner (see ClockwiseWalk.h).
//
// Points: with weights in lowest terms (Weights.h), endpoint e with key hash
// k = hash_bytes(e.key) and weight w owns mix64(k + j * 0x9E3779B97F4A7C15) for
// j = 1 .. w * kRingPointsPerWeight (fewer for huge pools, see kMaxRingPoints); a
// request key h is looked up at mix64(h). Equal points
// are ordered by the owners' key hashes, so the endpoints' order in the config does not
// matter.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

#include "upstream/Balancer.h"

namespace portico::upstream::balancers {

// Points per unit of reduced weight. An endpoint's share wanders from its weight's by
// about 1/sqrt(its points) relative, sqrt(s(1-s)/all points) absolute for share s: with
// 2048, three equal endpoints get within 0.6 percentage points of a third each (one σ),
// where 1024 left one set of endpoints in 15 more than 2 points off.
constexpr uint32_t kRingPointsPerWeight = 2048;
// Ceiling on a ring's points (12 bytes each plus a 1-byte-per-point index, shared by all
// workers). Pools whose reduced weights sum past 256 get fewer points per weight, halved
// until the ring fits; they have points enough to stay even, but a change of that count
// moves more keys than the minimum.
constexpr uint64_t kMaxRingPoints = 1 << 19;

std::shared_ptr<const BalancerPlan> make_ring_hash_plan(
    std::span<const BalancerEndpoint> endpoints);

}  // namespace portico::upstream::balancers
