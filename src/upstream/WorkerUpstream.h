// One worker's side of an upstream pool: its connection pools per endpoint and its own
// balancer state, over the PoolState every worker shares. Picking an endpoint reads only
// atomics and this worker's data: no lock on the request path.
#pragma once

#include <uv.h>

#include <memory>
#include <optional>
#include <vector>

#include "config/Config.h"
#include "core/IntrusiveList.h"
#include "core/Timers.h"
#include "tls/UpstreamTlsContext.h"
#include "upstream/Balancer.h"
#include "upstream/EndpointPool.h"
#include "upstream/PoolState.h"

namespace portico::stats {
class WorkerStats;
}

namespace portico::upstream {

// A request waiting for a connection because every usable endpoint is at
// max_connections.
class ConnectionWaiter : public core::ListHook<ConnectionWaiter> {
 public:
  // A slot may have freed: true when the waiter took a connection (and left the queue),
  // false when it must wait on.
  virtual bool on_connection_slot() = 0;

 protected:
  ~ConnectionWaiter() = default;
};

class WorkerUpstream final : public EndpointView {
 public:
  // `plan` is the pool's balancer, shared by all workers; `seed` makes this worker's
  // cursor differ from the others'.
  WorkerUpstream(const config::Upstream& config, PoolState& state, const BalancerPlan& plan,
                 std::shared_ptr<const tls::UpstreamTlsContext> tls, uint64_t seed,
                 core::Timers& timers, stats::WorkerStats& stats);
  WorkerUpstream(const WorkerUpstream&) = delete;
  WorkerUpstream& operator=(const WorkerUpstream&) = delete;

  // An endpoint to send a request to, or nullptr when none is usable. `avoid` (an
  // endpoint index, or -1) is skipped when another endpoint is usable: retries prefer a
  // different endpoint.
  EndpointPool* pick(std::optional<uint64_t> hash, int avoid, uint64_t now_ms);
  // Whether the last pick() found nothing because healthy endpoints were all full.
  bool full() const { return saw_full_; }

  // The connection queue (max_pending, timeouts.queue), first come first served.
  // enqueue() is false when max_pending requests already wait.
  bool enqueue(ConnectionWaiter* w);
  void dequeue(ConnectionWaiter* w);
  size_t waiting() const { return waiters_.size(); }
  // Called when the worker is woken: serves its waiters while connections can be had,
  // and gives up idle connections that waiters on other workers need.
  void on_wake();
  // Closes idle connections to addresses their slot no longer holds (DNS changed).
  void close_stale_idle();

  // Reloads. This pool takes over the idle connections (and TLS sessions) `previous` (the
  // same pool in the config replaced) holds to endpoints whose record both share, when both
  // speak the same TLS (UpstreamTlsContext::same); the rest close.
  void adopt_idle(WorkerUpstream& previous);
  // A newer config's pool replaced this one: connections released here move on.
  void retire() { retired_ = true; }
  bool retired() const { return retired_; }
  // The endpoint pool for this endpoint record, or nullptr.
  EndpointPool* pool_for(const EndpointHealth& health);
  core::DeadlineList& queue_timeouts() { return queue_timeouts_; }
  // The whole-exchange timeout, or nullptr when it is off.
  core::DeadlineList* total_timeouts() { return total_timeouts_; }

  const config::Upstream& config() const { return config_; }
  // The pool's TLS settings, or nullptr for plain HTTP.
  const tls::UpstreamTlsContext* tls() const { return tls_.get(); }
  // The same, for a connection to keep the settings it was made with.
  const std::shared_ptr<const tls::UpstreamTlsContext>& tls_context() const { return tls_; }
  PoolState& state() { return state_; }
  EndpointPool& endpoint(size_t i) { return *endpoints_[i]; }

  // EndpointView, as of the current pick.
  size_t size() const override { return endpoints_.size(); }
  bool usable(size_t i) const override;
  uint32_t load(size_t i) const override;

 private:
  const config::Upstream& config_;
  std::shared_ptr<const tls::UpstreamTlsContext> tls_;
  PoolState& state_;
  std::unique_ptr<Balancer> balancer_;
  std::vector<std::unique_ptr<EndpointPool>> endpoints_;
  core::IntrusiveList<ConnectionWaiter> waiters_;
  core::DeadlineList& queue_timeouts_;
  core::DeadlineList* total_timeouts_;
  // Set for the duration of pick().
  uint64_t now_ms_ = 0;
  bool panic_ = false;
  int avoid_ = -1;
  mutable bool saw_full_ = false;
  uint64_t address_epoch_ = 0;  // PoolState::address_epoch() when last swept
  bool retired_ = false;
};

}  // namespace portico::upstream
