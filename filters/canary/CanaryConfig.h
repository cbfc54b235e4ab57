// `canary:` as written in a route's filters: a weighted split of the route's traffic
// between its own upstream (the stable pool) and canary pools, sticky by a request key,
// with forced routing for testers and automatic rollback.
//
//   - canary: { split: { api_v1: 95, api_v2: 5 }, sticky: header:x-user-id,
//               force_header: x-canary, force_from: [10.0.0.0/8],
//               rollback: { margin: 0.1, min_requests: 50, window: 60s } }
//
// See docs/FILTERS.md for every key.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/YamlReader.h"
#include "filters/FilterConfig.h"
#include "filters/canary/CanaryState.h"
#include "router/CidrSet.h"

namespace portico::filters {

struct SplitWeight {
  std::string upstream;
  double weight = 0;
};

struct CanarySettings {
  std::vector<SplitWeight> split;         // ordered by upstream name
  std::optional<config::HashKey> sticky;  // none: each request is assigned on its own
  std::string force_header;               // lower case; "" none
  std::string force_cookie;               // "" none
  router::CidrSet force_from;             // empty: anyone may force
  std::optional<RollbackPolicy> rollback;
  std::string rollback_text;  // the rollback settings as written, normalised (state identity)
};

// A split's weights (`{ api_v1: 95, api_v2: 5 }`): non-negative numbers, from `min_pools`
// pools to 1 + kMaxCanaries, some weight above 0; ordered by name. nullopt after
// reporting errors.
std::optional<std::vector<SplitWeight>> read_split(config::YamlReader& reader,
                                                   const config::Item& item, size_t min_pools);

std::shared_ptr<const FilterConfig> parse_canary(config::YamlReader& reader,
                                                 const config::Item& item);

}  // namespace portico::filters
