#include "app/MetricsReport.h"

#include <uv.h>

#include <array>
#include <map>
#include <utility>

#include "app/CacheMetrics.h"
#include "app/CanaryMetrics.h"
#include "app/FlagMetrics.h"
#include "filters/circuit_breaker/CircuitBreakerState.h"
#include "stats/PrometheusText.h"

namespace portico::app {

namespace {

using Key = std::pair<std::string, std::string>;

// A worker-summed copy of the stats types (same shape, plain numbers).
struct RouteSum {
  std::array<uint64_t, 5> responses{};
  struct {
    std::array<uint64_t, stats::kDurationBoundsUs.size() + 1> buckets{};
    uint64_t sum = 0;
    static constexpr size_t bounds() { return stats::kDurationBoundsUs.size(); }
    uint64_t bound_us(size_t i) const { return stats::kDurationBoundsUs[i]; }
    uint64_t bucket(size_t i) const { return buckets[i]; }
    uint64_t sum_us() const { return sum; }
  } duration;
  uint64_t rate_allowed = 0, rate_limited = 0, rate_redis_errors = 0;
};

struct OverheadSum {
  std::array<uint64_t, stats::kOverheadBoundsUs.size() + 1> buckets{};
  uint64_t sum = 0;
  static constexpr size_t bounds() { return stats::kOverheadBoundsUs.size(); }
  uint64_t bound_us(size_t i) const { return stats::kOverheadBoundsUs[i]; }
  uint64_t bucket(size_t i) const { return buckets[i]; }
  uint64_t sum_us() const { return sum; }
};

struct EndpointSum {
  uint64_t requests = 0, connections = 0, idle = 0;
  std::array<uint64_t, stats::kUpstreamErrorNames.size()> errors{};
};

struct ListenerSum {
  uint64_t accepted = 0, open = 0;
  uint64_t tls_handshakes = 0, tls_resumed = 0;
  std::array<uint64_t, tls::kHandshakeFailureKinds> tls_failures{};
  bool tls_seen = false;
};

constexpr std::array<const char*, 5> kClasses{"1xx", "2xx", "3xx", "4xx", "5xx"};

}  // namespace

namespace {

// Each pool's circuit breaker: its state (one series per state, 1 for the current one),
// transitions, and the requests it refused.
void write_breakers(stats::PrometheusText& out, const core::Runtime& runtime) {
  uint64_t now_ms = uv_hrtime() / 1'000'000;
  const auto& ups = runtime.config().upstreams;
  auto each = [&](auto f) {
    for (size_t u = 0; u < ups.size(); ++u)
      if (const filters::CircuitBreakerState* b = runtime.pool_state(u).breaker())
        f(ups[u].name, *b);
  };
  out.family("portico_circuit_breaker_state", "gauge",
             "The pool's error-ratio breaker: 1 for its current state (closed, open, half_open).");
  each([&](const std::string& pool, const filters::CircuitBreakerState& b) {
    if (!b.breaker) return;
    filters::BreakerState s = b.breaker->state(now_ms);
    out.sample("portico_circuit_breaker_state", {{"pool", pool}, {"state", "closed"}},
               s == filters::BreakerState::Closed ? uint64_t(1) : uint64_t(0));
    out.sample("portico_circuit_breaker_state", {{"pool", pool}, {"state", "open"}},
               s == filters::BreakerState::Open ? uint64_t(1) : uint64_t(0));
    out.sample("portico_circuit_breaker_state", {{"pool", pool}, {"state", "half_open"}},
               s == filters::BreakerState::HalfOpen ? uint64_t(1) : uint64_t(0));
  });
  out.family("portico_circuit_breaker_transitions_total", "counter",
             "Transitions of the pool's error-ratio breaker, by the state entered.");
  each([&](const std::string& pool, const filters::CircuitBreakerState& b) {
    if (!b.breaker) return;
    filters::BreakerCounters c = b.breaker->counters();
    out.sample("portico_circuit_breaker_transitions_total", {{"pool", pool}, {"to", "open"}},
               c.opened_total);
    out.sample("portico_circuit_breaker_transitions_total", {{"pool", pool}, {"to", "half_open"}},
               c.half_opened_total);
    out.sample("portico_circuit_breaker_transitions_total", {{"pool", pool}, {"to", "closed"}},
               c.closed_total);
  });
  out.family("portico_circuit_breaker_rejected_total", "counter",
             "Requests the breaker kept from the pool, by reason: open (answered or sent to "
             "the fallback) or overloaded (max_requests, max_pending).");
  each([&](const std::string& pool, const filters::CircuitBreakerState& b) {
    if (b.breaker)
      out.sample("portico_circuit_breaker_rejected_total", {{"pool", pool}, {"reason", "open"}},
                 b.breaker->counters().rejected_total);
    out.sample("portico_circuit_breaker_rejected_total", {{"pool", pool}, {"reason", "overloaded"}},
               b.overloaded_total.load(std::memory_order_relaxed));
  });
}

}  // namespace

std::string metrics_report(std::span<const stats::WorkerStats* const> workers,
                           const core::Runtime& runtime, const ReloadHistory& reloads) {
  std::map<Key, RouteSum> routes;
  std::map<Key, EndpointSum> endpoints;
  std::map<std::string, ListenerSum> listeners;
  OverheadSum overhead;
  for (const stats::WorkerStats* w : workers) {
    w->each_route([&](const std::string& l, const std::string& r, const stats::RouteStats& s) {
      RouteSum& sum = routes[{l, r}];
      for (size_t i = 0; i < sum.responses.size(); ++i) sum.responses[i] += s.responses[i].value();
      for (size_t i = 0; i < sum.duration.buckets.size(); ++i)
        sum.duration.buckets[i] += s.duration.bucket(i);
      sum.duration.sum += s.duration.sum_us();
      sum.rate_allowed += s.rate_allowed.value();
      sum.rate_limited += s.rate_limited.value();
      sum.rate_redis_errors += s.rate_redis_errors.value();
    });
    w->each_endpoint(
        [&](const std::string& p, const std::string& e, const stats::EndpointStats& s) {
          EndpointSum& sum = endpoints[{p, e}];
          sum.requests += s.requests.value();
          sum.connections += s.connections.value();
          sum.idle += s.idle.value();
          for (size_t i = 0; i < sum.errors.size(); ++i) sum.errors[i] += s.errors[i].value();
        });
    w->each_listener([&](const std::string& l, const stats::ListenerStats& s) {
      ListenerSum& sum = listeners[l];
      sum.accepted += s.accepted.value();
      sum.open += s.open.value();
      sum.tls_handshakes += s.tls_handshakes.value();
      sum.tls_resumed += s.tls_resumed.value();
      for (size_t i = 0; i < sum.tls_failures.size(); ++i)
        sum.tls_failures[i] += s.tls_failures[i].value();
    });
    for (size_t i = 0; i < overhead.buckets.size(); ++i)
      overhead.buckets[i] += w->overhead.bucket(i);
    overhead.sum += w->overhead.sum_us();
  }

  stats::PrometheusText out;
  out.family("portico_requests_total", "counter",
             "Requests answered, by listener, route and status class (route \"\": no route "
             "matched or the request was refused before routing).");
  for (const auto& [k, s] : routes)
    for (size_t i = 0; i < kClasses.size(); ++i)
      out.sample("portico_requests_total",
                 {{"listener", k.first}, {"route", k.second}, {"code", kClasses[i]}},
                 s.responses[i]);
  out.family("portico_request_duration_seconds", "histogram",
             "From a request's first byte to its response's last, by listener and route.");
  for (const auto& [k, s] : routes)
    out.histogram("portico_request_duration_seconds", {{"listener", k.first}, {"route", k.second}},
                  s.duration);
  out.family("portico_rate_limit_decisions_total", "counter",
             "Decisions of the route's rate_limit filters: allowed, or limited (answered 429). "
             "Routes appear once a rate limit has decided for them.");
  for (const auto& [k, s] : routes) {
    if (s.rate_allowed + s.rate_limited == 0) continue;
    out.sample("portico_rate_limit_decisions_total",
               {{"listener", k.first}, {"route", k.second}, {"result", "allowed"}}, s.rate_allowed);
    out.sample("portico_rate_limit_decisions_total",
               {{"listener", k.first}, {"route", k.second}, {"result", "limited"}}, s.rate_limited);
  }
  write_breakers(out, runtime);
  write_canary_metrics(out, runtime);
  write_cache_metrics(out, runtime);
  write_flag_metrics(out, workers);
  out.family("portico_rate_limit_redis_errors_total", "counter",
             "Rate-limit decisions Redis could not make (down, slow, refused), which the "
             "limit's fail mode then made.");
  for (const auto& [k, s] : routes)
    if (s.rate_redis_errors)
      out.sample("portico_rate_limit_redis_errors_total",
                 {{"listener", k.first}, {"route", k.second}}, s.rate_redis_errors);
  out.family("portico_proxy_overhead_seconds", "histogram",
             "Time spent in Portico for a proxied request, without the wait for the upstream: "
             "validating, routing and writing the upstream head, and relaying the response head.");
  out.histogram("portico_proxy_overhead_seconds", {}, overhead);

  out.family("portico_listener_connections_accepted_total", "counter",
             "Client connections accepted.");
  for (const auto& [l, s] : listeners)
    out.sample("portico_listener_connections_accepted_total", {{"listener", l}}, s.accepted);
  out.family("portico_listener_connections_open", "gauge", "Client connections open now.");
  for (const auto& [l, s] : listeners)
    out.sample("portico_listener_connections_open", {{"listener", l}}, s.open);
  // limits.max_connections: the count it is compared with is the gauge above (the same
  // connections, summed over workers), so "open / max" is how full the listener is.
  out.family("portico_listener_max_connections", "gauge",
             "The listener's limits.max_connections, for listeners that set one: with this "
             "many connections open, accepting pauses and new clients wait in the backlog.");
  for (const core::CompiledListener& l : runtime.listeners())
    if (uint32_t max = l.connections->max())
      out.sample("portico_listener_max_connections", {{"listener", l.config->name}}, uint64_t(max));
  out.family("portico_listener_accept_paused_total", "counter",
             "Times a worker stopped accepting on the listener because it was at "
             "max_connections (it resumes when a connection closes).");
  for (const core::CompiledListener& l : runtime.listeners())
    if (l.connections->max() || l.connections->paused_total())
      out.sample("portico_listener_accept_paused_total", {{"listener", l.config->name}},
                 l.connections->paused_total());

  // TLS families for listeners that terminate TLS now or did before a reload.
  for (auto& [l, s] : listeners) {
    const core::CompiledListener* cl = runtime.listener(l);
    s.tls_seen = (cl && cl->tls) || s.tls_handshakes > 0;
    for (uint64_t f : s.tls_failures) s.tls_seen = s.tls_seen || f > 0;
  }
  out.family("portico_tls_handshakes_total", "counter",
             "TLS handshakes finished, by listener; resumed: a session was resumed.");
  for (const auto& [l, s] : listeners) {
    if (!s.tls_seen) continue;
    out.sample("portico_tls_handshakes_total", {{"listener", l}, {"resumed", "false"}},
               s.tls_handshakes - s.tls_resumed);
    out.sample("portico_tls_handshakes_total", {{"listener", l}, {"resumed", "true"}},
               s.tls_resumed);
  }
  out.family("portico_tls_handshake_failures_total", "counter",
             "TLS handshakes that failed, by listener and reason.");
  for (const auto& [l, s] : listeners) {
    if (!s.tls_seen) continue;
    for (size_t i = 1; i < s.tls_failures.size(); ++i)
      out.sample("portico_tls_handshake_failures_total",
                 {{"listener", l}, {"reason", tls::failure_name(tls::HandshakeFailure(i))}},
                 s.tls_failures[i]);
  }
  // Expiry is what operators alert on: `portico_tls_certificate_expiry_timestamp_seconds
  // - time() < 14 * 86400`.
  out.family("portico_tls_certificate_expiry_timestamp_seconds", "gauge",
             "When each certificate a listener serves expires (its notAfter), by file.");
  for (const core::CompiledListener& l : runtime.listeners()) {
    if (!l.tls) continue;
    for (const auto& c : l.tls->certificates())
      out.sample("portico_tls_certificate_expiry_timestamp_seconds",
                 {{"listener", l.config->name}, {"certificate", c.cert_file}},
                 uint64_t(c.not_after > 0 ? c.not_after : 0));
  }

  out.family("portico_upstream_requests_total", "counter", "Attempts sent to an endpoint.");
  for (const auto& [k, s] : endpoints)
    out.sample("portico_upstream_requests_total", {{"pool", k.first}, {"endpoint", k.second}},
               s.requests);
  out.family("portico_upstream_connections_opened_total", "counter",
             "Connections opened to an endpoint.");
  for (const auto& [k, s] : endpoints)
    out.sample("portico_upstream_connections_opened_total",
               {{"pool", k.first}, {"endpoint", k.second}}, s.connections);
  out.family("portico_upstream_errors_total", "counter",
             "Failed attempts on an endpoint, by kind.");
  for (const auto& [k, s] : endpoints)
    for (size_t i = 0; i < s.errors.size(); ++i)
      out.sample(
          "portico_upstream_errors_total",
          {{"pool", k.first}, {"endpoint", k.second}, {"kind", stats::kUpstreamErrorNames[i]}},
          s.errors[i]);
  out.family("portico_upstream_connections_idle", "gauge",
             "Idle keep-alive connections to an endpoint, all workers.");
  for (const auto& [k, s] : endpoints)
    out.sample("portico_upstream_connections_idle", {{"pool", k.first}, {"endpoint", k.second}},
               s.idle);

  // Live state of the running config's pools, one family at a time (the format wants
  // each family's samples together).
  const auto& ups = runtime.config().upstreams;
  uint64_t now_ms = uint64_t(uv_hrtime() / 1'000'000);
  auto each_endpoint = [&](auto sample) {
    for (size_t u = 0; u < ups.size(); ++u) {
      const upstream::PoolState& pool = runtime.pool_state(u);
      for (size_t slot = 0; slot < pool.size(); ++slot) {
        const upstream::EndpointHealth& h = pool.endpoint(slot);
        if (!h.present.load(std::memory_order_relaxed)) continue;
        const std::string& label = pool.label(slot);
        sample({{"pool", ups[u].name}, {"endpoint", label}}, h);
      }
    }
  };
  using Labels = std::initializer_list<stats::Label>;
  using Health = upstream::EndpointHealth;
  out.family("portico_upstream_connections_open", "gauge",
             "Connections open to an endpoint (busy and idle), all workers.");
  each_endpoint([&](Labels l, const Health& h) {
    out.sample("portico_upstream_connections_open", l,
               uint64_t(h.connections.load(std::memory_order_relaxed)));
  });
  out.family("portico_upstream_requests_outstanding", "gauge",
             "Requests in flight to an endpoint.");
  each_endpoint([&](Labels l, const Health& h) {
    out.sample("portico_upstream_requests_outstanding", l,
               uint64_t(h.outstanding.load(std::memory_order_relaxed)));
  });
  out.family("portico_upstream_endpoint_healthy", "gauge",
             "1 when the endpoint passes active health checks (or has none), else 0.");
  each_endpoint([&](Labels l, const Health& h) {
    out.sample("portico_upstream_endpoint_healthy", l,
               uint64_t(h.active_healthy.load(std::memory_order_relaxed)));
  });
  out.family("portico_upstream_endpoint_ejected", "gauge",
             "1 while outlier detection keeps the endpoint out, else 0.");
  each_endpoint([&](Labels l, const Health& h) {
    out.sample("portico_upstream_endpoint_ejected", l, uint64_t(h.ejected(now_ms)));
  });

  out.family("portico_config_reloads_total", "counter", "Reload attempts, by result.");
  out.sample("portico_config_reloads_total", {{"result", "success"}}, reloads.successes);
  out.sample("portico_config_reloads_total", {{"result", "failure"}}, reloads.failures);
  out.family("portico_config_generation", "gauge",
             "The running config's number: 1 at start, one more per successful reload.");
  out.sample("portico_config_generation", {}, reloads.generation);
  out.family("portico_config_info", "gauge", "The running config (hash: FNV-1a 64 of the file).");
  out.sample("portico_config_info", {{"hash", reloads.config_hash}}, uint64_t(1));
  out.family("portico_config_last_reload_success_timestamp_seconds", "gauge",
             "When the last successful reload happened (Unix time; 0: none yet).");
  out.sample("portico_config_last_reload_success_timestamp_seconds", {}, reloads.last_success_unix);
  return out.text();
}

}  // namespace portico::app
