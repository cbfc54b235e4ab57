// A filter's parsed configuration: what the config loader produces from the filter's
// YAML node (through FilterRegistry), and what builds the Filter for each route that
// uses it when a config is compiled.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "filters/Filter.h"
#include "filters/FilterStates.h"

namespace portico::upstream {
class PoolState;
}

namespace portico::filters {

struct CanaryRoute;
class CacheZones;

// Where a filter is being built.
struct FilterSite {
  std::string_view identity;  // the filter's config spec (config::FilterSpec::identity)
  std::string_view listener;
  std::string_view route;
  // Set when the filter is the listener's default (inherited by routes without their own).
  bool listener_default = false;
  std::string_view upstream;            // the route's pool ("" when it answers itself)
  upstream::PoolState* pool = nullptr;  // that pool's shared state
  FilterStates* states = nullptr;       // where shared state is kept across reloads
  // The index of an upstream by name in this config, or -1.
  std::function<int(std::string_view)> upstream_index;
  // Where canary filters list their routes for the admin API (null: nowhere).
  std::vector<CanaryRoute>* canary_routes = nullptr;
  // Where cache filters list their zones (null: nowhere).
  CacheZones* cache_zones = nullptr;
};

class FilterConfig {
 public:
  virtual ~FilterConfig() = default;
  // Throws std::invalid_argument for what only shows when compiling (the message is
  // reported with the route's name).
  virtual std::shared_ptr<const Filter> build(const FilterSite& site) const = 0;
};

}  // namespace portico::filters
