// The state of one request/response on a client connection. Exchanges are pooled per
// worker and lent only while a request is in flight, so an idle keep-alive connection
// holds none, and their strings and vectors keep their capacity from one request to
// the next (no allocation per request in steady state).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "core/Runtime.h"
#include "core/Timers.h"
#include "filters/FilterContext.h"
#include "flags/FlagDecisions.h"
#include "http/ConnectionTokens.h"
#include "http/HeadCollector.h"
#include "http/TraceContext.h"
#include "proxy/CacheExchange.h"

namespace portico::upstream {
class EndpointPool;
class UpstreamConn;
class WorkerUpstream;
}  // namespace portico::upstream

namespace portico::proxy {

struct Exchange {
  void reset() {
    head.reset();
    method.clear();
    target.clear();
    upstream_head.clear();
    response_head.clear();
    route = nullptr;
    pool = nullptr;
    endpoint = nullptr;
    attempts = 0;
    avoid = -1;
    queue_timer.cancel();
    total_timer.cancel();
    hash.reset();
    counted_active = holds_retry = counted_outstanding = body_sent_upstream = false;
    up = nullptr;
    local_response = nullptr;
    status = 0;
    bytes_in = bytes_out = body_bytes = 0;
    start_ns = overhead_ns = 0;
    request_id_len = 0;
    has_traceparent = trace_continued = false;
    host_at = target_at = {};
    phase_ns = 0;
    keep_alive = http10 = has_body = expect_continue = head_request = false;
    head_sent_upstream = request_complete = response_started = response_complete = false;
    retried = up_request_done = false;
    flags.reset();
    flags_line.clear();
    cache.reset();
  }

  // Heap bytes held by reusable capacity.
  size_t footprint() const {
    return head.footprint() + method.capacity() + target.capacity() + upstream_head.capacity() +
           response_head.capacity() + filter.footprint() + flags_line.capacity() +
           cache.key.capacity() + cache.upstream_lines.capacity();
  }

  http::HeadCollector head;
  http::ConnectionTokens conn;
  std::string method;  // copies for the access log: the read buffer may be gone by then
  std::string target;
  std::string upstream_head;
  std::string response_head;
  const core::CompiledRoute* route = nullptr;
  upstream::WorkerUpstream* pool = nullptr;    // the route's upstream, this worker's side
  upstream::EndpointPool* endpoint = nullptr;  // the endpoint of the current attempt
  uint32_t attempts = 0;                       // attempts started (retries = attempts - 1)
  int avoid = -1;                              // the endpoint a retry should avoid, if it can
  core::TimerLink queue_timer{nullptr, 0};     // waiting for a connection (timeouts.queue)
  core::TimerLink total_timer{nullptr, 0};     // the whole exchange (timeouts.total)
  std::optional<uint64_t> hash;                // the request's key for hash balancers
  bool counted_active = false;       // counted in the pool's active requests (retry budget)
  bool holds_retry = false;          // holds a slot of the pool's retry budget
  bool counted_outstanding = false;  // counted in the endpoint's requests in flight
  bool body_sent_upstream = false;   // a request body byte went out: no replay possible
  upstream::UpstreamConn* up = nullptr;
  const std::string* local_response = nullptr;  // a prebuilt `respond:` answer
  int status = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t body_bytes = 0;   // request body bytes seen, against max_body_bytes
  uint64_t start_ns = 0;     // uv_hrtime() when the request began
  uint64_t overhead_ns = 0;  // time in Portico itself (stats::kOverheadBoundsUs)
  std::array<char, 64> request_id{};
  size_t request_id_len = 0;
  http::Traceparent traceparent{};  // the one sent upstream (its trace id is logged)
  bool has_traceparent = false;
  bool trace_continued = false;   // the client sent a valid traceparent
  http::Span host_at;             // the request's host (authority or Host) in the read buffer
  http::Span target_at;           // its origin-form target in the read buffer
  uint64_t phase_ns = 0;          // when Portico's current stretch of work began (overhead)
  filters::FilterContext filter;  // the route's filters' view of this request
  flags::FlagDecisions flags;     // the config's flags, decided for this request on demand
  std::string flags_line;         // "x-portico-flags: a, b\r\n" for the upstream, or ""
  CacheExchange cache;            // the route's cache, when it has one
  bool keep_alive = false;        // the client wants the connection kept
  bool http10 = false;
  bool has_body = false;
  bool expect_continue = false;
  bool head_request = false;
  bool head_sent_upstream = false;
  bool request_complete = false;
  bool response_started = false;
  bool response_complete = false;
  bool retried = false;
  bool up_request_done = false;  // the upstream was told the request is complete
};

}  // namespace portico::proxy
