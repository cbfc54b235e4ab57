// What a filter sees of one request, and how it answers or resumes it. One lives in each
// request's Exchange (stable while the request lasts, reused by the next), so nothing is
// allocated per request; the proxy fills the views after routing, and again after a pause
// (the read buffer may have moved).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "http/Header.h"
#include "redis/RedisClient.h"

namespace portico::stats {
struct RouteStats;
}
namespace portico::cache {
struct CacheRoute;
}

namespace portico::filters {

enum class Verdict;
class Filter;
class WorkerServices;

// Per filter, per request: room for what a filter carries from on_request to on_done
// (an admission ticket, a pending call) without allocating.
struct FilterSlot {
  uint64_t a = 0;
  uint64_t b = 0;
};

// How the upstream side of the exchange ended (a breaker's failure count): set before the
// response hooks run, so they can judge it before the client sees the answer.
struct UpstreamOutcome {
  // None: no upstream attempt was made. Unavailable: none could be, the pool answered 503
  // itself (no usable endpoint, its queue full or timed out).
  enum class Kind { None, Unavailable, Response, ConnectFailure, Timeout, Reset, BadResponse };
  Kind kind = Kind::None;
  int status = 0;          // for Response
};

// Implemented by the proxy: where a paused request goes on.
class FilterHost {
 public:
  virtual void resume_filters(Verdict verdict) = 0;

 protected:
  ~FilterHost() = default;
};

// Also the handler of the Redis call a paused filter waits for (one at a time), so a
// request's call needs nothing allocated for it.
class FilterContext final : public redis::ReplyHandler {
 public:
  static constexpr size_t kMaxFilters = 8;  // per chain: a config with more is refused

  // ---- the request (valid during a hook call; copy what must outlive it) ----
  std::string_view method;
  std::string_view path;   // without the query
  std::string_view query;  // without '?'
  std::string_view host;
  std::string_view client_ip;
  std::span<const http::Header> headers;
  std::string_view listener;
  std::string_view route;
  // The monotonic clock (uv_hrtime's), read as the request head was handled (or resumed),
  // and again before on_done.
  uint64_t now_ns = 0;

  // The first value of a header (case-insensitive name), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
  // A cookie's value from the Cookie header(s), or nullopt.
  std::optional<std::string_view> cookie(std::string_view name) const;

  // ---- per worker ----
  WorkerServices* services = nullptr;
  stats::RouteStats* route_stats = nullptr;  // this worker's counters for the route

  // ---- the running filter's state ----
  FilterSlot& slot() { return slots_[current_]; }

  // ---- answering ----
  // A local answer (use with Verdict::Respond, or before resuming with it).
  void respond(int status, std::string_view body = {});
  // A header for the response to the client, whichever it is (local or the upstream's).
  void add_response_header(std::string_view name, std::string_view value);
  // Resumes a request this filter paused; on the worker's loop, never from inside
  // on_request itself.
  void resume(Verdict verdict) { host_->resume_filters(verdict); }

  // ---- Redis ----
  // An EVALSHA whose reply goes to the calling filter's on_redis_reply (return Pause when
  // accepted). A refusal (not connected, too many calls) is returned at once instead.
  redis::RedisError call_redis(redis::RedisClient& client, const redis::RedisScript& script,
                               std::span<const std::string_view> keys,
                               std::span<const std::string_view> args);
  void on_redis_reply(const redisReply* reply, redis::RedisError error) override;
  // A buffer for building strings during one hook call; its capacity is kept across
  // requests, so using it allocates nothing in steady state.
  std::string scratch;

  // ---- routing ----
  // The upstream to send the request to instead of the route's (an index in the config's
  // upstreams), or -1.
  int upstream = -1;

  // ---- caching ----
  // Set by the route's cache filter: the proxy looks the request up once the chain has let
  // it through (proxy/DownstreamCache.cpp).
  const cache::CacheRoute* cache = nullptr;

  // ---- the outcome, for on_done ----
  UpstreamOutcome outcome;

  // ---- for the chain and the proxy ----
  void reset(FilterHost* host) {
    host_ = host;
    current_ = 0;
    ran_ = 0;
    paused_ = false;
    paused_index_ = 0;
    slots_ = {};
    response_headers_.clear();
    local_status_ = 0;
    local_body_.clear();
    outcome = {};
    upstream = -1;
    cache = nullptr;
    redis_client_ = nullptr;
    redis_ticket_ = {};
    paused_filter_ = nullptr;
  }
  bool paused() const { return paused_; }
  int local_status() const { return local_status_; }
  const std::string& local_body() const { return local_body_; }
  // "Name: value\r\n" lines, appended to the head sent to the client.
  const std::string& response_headers() const { return response_headers_; }
  size_t footprint() const {
    return response_headers_.capacity() + local_body_.capacity() + scratch.capacity();
  }

 private:
  friend class FilterChain;

  FilterHost* host_ = nullptr;
  size_t current_ = 0;  // the filter running (or paused)
  size_t ran_ = 0;      // filters whose on_request ran: on_done goes to these
  bool paused_ = false;
  size_t paused_index_ = 0;                // response hooks move current_; this stays
  const Filter* paused_filter_ = nullptr;  // the one waiting for the Redis reply
  redis::RedisClient* redis_client_ = nullptr;
  redis::RedisTicket redis_ticket_;
  std::array<FilterSlot, kMaxFilters> slots_{};
  std::string response_headers_;
  int local_status_ = 0;
  std::string local_body_;
};

}  // namespace portico::filters
