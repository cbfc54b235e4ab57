#include "upstream/PoolState.h"

#include <algorithm>

namespace portico::upstream {

PoolState::PoolState(const config::Upstream& upstream) : config_(upstream) {
  for (size_t i = 0; i < upstream.endpoints.size(); ++i)
    endpoints_.push_back(std::make_unique<EndpointHealth>());
}

bool PoolState::panicking(uint64_t now_ms) const {
  if (config_.panic_threshold == 0 || endpoints_.empty()) return false;
  size_t healthy = 0;
  for (const auto& e : endpoints_)
    if (e->active_healthy.load(std::memory_order_relaxed) && !e->ejected(now_ms)) ++healthy;
  return healthy * 100 < size_t(config_.panic_threshold) * endpoints_.size();
}

bool PoolState::usable(size_t i, uint64_t now_ms) const {
  const EndpointHealth& e = *endpoints_[i];
  if (config_.endpoints[i].address.length == 0) return false;  // name not resolved (yet)
  if (config_.max_connections &&
      e.connections.load(std::memory_order_relaxed) >= config_.max_connections) {
    // Full, but a worker with an idle connection to it can still use that one; the
    // caller checks its own pool before treating the endpoint as unusable.
    return false;
  }
  if (e.active_healthy.load(std::memory_order_relaxed) && !e.ejected(now_ms)) return true;
  return panicking(now_ms);
}

bool PoolState::record(size_t i, Outcome outcome, uint64_t now_ms) {
  EndpointHealth& e = *endpoints_[i];
  if (outcome == Outcome::Success) {
    // Read before writing: every request succeeds here, and a store would bounce the
    // cache line between workers even when the counters are already zero.
    if (e.consecutive_5xx.load(std::memory_order_relaxed))
      e.consecutive_5xx.store(0, std::memory_order_relaxed);
    if (e.consecutive_gateway.load(std::memory_order_relaxed))
      e.consecutive_gateway.store(0, std::memory_order_relaxed);
    return false;
  }
  const config::Outlier& o = config_.outlier;
  if (!o.enabled) return false;
  uint32_t n5 = e.consecutive_5xx.fetch_add(1, std::memory_order_relaxed) + 1;
  uint32_t ng = outcome == Outcome::GatewayFailure
                    ? e.consecutive_gateway.fetch_add(1, std::memory_order_relaxed) + 1
                    : 0;
  bool trip = (o.consecutive_5xx && n5 >= o.consecutive_5xx) ||
              (o.consecutive_gateway_failures && ng >= o.consecutive_gateway_failures);
  if (!trip || e.ejected(now_ms)) return false;

  // Never eject more than max_ejection_percent of the pool (at least one endpoint). The
  // count and the ejection happen under a lock so two workers tripping at once cannot
  // both pass the check; this runs only when an endpoint trips, never per request.
  std::lock_guard lock(ejection_mutex_);
  if (e.ejected(now_ms)) return false;
  size_t ejected = 0;
  for (const auto& other : endpoints_) ejected += other->ejected(now_ms);
  size_t allowed = std::max<size_t>(1, endpoints_.size() * o.max_ejection_percent / 100);
  if (o.max_ejection_percent == 0 || ejected >= allowed) return false;

  // The ejection grows with each repeat: base × times ejected, up to the maximum.
  uint32_t times = e.ejections.fetch_add(1, std::memory_order_relaxed) + 1;
  uint64_t span = std::min<uint64_t>(uint64_t(o.base_ejection_time.count()) * times,
                                     uint64_t(o.max_ejection_time.count()));
  e.ejected_until_ms.store(now_ms + span, std::memory_order_relaxed);
  e.consecutive_5xx.store(0, std::memory_order_relaxed);
  e.consecutive_gateway.store(0, std::memory_order_relaxed);
  ejections_total.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool PoolState::reserve_connection(size_t i) {
  EndpointHealth& e = *endpoints_[i];
  if (config_.max_connections == 0) {
    e.connections.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  // Exact across workers: the slot is taken only if the count was below the limit.
  uint32_t n = e.connections.load(std::memory_order_seq_cst);
  while (n < config_.max_connections) {
    if (e.connections.compare_exchange_weak(n, n + 1, std::memory_order_seq_cst)) return true;
  }
  return false;
}

void PoolState::release_connection(size_t i) {
  // Sequentially consistent with try_add_pending: either a waiter's own retry sees this
  // slot free, or this sees the waiter and wakes it; a wake-up is never lost.
  endpoints_[i]->connections.fetch_sub(1, std::memory_order_seq_cst);
  if (pending_.load(std::memory_order_seq_cst) > 0) wake_workers();
}

void PoolState::subscribe(uv_async_t* wake) {
  std::lock_guard lock(wake_mutex_);
  wakes_.push_back(wake);
}

void PoolState::unsubscribe(uv_async_t* wake) {
  std::lock_guard lock(wake_mutex_);
  std::erase(wakes_, wake);
}

void PoolState::wake_workers() {
  // Only while requests wait, that is under overload: the lock is off the normal path.
  std::lock_guard lock(wake_mutex_);
  for (uv_async_t* w : wakes_) uv_async_send(w);
}

bool PoolState::try_start_retry() {
  uint32_t active = requests_active_.load(std::memory_order_relaxed);
  uint32_t allowed = std::max<uint32_t>(config_.retries.min_retry_concurrency,
                                        active * config_.retries.budget_percent / 100);
  uint32_t n = retries_active_.load(std::memory_order_relaxed);
  while (n < allowed) {
    if (retries_active_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed)) return true;
  }
  return false;
}

bool PoolState::try_add_pending() {
  uint32_t n = pending_.load(std::memory_order_seq_cst);
  while (n < config_.max_pending) {
    if (pending_.compare_exchange_weak(n, n + 1, std::memory_order_seq_cst)) return true;
  }
  return false;
}

}  // namespace portico::upstream
