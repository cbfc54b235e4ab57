// One worker's side of an upstream pool: its connection pools per endpoint and its own
// balancer state, over the PoolState every worker shares. Picking an endpoint reads only
// atomics and this worker's data: no lock on the request path.
#pragma once

#include <uv.h>

#include <memory>
#include <optional>
#include <vector>

#include "config/Config.h"
#include "core/Timers.h"
#include "upstream/EndpointPool.h"
#include "upstream/PoolState.h"

namespace portico::upstream {

class WorkerUpstream {
 public:
  WorkerUpstream(const config::Upstream& config, PoolState& state, core::Timers& timers);
  WorkerUpstream(const WorkerUpstream&) = delete;
  WorkerUpstream& operator=(const WorkerUpstream&) = delete;

  // An endpoint to send a request to, or nullptr when none is usable. `avoid` (an
  // endpoint index, or -1) is skipped when another endpoint is usable: retries prefer a
  // different endpoint.
  EndpointPool* pick(std::optional<uint64_t> hash, int avoid, uint64_t now_ms);

  const config::Upstream& config() const { return config_; }
  PoolState& state() { return state_; }
  EndpointPool& endpoint(size_t i) { return *endpoints_[i]; }
  size_t size() const { return endpoints_.size(); }

 private:
  bool usable(size_t i, uint64_t now_ms, bool panic) const;

  const config::Upstream& config_;
  PoolState& state_;
  std::vector<std::unique_ptr<EndpointPool>> endpoints_;
  size_t next_ = 0;
};

}  // namespace portico::upstream
