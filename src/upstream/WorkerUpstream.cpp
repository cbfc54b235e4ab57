#include "upstream/WorkerUpstream.h"

#include <string>
#include <unordered_map>

#include "stats/WorkerStats.h"

namespace portico::upstream {

WorkerUpstream::WorkerUpstream(const config::Upstream& config, PoolState& state,
                               const BalancerPlan& plan,
                               std::shared_ptr<const tls::UpstreamTlsContext> tls, uint64_t seed,
                               core::Timers& timers, stats::WorkerStats& stats)
    : config_(config),
      tls_(std::move(tls)),
      state_(state),
      balancer_(plan.instantiate(seed)),
      queue_timeouts_(timers.list(config.queue_timeout)),
      total_timeouts_(config.total_timeout.count() > 0 ? &timers.list(config.total_timeout)
                                                       : nullptr) {
  for (size_t i = 0; i < state.size(); ++i)
    endpoints_.push_back(std::make_unique<EndpointPool>(
        *this, i, timers, stats.endpoint(config.name, state.label(i))));
}

bool WorkerUpstream::usable(size_t i) const {
  if (int(i) == avoid_) return false;
  switch (state_.availability(i, now_ms_, panic_)) {
    case PoolState::Availability::Usable:
      return true;
    case PoolState::Availability::Full:
      // At max_connections the endpoint still serves this worker over an idle connection.
      if (endpoints_[i]->idle() > 0) return true;
      saw_full_ = true;
      return false;
    case PoolState::Availability::Down:
      break;
  }
  return false;
}

uint32_t WorkerUpstream::load(size_t i) const {
  return state_.endpoint(i).outstanding.load(std::memory_order_relaxed);
}

EndpointPool* WorkerUpstream::pick(std::optional<uint64_t> hash, int avoid, uint64_t now_ms) {
  now_ms_ = now_ms;
  saw_full_ = false;
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

bool WorkerUpstream::enqueue(ConnectionWaiter* w) {
  if (!state_.try_add_pending()) return false;
  waiters_.push_back(w);
  // Wakes this worker too: a slot freed between the failed reservation and the count
  // above is then seen by the retry (see PoolState::release_connection).
  state_.wake_workers();
  return true;
}

void WorkerUpstream::dequeue(ConnectionWaiter* w) {
  if (!w->linked()) return;
  waiters_.remove(w);
  state_.remove_pending();
}

void WorkerUpstream::on_wake() {
  uint64_t epoch = state_.address_epoch();
  if (epoch != address_epoch_) {
    address_epoch_ = epoch;
    close_stale_idle();
  }
  while (ConnectionWaiter* w = waiters_.front())
    if (!w->on_connection_slot()) break;
  // Requests wait elsewhere: idle connections here hold slots they could use.
  uint32_t pending = state_.pending();
  if (pending <= waiters_.size()) return;
  size_t shed = pending - waiters_.size();
  for (auto& e : endpoints_)
    while (shed > 0 && e->close_one_idle()) --shed;
}

void WorkerUpstream::adopt_idle(WorkerUpstream& previous) {
  // Connections made with other TLS settings (or none), or under certificate, key or CA
  // files whose content has changed since, are not this pool's to reuse.
  if (!tls::UpstreamTlsContext::same(tls_.get(), previous.tls_.get())) {
    for (auto& old : previous.endpoints_) old->close_all_idle();
    return;
  }
  std::unordered_map<const EndpointHealth*, EndpointPool*> by_record;
  for (auto& e : endpoints_) by_record.emplace(&e->health(), e.get());
  for (auto& old : previous.endpoints_) {
    auto it = by_record.find(&old->health());
    if (it != by_record.end()) it->second->adopt_idle(*old);
    old->close_all_idle();
  }
}

EndpointPool* WorkerUpstream::pool_for(const EndpointHealth& health) {
  for (auto& e : endpoints_)
    if (&e->health() == &health) return e.get();
  return nullptr;
}

void WorkerUpstream::close_stale_idle() {
  for (auto& e : endpoints_) e->close_stale_idle();
}

}  // namespace portico::upstream
