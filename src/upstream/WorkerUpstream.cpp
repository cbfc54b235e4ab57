#include "upstream/WorkerUpstream.h"

namespace portico::upstream {

WorkerUpstream::WorkerUpstream(const config::Upstream& config, PoolState& state,
                               const BalancerPlan& plan, uint64_t seed, core::Timers& timers)
    : config_(config), state_(state), balancer_(plan.instantiate(seed)) {
  for (size_t i = 0; i < config.endpoints.size(); ++i)
    endpoints_.push_back(std::make_unique<EndpointPool>(config, i, state, timers));
}

bool WorkerUpstream::usable(size_t i) const {
  if (int(i) == avoid_) return false;
  const EndpointHealth& h = state_.endpoint(i);
  if (config_.endpoints[i].address.length == 0) return false;  // name not resolved yet
  bool healthy = h.active_healthy.load(std::memory_order_relaxed) && !h.ejected(now_ms_);
  if (!healthy && !panic_) return false;
  // At max_connections the endpoint still serves this worker through an idle connection.
  if (config_.max_connections &&
      h.connections.load(std::memory_order_relaxed) >= config_.max_connections)
    return endpoints_[i]->idle() > 0;
  return true;
}

uint32_t WorkerUpstream::load(size_t i) const {
  return state_.endpoint(i).outstanding.load(std::memory_order_relaxed);
}

EndpointPool* WorkerUpstream::pick(std::optional<uint64_t> hash, int avoid, uint64_t now_ms) {
  now_ms_ = now_ms;
  panic_ = state_.panicking(now_ms);
  avoid_ = avoid;
  int i = balancer_->pick(*this, hash);
  if (i < 0 && avoid >= 0) {
    avoid_ = -1;  // the avoided endpoint is the only one left: better it than nothing
    i = balancer_->pick(*this, hash);
  }
  avoid_ = -1;
  return i < 0 ? nullptr : endpoints_[size_t(i)].get();
}

}  // namespace portico::upstream
