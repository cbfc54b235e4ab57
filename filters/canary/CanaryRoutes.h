// The canary routes of a config, for the admin API and metrics: where each split is
// and the live state it reads (CanaryState), which the admin API changes at runtime.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "filters/canary/CanaryState.h"

namespace portico::filters {

struct CanaryRoute {
  std::string listener;
  std::string route;
  std::vector<std::string> targets;  // [0] the stable pool, then the canaries (by name)
  std::shared_ptr<CanaryState> state;
};

using CanaryRoutes = std::vector<CanaryRoute>;

}  // namespace portico::filters
