#include "app/AdminApi.h"

#include <uv.h>

#include <map>
#include <string>
#include <utility>

#include "admin/JsonWriter.h"
#include "app/CacheApi.h"
#include "app/CanaryApi.h"
#include "app/ConfigJson.h"
#include "app/FlagsApi.h"
#include "app/MetricsReport.h"
#include "filters/circuit_breaker/CircuitBreakerState.h"

namespace portico::app {

namespace {

using admin::AdminResponse;
using admin::JsonWriter;

void write_reloads(JsonWriter& w, const ReloadHistory& h) {
  w.key("reloads").begin_object();
  w.member("generation", h.generation);
  w.member("config_hash", h.config_hash);
  w.member("successes", h.successes);
  w.member("failures", h.failures);
  w.key("last_error");
  if (h.last_error.empty())
    w.value(nullptr);
  else
    w.value(h.last_error);
  w.member("last_success_unix", h.last_success_unix);
  w.member("last_failure_unix", h.last_failure_unix);
  w.end_object();
}

AdminResponse config_page(AdminTarget& t) {
  JsonWriter w;
  w.begin_object();
  write_reloads(w, t.reloads());
  w.key("config");
  write_config_json(w, t.runtime().config());
  w.end_object();
  return admin::json_response(200, w.take());
}

const char* breaker_state_name(filters::BreakerState s) {
  switch (s) {
    case filters::BreakerState::Closed:
      return "closed";
    case filters::BreakerState::Open:
      return "open";
    case filters::BreakerState::HalfOpen:
      return "half_open";
  }
  return "";
}

// The pool's circuit breaker, or null when it has none.
void write_breaker(JsonWriter& w, const filters::CircuitBreakerState* b, uint64_t now_ms) {
  w.key("circuit_breaker");
  if (!b) {
    w.value(nullptr);
    return;
  }
  w.begin_object();
  w.member("overloaded_total", b->overloaded_total.load(std::memory_order_relaxed));
  w.member("fallbacks_total", b->fallbacks_total.load(std::memory_order_relaxed));
  if (b->breaker) {
    filters::BreakerCounters c = b->breaker->counters();
    filters::WindowCounts window = b->breaker->window_counts(now_ms);
    w.member("state", breaker_state_name(b->breaker->state(now_ms)));
    w.member("open_for_ms", b->breaker->retry_after_ms(now_ms));
    w.member("window_requests", window.requests);
    w.member("window_failures", window.failures);
    w.member("opened_total", c.opened_total);
    w.member("half_opened_total", c.half_opened_total);
    w.member("closed_total", c.closed_total);
    w.member("rejected_total", c.rejected_total);
  }
  w.end_object();
}

AdminResponse upstreams_page(AdminTarget& t) {
  // Idle connections are per worker: their sum, by pool and endpoint label.
  std::map<std::pair<std::string, std::string>, uint64_t> idle;
  for (const stats::WorkerStats* ws : t.worker_stats())
    ws->each_endpoint(
        [&](const std::string& p, const std::string& e, const stats::EndpointStats& s) {
          idle[{p, e}] += s.idle.value();
        });
  const core::Runtime& rt = t.runtime();
  uint64_t now_ms = uv_hrtime() / 1'000'000;
  JsonWriter w;
  w.begin_object().key("pools").begin_array();
  const auto& ups = rt.config().upstreams;
  for (size_t u = 0; u < ups.size(); ++u) {
    upstream::PoolState& pool = rt.pool_state(u);
    w.begin_object();
    w.member("name", ups[u].name).member("balance", ups[u].balance);
    w.member("panic", pool.panicking(now_ms));
    w.member("pending", pool.pending());
    w.member("ejections_total", pool.ejections_total().load(std::memory_order_relaxed));
    w.member("overflows_total", pool.overflows_total().load(std::memory_order_relaxed));
    write_breaker(w, pool.breaker(), now_ms);
    w.key("endpoints").begin_array();
    for (size_t slot = 0; slot < pool.size(); ++slot) {
      const upstream::EndpointHealth& h = pool.endpoint(slot);
      const std::string& label = pool.label(slot);
      bool present = h.present.load(std::memory_order_relaxed);
      uint64_t open = h.connections.load(std::memory_order_relaxed);
      uint64_t idle_now = idle[{ups[u].name, label}];
      uint64_t until = h.ejected_until_ms.load(std::memory_order_relaxed);
      w.begin_object();
      w.member("endpoint", label);
      w.key("address");
      if (present)
        w.value(pool.address_text(slot));
      else
        w.value(nullptr);
      w.member("weight", ups[u].endpoints[pool.endpoint_of(slot)].weight);
      w.member("healthy", h.active_healthy.load(std::memory_order_relaxed));
      w.member("ejected", until > now_ms);
      w.member("ejected_for_ms", until > now_ms ? until - now_ms : 0);
      w.member("ejections", h.ejections.load(std::memory_order_relaxed));
      w.member("usable", present && pool.usable(slot, now_ms));
      w.member("connections_active", open > idle_now ? open - idle_now : 0);
      w.member("connections_idle", idle_now);
      w.member("outstanding", h.outstanding.load(std::memory_order_relaxed));
      w.end_object();
    }
    w.end_array().end_object();
  }
  w.end_array().end_object();
  return admin::json_response(200, w.take());
}

AdminResponse reload_page(AdminTarget& t) {
  ReloadOutcome o = t.reload("POST /-/reload");
  JsonWriter w;
  w.begin_object();
  w.member("status", o.ok ? "ok" : "error");
  w.member("generation", o.generation);
  if (o.ok)
    w.member("config_hash", o.config_hash);
  else
    w.member("error", o.error);
  w.end_object();
  // 422: the request was fine, the file it asked to apply was not; 503 while draining.
  return admin::json_response(o.ok ? 200 : o.draining ? 503 : 422, w.take());
}

}  // namespace

AdminResponse handle_admin_request(AdminTarget& target, const admin::AdminRequest& req) {
  bool read = req.method == "GET" || req.method == "HEAD";
  if (req.path == "/-/reload")
    return req.method == "POST" ? reload_page(target) : admin::method_not_allowed("POST");
  if (req.path == "/-/canary" || req.path.starts_with("/-/canary/"))
    return handle_canary_request(target.runtime(), req, req.path.substr(9));
  if (req.path == "/-/cache" || req.path.starts_with("/-/cache/"))
    return handle_cache_request(target.runtime(), req, req.path.substr(8));
  if (is_flags_path(req.path)) return handle_flags_request(target, req);
  if (req.path == "/-/healthz" || req.path == "/-/ready" || req.path == "/-/config" ||
      req.path == "/-/upstreams" || req.path == "/-/metrics") {
    if (!read) return admin::method_not_allowed("GET, HEAD");
    if (req.path == "/-/healthz") return admin::json_response(200, R"({"status":"ok"})");
    if (req.path == "/-/ready")
      return target.ready() ? admin::json_response(200, R"({"ready":true})")
                            : admin::json_response(503, R"({"ready":false})");
    if (req.path == "/-/config") return config_page(target);
    if (req.path == "/-/upstreams") return upstreams_page(target);
    AdminResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    std::vector<const stats::WorkerStats*> ws = target.worker_stats();
    r.body = metrics_report(ws, target.runtime(), target.reloads());
    return r;
  }
  return admin::json_error(404,
                           "no such admin path; see /-/healthz, /-/ready, /-/config, /-/upstreams, "
                           "/-/metrics, /-/reload, /-/canary, /-/flags, /-/cache");
}

}  // namespace portico::app
