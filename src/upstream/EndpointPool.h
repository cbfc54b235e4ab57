// A worker's keep-alive connections to one upstream endpoint. Idle connections are
// kept most-recently-used first, so a busy worker reuses warm connections and the
// cold ones age out through the idle timeout.
#pragma once

#include <cstddef>
#include <cstdint>

#include "config/Config.h"
#include "core/IntrusiveList.h"
#include "core/Timers.h"
#include "upstream/PoolState.h"
#include "upstream/UpstreamConn.h"

namespace portico::upstream {

class EndpointPool {
 public:
  EndpointPool(const config::Upstream& upstream, size_t index, PoolState& state,
               core::Timers& timers)
      : upstream_(upstream),
        endpoint_(upstream.endpoints[index]),
        index_(index),
        state_(state),
        connect_timeouts_(timers.list(upstream.connect_timeout)),
        // One attempt's wait for its response: per_try when retries set one.
        response_timeouts_(timers.list(upstream.per_try_timeout.count() > 0
                                           ? upstream.per_try_timeout
                                           : upstream.response_timeout)),
        idle_timeouts_(timers.list(upstream.idle_timeout)) {}
  EndpointPool(const EndpointPool&) = delete;
  EndpointPool& operator=(const EndpointPool&) = delete;
  ~EndpointPool();

  const config::Upstream& upstream() const { return upstream_; }
  const config::Endpoint& endpoint() const { return endpoint_; }
  size_t index() const { return index_; }
  PoolState& state() { return state_; }
  EndpointHealth& health() { return state_.endpoint(index_); }
  core::DeadlineList& connect_timeouts() { return connect_timeouts_; }
  core::DeadlineList& response_timeouts() { return response_timeouts_; }
  core::DeadlineList& idle_timeouts() { return idle_timeouts_; }

  // An idle connection, or nullptr when a new one must be opened.
  UpstreamConn* take_idle() {
    UpstreamConn* c = idle_.back();
    if (c) idle_.remove(c);
    return c;
  }
  // Returns false when the pool is full (the caller closes the connection).
  bool put_idle(UpstreamConn* c) {
    if (idle_.size() >= upstream_.max_idle) return false;
    idle_.push_back(c);
    return true;
  }
  void forget(UpstreamConn* c) { idle_.remove(c); }
  size_t idle() const { return idle_.size(); }

  // Counters for tests and, later, the admin API.
  uint64_t connects = 0;
  uint64_t reuses = 0;

 private:
  const config::Upstream& upstream_;
  const config::Endpoint& endpoint_;
  size_t index_;
  PoolState& state_;
  core::DeadlineList& connect_timeouts_;
  core::DeadlineList& response_timeouts_;
  core::DeadlineList& idle_timeouts_;
  core::IntrusiveList<UpstreamConn> idle_;
};

}  // namespace portico::upstream
