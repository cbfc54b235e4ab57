// One worker's statistics, labelled by names from the config (listener, route, pool,
// endpoint, flag), so their number is bounded by the config, never by traffic. Entries are
// created when a config is applied and kept across reloads (a name that comes back
// continues its counters); the request path only follows pointers resolved then. The
// admin thread sums every worker's entries when /-/metrics is scraped.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "stats/Counter.h"
#include "tls/HandshakeFailure.h"

namespace portico::stats {

// Request durations, from the first byte of the request to the last of the response.
inline constexpr std::array<uint64_t, 12> kDurationBoundsUs{
    1'000,   5'000,   10'000,    25'000,    50'000,    100'000,
    250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000};
// Time spent in Portico itself for a proxied request (see DownstreamConn: routing and
// picking before the upstream attempt, and relaying the response head).
inline constexpr std::array<uint64_t, 10> kOverheadBoundsUs{5,   10,  25,    50,    100,
                                                            250, 500, 1'000, 5'000, 25'000};

struct RouteStats {
  std::array<Counter, 5> responses;  // by status class: 1xx .. 5xx
  Histogram<kDurationBoundsUs.size()> duration{kDurationBoundsUs};
  Counter rate_allowed;       // requests a rate_limit filter let through (once per filter)
  Counter rate_limited;       // requests a rate_limit filter answered 429
  Counter rate_redis_errors;  // decisions Redis could not make (the fail mode decided)
  void record(int status, uint64_t duration_us) {
    if (status >= 100 && status < 600) responses[size_t(status / 100 - 1)].add();
    duration.record(duration_us);
  }
};

// What went wrong on an upstream connection (upstream::Failure, in the same order).
inline constexpr std::array<const char*, 5> kUpstreamErrorNames{
    "connect_failure", "connect_timeout", "reset", "response_timeout", "bad_response"};

struct EndpointStats {
  Counter requests;     // attempts sent to the endpoint
  Counter connections;  // connections opened
  std::array<Counter, kUpstreamErrorNames.size()> errors;
  Counter idle;  // gauge: idle keep-alive connections
};

struct ListenerStats {
  Counter accepted;
  Counter open;  // gauge
  // TLS listeners: handshakes finished (and how many resumed a session), and failures by
  // tls::HandshakeFailure.
  Counter tls_handshakes;
  Counter tls_resumed;
  std::array<Counter, tls::kHandshakeFailureKinds> tls_failures;
};

// A feature flag's decisions, once per request that needed the flag.
struct FlagStats {
  Counter on;
  Counter off;
};

class WorkerStats {
 public:
  // Get-or-create; the reference stays valid for the worker's life.
  RouteStats& route(std::string_view listener, std::string_view route);
  EndpointStats& endpoint(std::string_view pool, std::string_view endpoint);
  ListenerStats& listener(std::string_view name);
  FlagStats& flag(std::string_view name);

  Histogram<kOverheadBoundsUs.size()> overhead{kOverheadBoundsUs};

  // For the scrape (admin thread): calls f(key, stats) for every entry, under the lock
  // that creation takes.
  template <typename F>
  void each_route(F f) const {
    std::lock_guard lock(mutex_);
    for (const auto& [k, v] : routes_) f(k.first, k.second, *v);
  }
  template <typename F>
  void each_endpoint(F f) const {
    std::lock_guard lock(mutex_);
    for (const auto& [k, v] : endpoints_) f(k.first, k.second, *v);
  }
  template <typename F>
  void each_listener(F f) const {
    std::lock_guard lock(mutex_);
    for (const auto& [k, v] : listeners_) f(k, *v);
  }
  template <typename F>
  void each_flag(F f) const {
    std::lock_guard lock(mutex_);
    for (const auto& [k, v] : flags_) f(k, *v);
  }

 private:
  using Key = std::pair<std::string, std::string>;
  mutable std::mutex mutex_;
  std::map<Key, std::unique_ptr<RouteStats>, std::less<>> routes_;
  std::map<Key, std::unique_ptr<EndpointStats>, std::less<>> endpoints_;
  std::map<std::string, std::unique_ptr<ListenerStats>, std::less<>> listeners_;
  std::map<std::string, std::unique_ptr<FlagStats>, std::less<>> flags_;
};

}  // namespace portico::stats
