// The canary filter of a route: picks the request's pool (forced by a tester, sticky by
// key, or at random by weight), and, with rollback configured, counts each pool's
// outcomes and takes a failing canary out of the split.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "filters/Filter.h"
#include "filters/canary/CanaryConfig.h"
#include "filters/canary/CanaryState.h"

namespace portico::filters {

class CanaryFilter final : public Filter {
 public:
  struct Target {
    std::string name;
    int upstream = -1;  // index in the config's upstreams
  };

  // targets[0] is the stable pool, then the canaries in the split's order.
  CanaryFilter(std::shared_ptr<const CanarySettings> settings, std::vector<Target> targets,
               std::shared_ptr<CanaryState> state, std::string listener, std::string route);

  Verdict on_request(FilterContext& ctx) const override;
  // The outcome is counted when the response head is known, as the breaker does.
  void on_response(FilterContext& ctx, int status) const override;

 private:
  // The target a tester asked for, if they may: 1 + index in targets_, or 0.
  size_t forced_target(const FilterContext& ctx) const;

  std::shared_ptr<const CanarySettings> settings_;
  std::vector<Target> targets_;
  std::shared_ptr<CanaryState> state_;
  std::string listener_;
  std::string route_;
  uint64_t route_hash_;
};

}  // namespace portico::filters
