// A worker's keep-alive connections to one upstream endpoint (one slot of the pool). Idle
// connections are kept most-recently-used first, so a busy worker reuses warm connections and the
// cold ones age out through the idle timeout.
#pragma once

#include <cstddef>
#include <cstdint>

#include "config/Config.h"
#include "core/IntrusiveList.h"
#include "core/Timers.h"
#include "stats/WorkerStats.h"
#include "tls/OpenSsl.h"
#include "upstream/PoolState.h"
#include "upstream/UpstreamConn.h"

namespace portico::upstream {

class WorkerUpstream;

class EndpointPool {
 public:
  EndpointPool(WorkerUpstream& owner, size_t index, core::Timers& timers,
               stats::EndpointStats& stats);
  EndpointPool(const EndpointPool&) = delete;
  EndpointPool& operator=(const EndpointPool&) = delete;
  ~EndpointPool();

  const config::Upstream& upstream() const { return upstream_; }
  const config::Endpoint& endpoint() const { return endpoint_; }
  size_t index() const { return index_; }
  PoolState& state() { return state_; }
  EndpointHealth& health() { return state_.endpoint(index_); }
  const EndpointHealth& health() const { return state_.endpoint(index_); }
  WorkerUpstream& owner() { return owner_; }
  core::DeadlineList& connect_timeouts() { return connect_timeouts_; }
  core::DeadlineList& response_timeouts() { return response_timeouts_; }
  core::DeadlineList& idle_timeouts() { return idle_timeouts_; }

  // An idle connection, or nullptr when a new one must be opened.
  // `verify`: for a request that cannot be sent again (a body, or not idempotent), first
  // peek at the socket and pass over connections the endpoint has already closed: the
  // close of an idle connection (an endpoint draining, its keep-alive timeout) may sit
  // unread while the loop serves other events, and the request would be lost to it.
  UpstreamConn* take_idle(bool verify = false);
  // Returns false when the connection should close instead: the pool is full, or
  // requests on other workers wait for the slot it holds.
  bool put_idle(UpstreamConn* c);
  void forget(UpstreamConn* c) {
    if (c->linked()) unlink(c);
  }
  size_t idle() const { return idle_.size(); }
  // Closes the least recently used idle connection; false when there is none.
  bool close_one_idle();
  // Closes idle connections to an address the slot no longer holds.
  void close_stale_idle();
  void close_all_idle();
  // Reload: takes over `from`'s idle connections (same endpoint record), up to max_idle,
  // and its TLS session when both pools' TLS contexts are the same (a reload then costs no
  // full handshake). The caller checks the contexts before handing over connections.
  void adopt_idle(EndpointPool& from);

  stats::EndpointStats& stats() { return stats_; }
  // TLS: the newest session a connection to this endpoint received, for the next
  // connection to resume (one full handshake per endpoint and worker, not per connection).
  SSL_SESSION* tls_session() const { return tls_session_.get(); }
  // The caller checks the session comes from this pool's TLS context (see UpstreamConn).
  void keep_tls_session(tls::SslSessionPtr session) { tls_session_ = std::move(session); }

 private:
  void link(UpstreamConn* c);
  void unlink(UpstreamConn* c);

  WorkerUpstream& owner_;
  const config::Upstream& upstream_;
  const config::Endpoint& endpoint_;
  size_t index_;
  PoolState& state_;
  core::DeadlineList& connect_timeouts_;
  core::DeadlineList& response_timeouts_;
  core::DeadlineList& idle_timeouts_;
  core::IntrusiveList<UpstreamConn> idle_;  // changed only through link() and unlink()
  tls::SslSessionPtr tls_session_;
  stats::EndpointStats& stats_;
};

}  // namespace portico::upstream
