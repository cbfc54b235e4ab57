// The circuit_breaker filter through the real binary: the error-ratio breaker opening,
// answering without touching the pool, probing and closing or reopening; the fallbacks;
// Envoy-style limits failing fast; what counts as a failure; reloads; what the admin API
// and the metrics show.
#include <gtest/gtest.h>

#include <atomic>

#include "harness/AdminClient.h"
#include "harness/HttpClient.h"
#include "harness/PorticoProcess.h"
#include "harness/Ports.h"
#include "harness/Template.h"
#include "harness/TestUpstream.h"

namespace portico::it {
namespace {

constexpr const char* kConfig = R"(workers: 2
log: { level: info, access_log: off }
admin: { address: 127.0.0.1:{{ADMIN}} }
listeners:
  - name: main
    address: 127.0.0.1:{{PORT}}
    routes:
      - name: ratio
        match: { path_prefix: /ratio }
        filters:
          - circuit_breaker: { failure_ratio: 0.5, min_requests: 4, window: 10s, open_for: {{OPEN_FOR}}, half_open_requests: 1 }
        upstream: flaky
      - name: custom
        match: { path_prefix: /custom }
        filters:
          - circuit_breaker:
              failure_ratio: 1
              min_requests: 2
              open_for: 1h
              fallback: { respond: { status: 200, headers: { x-degraded: "1" }, body: "cached answer\n" } }
        upstream: custom
      - name: fallback
        match: { path_prefix: /fallback }
        filters:
          - circuit_breaker: { failure_ratio: 1, min_requests: 2, open_for: 1h, fallback: { upstream: spare } }
        upstream: primary
      - name: gateway-only
        match: { path_prefix: /gateway }
        filters:
          - circuit_breaker: { failure_ratio: 0.5, min_requests: 4, open_for: 1h, failure_on: [gateway, connect_failure] }
        upstream: app
      - name: limits
        match: { path_prefix: /limits }
        filters:
          - circuit_breaker: { max_requests: 2 }
        upstream: slow
      - name: queue
        match: { path_prefix: /queue }
        filters:
          - circuit_breaker: { max_connections: 1, max_pending: 1 }
        upstream: queued
      - name: hung
        match: { path_prefix: /hung }
        filters:
          - circuit_breaker: { failure_ratio: 1, min_requests: 2, open_for: 1h }
        upstream: hung
upstreams:
  - name: hung
    endpoints: [ "{{HUNG}}" ]
    timeouts: { total: 200ms }
  - name: flaky
    endpoints: [ "{{FLAKY}}" ]
  - name: custom
    endpoints: [ "{{FLAKY}}" ]
  - name: primary
    endpoints: [ "{{PRIMARY}}" ]
  - name: spare
    endpoints: [ "{{SPARE}}" ]
  - name: app
    endpoints: [ "{{APP}}" ]
  - name: slow
    endpoints: [ "{{SLOW}}" ]
  - name: queued
    endpoints: [ "{{QUEUED}}" ]
    timeouts: { queue: 5s }
)";

// The pool named `name` in a /-/upstreams page, or nullptr.
const Json* PoolEntry(const Json& page, std::string_view name) {
  const Json* pools = page.Get("pools");
  if (!pools) return nullptr;
  for (const Json& p : pools->items())
    if (const Json* n = p.Get("name"); n && n->String() == name) return &p;
  return nullptr;
}

UpstreamHandler Status(std::atomic<int>& status) {
  return [&status](const HttpRequest&) {
    UpstreamResponse r;
    r.status = status.load();
    r.body = "from upstream\n";
    return r;
  };
}

class CircuitBreaker : public ::testing::Test {
 protected:
  void SetUp() override {
    vars_ = {{"PORT", std::to_string(port_)}, {"ADMIN", std::to_string(admin_port_)},
             {"FLAKY", flaky_.address()},     {"PRIMARY", primary_.address()},
             {"SPARE", spare_.address()},     {"APP", app_.address()},
             {"SLOW", slow_.address()},       {"QUEUED", queued_.address()},
             {"HUNG", hung_.address()},       {"OPEN_FOR", "300ms"}};
    PorticoOptions o;
    o.config = Fill(kConfig, vars_);
    o.ready_ports = {port_};
    proxy_ = std::make_unique<PorticoProcess>(o);
    ASSERT_TRUE(proxy_->Start());
  }

  std::optional<HttpResponse> Fetch(std::string_view path) {
    return it::Fetch(port_, Get(path), {.timeout = Ms{5000}});
  }
  int StatusOf(std::string_view path) {
    auto r = Fetch(path);
    return r ? r->status : -1;
  }
  // Sends failures to /ratio until the breaker opens (4 requests: min_requests).
  void OpenRatioBreaker() {
    flaky_status_ = 500;
    for (int i = 0; i < 4; ++i) ASSERT_EQ(StatusOf("/ratio"), 500);
    auto r = Fetch("/ratio");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 503) << r->Describe();
    ASSERT_EQ(r->headers.Get("x-portico-circuit"), "open");
  }
  // The breaker's state as /-/upstreams shows it.
  std::string BreakerState(std::string_view pool) {
    AdminClient admin(admin_port_);
    auto page = admin.GetJson("/-/upstreams");
    if (!page) return "no page: " + admin.error();
    const Json* p = PoolEntry(*page, pool);
    const Json* state = p ? p->Find("circuit_breaker.state") : nullptr;
    return state ? state->String() : "no breaker state in " + page->Dump();
  }
  // Rewrites the config with `changes`, reloads, and waits for every worker to run it.
  void Reload(const Vars& changes) {
    for (const auto& [k, v] : changes) vars_[k] = v;
    ASSERT_TRUE(proxy_->Reload(Fill(kConfig, vars_), ++generation_));
  }

  std::atomic<int> flaky_status_{200};
  TestUpstream flaky_{Status(flaky_status_)};
  TestUpstream primary_{[](const HttpRequest&) { return UpstreamResponse{.status = 502}; }};
  TestUpstream spare_{[](const HttpRequest&) { return UpstreamResponse{.body = "spare\n"}; }};
  std::atomic<int> app_status_{500};
  TestUpstream app_{Status(app_status_)};
  TestUpstream slow_{[](const HttpRequest&) { return UpstreamResponse{.delay = Ms{1500}}; }};
  TestUpstream queued_{[](const HttpRequest&) { return UpstreamResponse{.delay = Ms{1500}}; }};
  TestUpstream hung_{UpstreamOptions{.mode = UpstreamMode::kNeverRespond}};
  uint16_t port_ = FreePort();
  uint16_t admin_port_ = FreePort();
  Vars vars_;
  std::unique_ptr<PorticoProcess> proxy_;
  int generation_ = 1;
};

TEST_F(CircuitBreaker, OpensAtTheFailureRatioAndAnswersWithoutTouchingThePool) {
  EXPECT_EQ(BreakerState("flaky"), "closed");
  OpenRatioBreaker();
  EXPECT_EQ(flaky_.requests_received(), 4u);
  for (int i = 0; i < 20; ++i) {
    auto r = Fetch("/ratio");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503);
    EXPECT_TRUE(r->headers.Has("retry-after"));
  }
  EXPECT_EQ(flaky_.requests_received(), 4u);  // not one more request reached it
  EXPECT_EQ(BreakerState("flaky"), "open");
  AdminClient admin(admin_port_);
  auto m = admin.Metrics();
  ASSERT_TRUE(m) << admin.error();
  EXPECT_EQ(m->Value("portico_circuit_breaker_state", {{"pool", "flaky"}, {"state", "open"}}), 1);
  EXPECT_EQ(
      m->Value("portico_circuit_breaker_transitions_total", {{"pool", "flaky"}, {"to", "open"}}),
      1);
  EXPECT_EQ(
      m->Value("portico_circuit_breaker_rejected_total", {{"pool", "flaky"}, {"reason", "open"}}),
      21);
}

TEST_F(CircuitBreaker, AfterOpenForASucceedingProbeClosesIt) {
  OpenRatioBreaker();
  flaky_status_ = 200;
  // Open for 300 ms: requests get 503 without reaching the pool until the probe goes through.
  Deadline deadline(Ms{5000});
  int status = 503;
  while (status == 503 && !deadline.Expired()) status = StatusOf("/ratio");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(flaky_.requests_received(), 5u);  // the 4 failures and the one probe
  EXPECT_EQ(BreakerState("flaky"), "closed");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(StatusOf("/ratio"), 200);
}

TEST_F(CircuitBreaker, AFailingProbeReopensIt) {
  OpenRatioBreaker();
  Deadline deadline(Ms{5000});
  size_t seen = flaky_.requests_received();
  while (flaky_.requests_received() == seen && !deadline.Expired()) StatusOf("/ratio");
  EXPECT_EQ(flaky_.requests_received(), seen + 1);  // exactly one probe
  EXPECT_EQ(StatusOf("/ratio"), 503);               // and open again
  EXPECT_EQ(BreakerState("flaky"), "open");
  AdminClient admin(admin_port_);
  auto m = admin.Metrics();
  ASSERT_TRUE(m);
  EXPECT_EQ(
      m->Value("portico_circuit_breaker_transitions_total", {{"pool", "flaky"}, {"to", "open"}}),
      2);
  EXPECT_EQ(m->Value("portico_circuit_breaker_transitions_total",
                     {{"pool", "flaky"}, {"to", "half_open"}}),
            1);
}

TEST_F(CircuitBreaker, WhileOpenTheFallbackAnswers) {
  flaky_status_ = 503;
  EXPECT_EQ(StatusOf("/custom"), 503);
  EXPECT_EQ(StatusOf("/custom"), 503);
  auto r = Fetch("/custom");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "cached answer\n");
  EXPECT_EQ(r->headers.Get("x-degraded"), "1");
  EXPECT_EQ(flaky_.requests_received(), 2u);
}

TEST_F(CircuitBreaker, WhileOpenTheFallbackPoolServes) {
  EXPECT_EQ(StatusOf("/fallback"), 502);
  EXPECT_EQ(StatusOf("/fallback"), 502);
  for (int i = 0; i < 3; ++i) {
    auto r = Fetch("/fallback");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "spare\n");
  }
  EXPECT_EQ(primary_.requests_received(), 2u);
  EXPECT_EQ(spare_.requests_received(), 3u);
}

TEST_F(CircuitBreaker, WhatCountsAsAFailureIsConfigurable) {
  // failure_on: gateway errors and connect failures; the application's own 500s are not.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(StatusOf("/gateway"), 500);
  EXPECT_EQ(BreakerState("app"), "closed");
  app_status_ = 504;
  for (int i = 0; i < 4; ++i) EXPECT_EQ(StatusOf("/gateway"), 504);  // 4 of 8 fail: opens
  EXPECT_EQ(StatusOf("/gateway"), 503);
  EXPECT_EQ(BreakerState("app"), "open");
}

TEST_F(CircuitBreaker, RequestsCutByTheTotalTimeoutCountAsFailures) {
  EXPECT_EQ(StatusOf("/hung"), 504);
  EXPECT_EQ(StatusOf("/hung"), 504);
  EXPECT_EQ(StatusOf("/hung"), 503);
  EXPECT_EQ(BreakerState("hung"), "open");
  EXPECT_EQ(hung_.request_heads(), 2u);
}

TEST_F(CircuitBreaker, MaxRequestsFailsFastWithOverloaded) {
  HttpClient a, b;
  ASSERT_TRUE(a.Connect(port_));
  ASSERT_TRUE(b.Connect(port_));
  ASSERT_TRUE(a.Send(Get("/limits/1")));
  ASSERT_TRUE(b.Send(Get("/limits/2")));
  ASSERT_TRUE(slow_.WaitForRequestHeads(2, Ms{3000}));
  auto start = Clock::now();
  auto r = Fetch("/limits/3");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->headers.Get("x-portico-overloaded"), "true");
  EXPECT_LT(Clock::now() - start, Ms{1000});  // at once, not after the slow ones
  EXPECT_EQ(a.ReadResponse()->status, 200);
  EXPECT_EQ(b.ReadResponse()->status, 200);
  EXPECT_EQ(slow_.request_heads(), 2u);
}

TEST_F(CircuitBreaker, MaxConnectionsQueuesAndMaxPendingFailsFast) {
  HttpClient a, b;
  ASSERT_TRUE(a.Connect(port_));
  ASSERT_TRUE(b.Connect(port_));
  ASSERT_TRUE(a.Send(Get("/queue/1")));
  ASSERT_TRUE(queued_.WaitForRequestHeads(1, Ms{3000}));
  ASSERT_TRUE(b.Send(Get("/queue/2")));  // the one connection is busy: this one waits
  AdminClient admin(admin_port_);
  Deadline deadline(Ms{3000});
  while (true) {
    auto page = admin.GetJson("/-/upstreams");
    ASSERT_TRUE(page) << admin.error();
    const Json* p = PoolEntry(*page, "queued");
    ASSERT_TRUE(p) << page->Dump();
    if (p->Get("pending")->Number() == 1) {
      // It waits rather than open a second connection: max_connections holds.
      const Json* e = p->Find("endpoints.0");
      ASSERT_TRUE(e) << page->Dump();
      EXPECT_EQ(e->Get("connections_active")->Number() + e->Get("connections_idle")->Number(), 1)
          << page->Dump();
      break;
    }
    ASSERT_FALSE(deadline.Expired()) << "the second request never queued: " << page->Dump();
    ASSERT_TRUE(proxy_->PauseWhileRunning(Ms{5}));
  }
  auto r = Fetch("/queue/3");  // max_pending 1 is taken: fails at once
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->headers.Get("x-portico-overloaded"), "true");
  EXPECT_EQ(a.ReadResponse({.timeout = Ms{5000}})->status, 200);
  EXPECT_EQ(b.ReadResponse({.timeout = Ms{5000}})->status, 200);
  // The third never reached the pool. (The second may have come over a new connection: one
  // idle on another worker is closed for it, and the upstream may see the old one close
  // a moment after the new one opens, so its own peak count can read 2.)
  EXPECT_EQ(queued_.request_heads(), 2u);
}

TEST_F(CircuitBreaker, AReloadKeepsAnUnchangedBreakerOpenAndResetsAChangedOne) {
  OpenRatioBreaker();
  Reload({{"OPEN_FOR", "300ms"}, {"SPARE", primary_.address()}});  // another pool changes
  EXPECT_EQ(BreakerState("flaky"), "open");
  EXPECT_EQ(StatusOf("/ratio"), 503);
  flaky_status_ = 200;
  Reload({{"OPEN_FOR", "1h"}});  // its own settings change: closed again
  EXPECT_EQ(BreakerState("flaky"), "closed");
  EXPECT_EQ(StatusOf("/ratio"), 200);
}

}  // namespace
}  // namespace portico::it
