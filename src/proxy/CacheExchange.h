// What the cache phase of the proxy (DownstreamCache.cpp) keeps for one request: the
// decision of the lookup, the stored response it may answer with or revalidate, and the
// response it is filling. Lives in the request's Exchange; strings keep their capacity.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "cache/CacheFill.h"
#include "cache/CachePolicy.h"
#include "cache/CacheStore.h"
#include "cache/CacheZone.h"
#include "cache/CachedResponse.h"
#include "core/Timers.h"

namespace portico::core {
class Worker;
}

namespace portico::proxy {

// Told by the store when the fill this request waits for is over; hands that to the
// request's own worker (Worker::post_cache_wakeup), which resumes it by id.
struct CacheWaiter final : cache::FillWaiter {
  void fill_finished() override;
  core::Worker* worker = nullptr;
  uint64_t id = 0;
};

struct CacheExchange {
  enum class Mode {
    None,        // the route has no cache, or the lookup has not run
    Bypass,      // not the cache's business (a method or a Range it does not serve)
    Miss,        // to the upstream; its answer is stored when it may be
    Revalidate,  // to the upstream with the stored response's validators
    Invalidate,  // an unsafe method: success invalidates the target (RFC 9111 §4.4)
  };

  void reset() {
    route = nullptr;
    mode = Mode::None;
    result = cache::CacheResult::Bypass;
    key.clear();
    host_len = 0;
    facts = {};
    stored.reset();
    serving.reset();
    request_ms = 0;
    generation = 0;
    lease.release();
    fill.reset();
    upstream_lines.clear();
    wait_timer.cancel();
    waiting = false;
    woken = false;
  }

  const cache::CacheRoute* route = nullptr;
  Mode mode = Mode::None;
  cache::CacheResult result = cache::CacheResult::Bypass;
  std::string key;        // host (lower-cased) and target
  uint32_t host_len = 0;  // the host's part of the key
  cache::RequestFacts facts;
  std::shared_ptr<const cache::CachedResponse> stored;   // found: to revalidate, or stale
  std::shared_ptr<const cache::CachedResponse> serving;  // pinned while its bytes go out
  int64_t request_ms = 0;                                // when the upstream was asked
  uint64_t generation = 0;     // the key's purge generation then (CacheStore::purge_generation)
  cache::FillLease lease;      // this request leads the key's fill
  cache::CacheFill fill;       // the upstream's response, on its way into the store
  std::string upstream_lines;  // validators for the upstream request ("Name: value\r\n")
  // Collapsing: waiting for another request's fill of the key.
  CacheWaiter waiter;
  core::TimerLink wait_timer{nullptr, 0};
  bool waiting = false;
  bool woken = false;  // waited once: look up again, but do not wait twice
};

}  // namespace portico::proxy
