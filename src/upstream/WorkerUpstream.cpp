#include "upstream/WorkerUpstream.h"

namespace portico::upstream {

WorkerUpstream::WorkerUpstream(const config::Upstream& config, PoolState& state,
                               core::Timers& timers)
    : config_(config), state_(state) {
  for (size_t i = 0; i < config.endpoints.size(); ++i)
    endpoints_.push_back(std::make_unique<EndpointPool>(config, i, state, timers));
}

bool WorkerUpstream::usable(size_t i, uint64_t now_ms, bool panic) const {
  const EndpointHealth& h = state_.endpoint(i);
  if (config_.endpoints[i].address.length == 0) return false;  // name not resolved yet
  bool healthy = h.active_healthy.load(std::memory_order_relaxed) && !h.ejected(now_ms);
  if (!healthy && !panic) return false;
  // At max_connections the endpoint still serves this worker through an idle connection.
  if (config_.max_connections &&
      h.connections.load(std::memory_order_relaxed) >= config_.max_connections)
    return endpoints_[i]->idle() > 0;
  return true;
}

EndpointPool* WorkerUpstream::pick(std::optional<uint64_t>, int avoid, uint64_t now_ms) {
  size_t n = endpoints_.size();
  bool panic = state_.panicking(now_ms);
  EndpointPool* fallback = nullptr;
  for (size_t k = 0; k < n; ++k) {
    size_t i = next_++ % n;
    if (!usable(i, now_ms, panic)) continue;
    if (int(i) == avoid) {
      fallback = endpoints_[i].get();
      continue;
    }
    return endpoints_[i].get();
  }
  return fallback;
}

}  // namespace portico::upstream
