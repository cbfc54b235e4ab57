#include "upstream/EndpointPool.h"

#include "upstream/WorkerUpstream.h"

namespace portico::upstream {

EndpointPool::EndpointPool(WorkerUpstream& owner, size_t index, core::Timers& timers,
                           stats::EndpointStats& stats)
    : owner_(owner),
      upstream_(owner.config()),
      endpoint_(upstream_.endpoints[owner.state().endpoint_of(index)]),
      index_(index),
      state_(owner.state()),
      connect_timeouts_(timers.list(upstream_.connect_timeout)),
      // One attempt's wait for its response: per_try when retries set one.
      response_timeouts_(timers.list(upstream_.per_try_timeout.count() > 0
                                         ? upstream_.per_try_timeout
                                         : upstream_.response_timeout)),
      idle_timeouts_(timers.list(upstream_.idle_timeout)),
      stats_(stats) {}

void EndpointPool::link(UpstreamConn* c) {
  idle_.push_back(c);
  stats_.idle.add();
}

void EndpointPool::unlink(UpstreamConn* c) {
  idle_.remove(c);
  stats_.idle.sub();
}

bool EndpointPool::put_idle(UpstreamConn* c) {
  if (idle_.size() >= upstream_.max_idle ||
      c->generation() != health().generation.load(std::memory_order_relaxed))
    return false;
  // Requests wait only behind a connection limit. Then the slot goes to a waiting request:
  // one of this worker's takes the connection on the loop's next turn; for one on another
  // worker, closing frees it.
  if (state_.limits_connections()) {
    if (owner_.waiting() > 0)
      state_.wake_workers();
    else if (state_.pending() > 0)
      return false;
  }
  link(c);
  return true;
}

UpstreamConn* EndpointPool::take_idle(bool verify) {
  uint32_t generation = health().generation.load(std::memory_order_relaxed);
  while (UpstreamConn* c = idle_.back()) {
    unlink(c);
    if (c->generation() == generation && !(verify && c->peer_spoke())) return c;
    c->abort();  // to an address this slot no longer holds, or closed by the endpoint
  }
  return nullptr;
}

void EndpointPool::close_stale_idle() {
  uint32_t generation = health().generation.load(std::memory_order_relaxed);
  for (UpstreamConn* c = idle_.front(); c;) {
    UpstreamConn* next = idle_.next(c);
    if (c->generation() != generation) {
      unlink(c);
      c->abort();
    }
    c = next;
  }
}

bool EndpointPool::close_one_idle() {
  UpstreamConn* c = idle_.front();
  if (!c) return false;
  unlink(c);
  c->abort();
  return true;
}

void EndpointPool::adopt_idle(EndpointPool& from) {
  // A session resumes without verifying the server again: it moves only between pools
  // that verify and present the same things.
  if (from.tls_session_ && !tls_session_ &&
      tls::UpstreamTlsContext::same(owner_.tls(), from.owner_.tls()))
    tls_session_ = std::move(from.tls_session_);
  // Least recently used first, so the order (most recent at the back) is kept.
  while (UpstreamConn* c = from.idle_.front()) {
    if (idle_.size() >= upstream_.max_idle) return;
    from.unlink(c);
    c->move_to(*this);
    link(c);
  }
}

void EndpointPool::close_all_idle() {
  // Idle connections close themselves; they must not point back at a dead pool.
  while (UpstreamConn* c = idle_.front()) {
    unlink(c);
    c->abort();
  }
}

EndpointPool::~EndpointPool() {
  close_all_idle();
}

}  // namespace portico::upstream
