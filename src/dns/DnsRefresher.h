// Re-resolves upstream endpoints written as NAME:PORT every `dns_refresh`, on the main
// thread's loop (getaddrinfo runs on libuv's thread pool), never on a worker's. Each
// answer is applied to the pool's slots for that name (PoolState::set_addresses): new
// addresses start taking traffic, vanished ones drain. A failed lookup keeps the
// addresses the name had, is logged, and is retried at the next refresh.
#pragma once

#include <uv.h>

#include <memory>
#include <vector>

#include "core/Runtime.h"

namespace portico::dns {

class DnsRefresher {
 public:
  DnsRefresher(uv_loop_t* loop, std::shared_ptr<const core::Runtime> runtime);
  ~DnsRefresher();
  DnsRefresher(const DnsRefresher&) = delete;
  DnsRefresher& operator=(const DnsRefresher&) = delete;

  void start();
  // Stops the timers; a lookup in flight is cancelled (or its answer ignored).
  void stop();

  size_t names() const { return names_.size(); }

  class Name;

 private:
  uv_loop_t* loop_;
  std::shared_ptr<const core::Runtime> runtime_;  // keeps the config and PoolState alive
  std::vector<std::unique_ptr<Name>> names_;
};

}  // namespace portico::dns
