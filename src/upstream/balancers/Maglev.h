// maglev: consistent hashing through a lookup table (Eisenbud et al., "Maglev: A Fast and
// Reliable Software Network Load Balancer", NSDI 2016). Every endpoint has its own
// permutation of the table's slots and they take turns claiming their next free slot,
// so each ends up with a share of the table matching its weight to within one slot in
// 65537, and a pick is one table read (O(1)). Removing an endpoint moves its keys and,
// unlike a ring, a few others too (a small fraction; the unit test bounds it).
//
// The table, exactly: M = 65537, or for pools of more than 655 endpoints the smallest
// prime >= 100 * n. Endpoint e with k = hash_bytes(e.key) starts at slot k mod M and
// steps by (mix64(k) mod (M - 1)) + 1. Endpoints take turns in order of k (ties: config
// order); each turn every endpoint earns its weight in credit, and one with at least the
// largest weight's worth spends that to claim a slot. A request key h reads slot
// reduce(mix64(h)), reduce(x) = (x * M) >> 64 in 128 bits. If that owner is unusable, the
// slots reduce(mix64(h + r * 0x9E3779B97F4A7C15)) for r = 1..kMaglevRehashes are tried,
// which spreads the keys of a down endpoint over the others by weight; then the table is
// walked from the last one (ClockwiseWalk.h).
#pragma once

#include <memory>
#include <span>

#include "upstream/Balancer.h"

namespace portico::upstream::balancers {

constexpr uint64_t kMaglevTableSize = 65537;
constexpr int kMaglevRehashes = 4;

std::shared_ptr<const BalancerPlan> make_maglev_plan(std::span<const BalancerEndpoint> endpoints);

}  // namespace portico::upstream::balancers
