// A worker's keep-alive connections to one upstream endpoint. Idle connections are
// kept most-recently-used first, so a busy worker reuses warm connections and the
// cold ones age out through the idle timeout.
#pragma once

#include <cstddef>
#include <cstdint>

#include "config/Config.h"
#include "core/IntrusiveList.h"
#include "upstream/UpstreamConn.h"

namespace portico::upstream {

class EndpointPool {
 public:
  EndpointPool(const config::Upstream& upstream, const config::Endpoint& endpoint)
      : upstream_(upstream), endpoint_(endpoint) {}
  EndpointPool(const EndpointPool&) = delete;
  EndpointPool& operator=(const EndpointPool&) = delete;
  ~EndpointPool();

  const config::Upstream& upstream() const { return upstream_; }
  const config::Endpoint& endpoint() const { return endpoint_; }

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
  core::IntrusiveList<UpstreamConn> idle_;
};

}  // namespace portico::upstream
