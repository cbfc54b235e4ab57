// A stale-while-revalidate refresh (RFC 5861 §3): the client got the stale response at
// once; this asks the upstream in the background, with the stored validators, and puts
// what comes back in the store (a 304 refreshes the entry, a storable response replaces
// it). It has no client: one attempt, no retries, and a failure just leaves the stale
// entry for the next request to revalidate. One per key at a time (the key's fill lease).
//
// Owned by itself: start() creates it, it frees itself when done; the worker lists it so
// a drain can stop it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cache/CacheFill.h"
#include "cache/CacheStore.h"
#include "cache/CacheZone.h"
#include "core/IntrusiveList.h"
#include "core/WorkerRuntime.h"
#include "upstream/UpstreamConn.h"

namespace portico::core {
class Worker;
}

namespace portico::proxy {

struct RefreshRequest {
  std::shared_ptr<core::WorkerRuntime> runtime;  // pins the route and the pool
  const cache::CacheRoute* route = nullptr;
  int upstream = -1;  // the pool that answered the request
  std::string key;
  std::string_view host;    // the Host to send
  std::string_view target;  // origin-form
  std::shared_ptr<const cache::CachedResponse> stored;
  cache::FillLease lease;
  uint64_t generation = 0;  // the key's purge generation when the refresh began
};

class CacheRefresh final : public upstream::UpstreamClient, public core::ListHook<CacheRefresh> {
 public:
  static void start(core::Worker& worker, RefreshRequest request);
  // The worker drains: stop now (the stale entry stays).
  void abort() { finish(false); }

  // upstream::UpstreamClient
  void on_upstream_connected() override;
  void on_upstream_request_flushed() override;
  void on_upstream_response(const upstream::ResponseHead* head, std::string_view body,
                            bool complete, const core::BufRef& pin) override;
  void on_upstream_failed(upstream::Failure failure, int uv_status) override;

  CacheRefresh(core::Worker& worker, RefreshRequest request);

 private:
  void begin();
  void finish(bool clean);

  core::Worker& worker_;
  RefreshRequest request_;
  std::string head_;                        // the request sent
  std::vector<http::Header> vary_headers_;  // the stored variant's request fields
  upstream::UpstreamConn* up_ = nullptr;
  cache::CacheFill fill_;
  int64_t request_ms_ = 0;
};

}  // namespace portico::proxy
