// The admin API on its own port, run against the real binary: the read paths and their JSON,
// the bearer token, /-/metrics read with a strict Prometheus text parser and compared with
// what clients sent and upstreams received, POST /-/reload with a good and a broken file,
// readiness while draining, and the admin port kept apart from the listeners. Real upstreams
// on loopback; every wait is for an event (a log line, a request, a scrape showing the
// count) with a deadline.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <future>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "harness/AdminClient.h"
#include "harness/HttpClient.h"
#include "harness/Json.h"
#include "harness/PorticoProcess.h"
#include "harness/Ports.h"
#include "harness/PrometheusParser.h"
#include "harness/TempDir.h"
#include "harness/Template.h"
#include "harness/TestUpstream.h"

namespace portico::it {
namespace {

constexpr const char* kToken = "adm1n-T0ken-8c41f2e7";

// Listener `main`: /hello is answered by the route itself, /app... goes to pool `backend`,
// anything else has no route (404). The admin API on ADMIN, with TOKEN (", token: ..." or
// nothing).
constexpr const char* kConfig = R"(workers: 2
drain_timeout: 5s
log: { level: info, access_log: off }
reload: { watch: false }  # only POST /-/reload reloads in these tests
admin: { address: 127.0.0.1:{{ADMIN}}{{TOKEN}} }
listeners:
  - name: main
    address: 127.0.0.1:{{MAIN}}
    routes:
      - name: hello
        match: { path: /hello }
        respond: { status: 200, body: "{{HELLO}}" }
      - name: app
        match: { path_prefix: /app }
        upstream: backend
upstreams:
  - name: backend
    endpoints: [ {{ENDPOINTS}} ]
    timeouts: { connect: 1s, response: 5s }
{{EXTRA}})";

// Listener `main` sends everything but /-/portico to the upstream; listener `bare` has only
// the /-/portico route.
constexpr const char* kSeparateConfig = R"(workers: 1
log: { level: info, access_log: off }
reload: { watch: false }
admin: { address: 127.0.0.1:{{ADMIN}} }
listeners:
  - name: main
    address: 127.0.0.1:{{MAIN}}
    routes:
      - name: own_page
        match: { path: /-/portico }
        respond: { status: 200, body: "route answer" }
      - name: everything
        match: { path_prefix: / }
        upstream: backend
  - name: bare
    address: 127.0.0.1:{{BARE}}
    routes:
      - name: bare_page
        match: { path: /-/portico }
        respond: { status: 200, body: "route answer" }
upstreams:
  - name: backend
    endpoints: [ {{ENDPOINTS}} ]
)";

constexpr const char* kFastChecks =
    "    health_check: { type: http, path: /healthz, interval: 200ms, timeout: 100ms, "
    "healthy: 2, unhealthy: 2 }\n";

// A string that appears nowhere unless a test sends it.
std::string Unique(const std::string& prefix) {
  std::random_device seed;
  std::mt19937_64 bits(seed());
  return prefix + std::to_string(bits());
}

// The JSON value at `path` as text ("<no PATH>" when missing), for EXPECT_EQ.
std::string Text(const Json& j, std::string_view path) {
  const Json* v = j.Find(path);
  if (!v) return "<no " + std::string(path) + ">";
  return v->IsString() ? v->String() : v->Dump();
}

// The number at `path`, NaN when missing or not a number.
double Number(const Json& j, std::string_view path) {
  const Json* v = j.Find(path);
  return v && v->IsNumber() ? v->Number() : std::nan("");
}

// The entry of /-/upstreams for `endpoint` in `pool`, or nullptr.
const Json* EndpointEntry(const Json& upstreams, const std::string& pool,
                          const std::string& endpoint) {
  const Json* pools = upstreams.Get("pools");
  if (!pools) return nullptr;
  for (const Json& p : pools->items()) {
    if (Text(p, "name") != pool || !p.Get("endpoints")) continue;
    for (const Json& e : p.Get("endpoints")->items())
      if (Text(e, "endpoint") == endpoint) return &e;
  }
  return nullptr;
}

// Line and column (1-based) of the first `needle` in `text`, as "LINE:COL".
std::string PositionOf(const std::string& text, const std::string& needle) {
  size_t at = text.find(needle);
  if (at == std::string::npos) return "<not found>";
  size_t line = 1 + size_t(std::count(text.begin(), text.begin() + long(at), '\n'));
  size_t line_start = text.rfind('\n', at);
  size_t column = line_start == std::string::npos ? at + 1 : at - line_start;
  return std::to_string(line) + ":" + std::to_string(column);
}

class AdminApi : public ::testing::Test {
 protected:
  AdminApi() {
    vars_ = {{"MAIN", std::to_string(main_)},
             {"BARE", std::to_string(bare_)},
             {"ADMIN", std::to_string(admin_port_)},
             {"TOKEN", ""},
             {"HELLO", "one"},
             {"ENDPOINTS", a_.address()},
             {"EXTRA", ""}};
  }

  void Start(const char* config = kConfig) {
    PorticoOptions o;
    o.config = Fill(config, vars_);
    o.ready_ports = {main_, admin_port_};
    config_text_ = o.config;
    proxy_ = std::make_unique<PorticoProcess>(o);
    ASSERT_TRUE(proxy_->Start());
  }

  void UseToken() {
    vars_["TOKEN"] = std::string(", token: \"") + kToken + "\"";
    admin_.set_token(kToken);
  }

  // "STATUS BODY" of one request to a listener, on a new connection.
  std::string Body(uint16_t port, const std::string& target, std::string_view method = "GET") {
    std::string error;
    auto r = Fetch(port, Request(method, target), {}, &error);
    if (!r) return "no response: " + error;
    return std::to_string(r->status) + " " + r->body;
  }

  // Scrapes /-/metrics until pred(exposition) holds, or the deadline passes; returns the
  // last scrape. A worker counts a request once its response is written, a moment after the
  // client may have read it, so a count is awaited rather than read once.
  template <typename Pred>
  PromExposition WaitForMetrics(Pred pred, Ms timeout = Ms{3000}) {
    Deadline deadline(timeout);
    while (true) {
      std::optional<PromExposition> m = admin_.Metrics();
      if (!m) {
        ADD_FAILURE() << admin_.error();
        return {};
      }
      if (pred(*m) || deadline.Expired()) return *m;
      if (!proxy_->PauseWhileRunning(std::min(Ms{5}, deadline.Remaining()))) {
        ADD_FAILURE() << "the proxy exited\n" << proxy_->DiagnosticTail();
        return *m;
      }
    }
  }

  // GET /-/upstreams until pred(json) holds, or the deadline passes; the last answer.
  template <typename Pred>
  Json WaitForUpstreams(Pred pred, Ms timeout = Ms{3000}) {
    Deadline deadline(timeout);
    while (true) {
      std::optional<Json> j = admin_.GetJson("/-/upstreams");
      if (!j) {
        ADD_FAILURE() << admin_.error();
        return {};
      }
      if (pred(*j) || deadline.Expired()) return *j;
      if (!proxy_->PauseWhileRunning(std::min(Ms{5}, deadline.Remaining()))) {
        ADD_FAILURE() << "the proxy exited\n" << proxy_->DiagnosticTail();
        return *j;
      }
    }
  }

  // Replaces the config file as editors do (a new file renamed over it).
  void WriteConfig(const std::string& text) {
    ReplaceFile(proxy_->config_path(), text);
    config_text_ = text;
  }

  uint16_t main_ = FreePort();
  uint16_t bare_ = FreePort();
  uint16_t admin_port_ = FreePort();
  TestUpstream a_;
  Vars vars_;
  std::string config_text_;  // what the config file holds now
  AdminClient admin_{admin_port_};
  std::unique_ptr<PorticoProcess> proxy_;
};

TEST_F(AdminApi, ReadPathsAnswerJson) {
  Start();

  std::optional<HttpResponse> r = admin_.Get("/-/healthz");
  ASSERT_TRUE(r) << admin_.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->headers.Value("Content-Type"), "application/json");
  EXPECT_EQ(r->headers.Value("Cache-Control"), "no-store");
  std::optional<Json> healthz = ParseJson(r->body);
  ASSERT_TRUE(healthz) << r->body;
  EXPECT_EQ(Text(*healthz, "status"), "ok");

  std::optional<Json> ready = admin_.GetJson("/-/ready");
  ASSERT_TRUE(ready) << admin_.error();
  EXPECT_EQ(Text(*ready, "ready"), "true");

  std::optional<Json> config = admin_.GetJson("/-/config");
  ASSERT_TRUE(config) << admin_.error();
  const std::string dump = config->Dump();
  EXPECT_EQ(Number(*config, "reloads.generation"), 1) << dump;
  EXPECT_EQ(Text(*config, "reloads.config_hash"), ConfigHash(config_text_)) << dump;
  EXPECT_EQ(Number(*config, "reloads.successes"), 0) << dump;
  EXPECT_EQ(Number(*config, "reloads.failures"), 0) << dump;
  EXPECT_EQ(Text(*config, "reloads.last_error"), "null") << dump;
  EXPECT_EQ(Text(*config, "config.source"), proxy_->config_path()) << dump;
  EXPECT_EQ(Text(*config, "config.admin.address"), "127.0.0.1:" + std::to_string(admin_port_));
  EXPECT_EQ(Text(*config, "config.admin.token"), "null") << dump;
  EXPECT_EQ(Text(*config, "config.listeners.0.name"), "main") << dump;
  EXPECT_EQ(Text(*config, "config.listeners.0.address"), "127.0.0.1:" + std::to_string(main_));
  EXPECT_EQ(Text(*config, "config.listeners.0.routes.0.name"), "hello") << dump;
  EXPECT_EQ(Text(*config, "config.listeners.0.routes.0.respond.body"), "one") << dump;
  EXPECT_EQ(Text(*config, "config.listeners.0.routes.1.name"), "app") << dump;
  EXPECT_EQ(Text(*config, "config.listeners.0.routes.1.upstream"), "backend") << dump;
  EXPECT_EQ(Text(*config, "config.upstreams.0.name"), "backend") << dump;
  EXPECT_EQ(Text(*config, "config.upstreams.0.endpoints.0.address"), a_.address()) << dump;

  std::optional<Json> upstreams = admin_.GetJson("/-/upstreams");
  ASSERT_TRUE(upstreams) << admin_.error();
  EXPECT_EQ(Text(*upstreams, "pools.0.name"), "backend") << upstreams->Dump();
  const Json* a = EndpointEntry(*upstreams, "backend", a_.address());
  ASSERT_TRUE(a) << upstreams->Dump();
  EXPECT_EQ(Text(*a, "address"), a_.address());
  EXPECT_EQ(Text(*a, "healthy"), "true");
  EXPECT_EQ(Text(*a, "usable"), "true");

  // HEAD: the same head, no body.
  r = admin_.Send("HEAD", "/-/config");
  ASSERT_TRUE(r) << admin_.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_GT(std::stoul(r->headers.Value("Content-Length")), 0u);
  EXPECT_EQ(r->body, "");
}

TEST_F(AdminApi, ConfigStringsAreEscapedAsJson) {
  // YAML escapes for a quote, a backslash, a tab, a line feed, a control character and two
  // non-ASCII characters.
  vars_["HELLO"] = R"(q \" b \\ t \t n \n c \x01 e \u00e9 s \u2603)";
  const std::string decoded = "q \" b \\ t \t n \n c \x01 e \xc3\xa9 s \xe2\x98\x83";
  Start();
  ASSERT_EQ(Body(main_, "/hello"), "200 " + decoded);
  std::optional<Json> config = admin_.GetJson("/-/config");
  ASSERT_TRUE(config) << admin_.error();
  EXPECT_EQ(Text(*config, "config.listeners.0.routes.0.respond.body"), decoded);
}

TEST_F(AdminApi, ConfigShowsTheTokenRedactedAndItAppearsNowhere) {
  UseToken();
  Start();
  std::optional<HttpResponse> r = admin_.Get("/-/config");
  ASSERT_TRUE(r) << admin_.error();
  ASSERT_EQ(r->status, 200) << r->Describe();
  std::optional<Json> config = ParseJson(r->body);
  ASSERT_TRUE(config) << r->body;
  EXPECT_EQ(Text(*config, "config.admin.token"), "<redacted>") << r->body;
  EXPECT_EQ(r->body.find(kToken), std::string::npos) << r->body;
  std::string metrics;
  ASSERT_TRUE(admin_.Metrics(&metrics)) << admin_.error();
  EXPECT_EQ(metrics.find(kToken), std::string::npos);
  std::optional<HttpResponse> upstreams = admin_.Get("/-/upstreams");
  ASSERT_TRUE(upstreams) << admin_.error();
  EXPECT_EQ(upstreams->body.find(kToken), std::string::npos);
  EXPECT_EQ(proxy_->Stderr().find(kToken), std::string::npos) << proxy_->Stderr();
}

TEST_F(AdminApi, UnknownPathIs404AndWrongMethodsAre405) {
  Start();
  std::optional<HttpResponse> r = admin_.Get("/-/nothing-here");
  ASSERT_TRUE(r) << admin_.error();
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->headers.Value("Content-Type"), "application/json");
  std::optional<Json> error = ParseJson(r->body);
  ASSERT_TRUE(error) << r->body;
  EXPECT_TRUE(error->Get("error") && error->Get("error")->IsString()) << r->body;

  r = admin_.Get("/-/reload");
  ASSERT_TRUE(r) << admin_.error();
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->headers.Value("Allow"), "POST");
  EXPECT_TRUE(ParseJson(r->body)) << r->body;

  r = admin_.Post("/-/metrics");
  ASSERT_TRUE(r) << admin_.error();
  EXPECT_EQ(r->status, 405);
  EXPECT_NE(r->headers.Value("Allow").find("GET"), std::string::npos) << r->Describe();
  EXPECT_EQ(r->headers.Value("Allow").find("POST"), std::string::npos) << r->Describe();

  r = admin_.Send("DELETE", "/-/config");
  ASSERT_TRUE(r) << admin_.error();
  EXPECT_EQ(r->status, 405);

  // None of these reloaded anything.
  std::optional<Json> config = admin_.GetJson("/-/config");
  ASSERT_TRUE(config) << admin_.error();
  EXPECT_EQ(Number(*config, "reloads.successes"), 0);
  EXPECT_EQ(Number(*config, "reloads.failures"), 0);
  EXPECT_EQ(proxy_->Stderr().find("reloading"), std::string::npos) << proxy_->Stderr();
}

TEST_F(AdminApi, TokenIsRequired) {
  UseToken();
  Start();
  AdminClient anonymous(admin_port_);
  std::optional<HttpResponse> r = anonymous.Get("/-/healthz");
  ASSERT_TRUE(r) << anonymous.error();
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->headers.Value("WWW-Authenticate"), "Bearer");
  EXPECT_TRUE(ParseJson(r->body)) << r->body;

  // Checked before the path: an unknown path without the token is 401 too, not 404.
  r = anonymous.Get("/-/nothing-here");
  ASSERT_TRUE(r) << anonymous.error();
  EXPECT_EQ(r->status, 401);

  AdminClient wrong(admin_port_, std::string(kToken) + "x");
  r = wrong.Get("/-/healthz");
  ASSERT_TRUE(r) << wrong.error();
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(r->headers.Value("WWW-Authenticate"), "Bearer");

  // The token in another scheme is no bearer token.
  r = anonymous.Send("GET", "/-/healthz", {{"Authorization", std::string("Basic ") + kToken}});
  ASSERT_TRUE(r) << anonymous.error();
  EXPECT_EQ(r->status, 401);

  // A reload needs the token as well.
  r = wrong.Post("/-/reload");
  ASSERT_TRUE(r) << wrong.error();
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(proxy_->Stderr().find("reloading"), std::string::npos) << proxy_->Stderr();

  r = admin_.Get("/-/healthz");
  ASSERT_TRUE(r) << admin_.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(admin_.Metrics()) << admin_.error();
  EXPECT_TRUE(admin_.GetJson("/-/config")) << admin_.error();
}

TEST_F(AdminApi, UpstreamsShowIdleKeepAliveConnectionsAndFailedHealthChecks) {
  // A answers its health checks, B fails them.
  TestUpstream b([](const HttpRequest& request) {
    if (request.target != "/healthz") return DefaultResponse(request);
    UpstreamResponse r;
    r.status = 503;
    return r;
  });
  vars_["ENDPOINTS"] = a_.address() + ", " + b.address();
  vars_["EXTRA"] = kFastChecks;
  Start();
  ASSERT_TRUE(
      proxy_->WaitForStderr("upstream backend endpoint " + b.address() + " is unhealthy", Ms{5000}))
      << proxy_->DiagnosticTail();

  // Keep-alive requests: all to A, whose connection then waits idle in the pool.
  HttpClient c;
  ASSERT_TRUE(c.Connect(main_));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.Send(Get("/app/" + std::to_string(i))));
    auto r = c.ReadResponse();
    ASSERT_TRUE(r) << c.error();
    ASSERT_EQ(r->status, 200);
  }
  auto idle_at_a = [&](const Json& j) {
    const Json* e = EndpointEntry(j, "backend", a_.address());
    return e && Number(*e, "connections_idle") >= 1;
  };
  Json upstreams = WaitForUpstreams(idle_at_a);
  const std::string dump = upstreams.Dump();
  const Json* a = EndpointEntry(upstreams, "backend", a_.address());
  ASSERT_TRUE(a) << dump;
  EXPECT_GE(Number(*a, "connections_idle"), 1) << dump;
  EXPECT_EQ(Number(*a, "connections_active"), 0) << dump;
  EXPECT_EQ(Text(*a, "healthy"), "true") << dump;
  EXPECT_EQ(Text(*a, "usable"), "true") << dump;
  const Json* sick = EndpointEntry(upstreams, "backend", b.address());
  ASSERT_TRUE(sick) << dump;
  EXPECT_EQ(Text(*sick, "healthy"), "false") << dump;
  EXPECT_EQ(Text(*sick, "usable"), "false") << dump;
  EXPECT_EQ(Number(*sick, "connections_idle"), 0) << dump;

  // The same in the metrics.
  std::optional<PromExposition> m = admin_.Metrics();
  ASSERT_TRUE(m) << admin_.error();
  EXPECT_EQ(m->Value("portico_upstream_endpoint_healthy",
                     {{"pool", "backend"}, {"endpoint", a_.address()}}),
            1);
  EXPECT_EQ(m->Value("portico_upstream_endpoint_healthy",
                     {{"pool", "backend"}, {"endpoint", b.address()}}),
            0);
  EXPECT_GE(m->Value("portico_upstream_connections_idle",
                     {{"pool", "backend"}, {"endpoint", a_.address()}})
                .value_or(0),
            1);
  EXPECT_EQ(
      m->Value("portico_upstream_requests_total", {{"pool", "backend"}, {"endpoint", b.address()}}),
      0);
}

// The text format wants every family's lines as one group, HELP and TYPE first ("All
// lines for a given metric must be provided as one single group"); the live pool state
// was once written interleaved, endpoint by endpoint.
TEST_F(AdminApi, MetricsAreValidPrometheusText) {
  TestUpstream b;
  vars_["ENDPOINTS"] = a_.address() + ", " + b.address();
  Start();
  for (int i = 0; i < 4; ++i) ASSERT_EQ(Body(main_, "/app/x").substr(0, 3), "200");
  ASSERT_EQ(Body(main_, "/hello"), "200 one");
  std::string text;
  std::optional<PromExposition> m = admin_.Metrics(&text);
  ASSERT_TRUE(m) << admin_.error();
  EXPECT_TRUE(m->problems.empty()) << m->ProblemsText() << "\n" << text;

  const std::vector<std::pair<std::string, std::string>> families = {
      {"portico_requests_total", "counter"},
      {"portico_request_duration_seconds", "histogram"},
      {"portico_proxy_overhead_seconds", "histogram"},
      {"portico_listener_connections_accepted_total", "counter"},
      {"portico_listener_connections_open", "gauge"},
      {"portico_upstream_requests_total", "counter"},
      {"portico_upstream_connections_opened_total", "counter"},
      {"portico_upstream_errors_total", "counter"},
      {"portico_upstream_connections_idle", "gauge"},
      {"portico_upstream_connections_open", "gauge"},
      {"portico_upstream_requests_outstanding", "gauge"},
      {"portico_upstream_endpoint_healthy", "gauge"},
      {"portico_upstream_endpoint_ejected", "gauge"},
      {"portico_config_reloads_total", "counter"},
      {"portico_config_generation", "gauge"},
      {"portico_config_info", "gauge"},
      {"portico_config_last_reload_success_timestamp_seconds", "gauge"}};
  for (const auto& [name, type] : families) {
    const PromFamily* f = m->Family(name);
    ASSERT_TRUE(f) << name << " missing\n" << text;
    EXPECT_EQ(f->type, type) << name;
    EXPECT_TRUE(f->help && !f->help->empty()) << name << " has no HELP";
  }
}

TEST_F(AdminApi, RequestsAreCountedByListenerRouteAndStatusClass) {
  TestUpstream b;
  vars_["ENDPOINTS"] = a_.address() + ", " + b.address();
  Start();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Body(main_, "/hello"), "200 one");
  for (int i = 0; i < 4; ++i)
    ASSERT_EQ(Body(main_, "/app/" + std::to_string(i)).substr(0, 3), "200");
  for (int i = 0; i < 2; ++i) ASSERT_EQ(Body(main_, "/no-route").substr(0, 3), "404");
  {
    // Refused before routing: counted with route "" as well.
    HttpClient c;
    ASSERT_TRUE(c.Connect(main_));
    ASSERT_TRUE(c.Send("NOT HTTP AT ALL\r\n\r\n"));
    auto r = c.ReadResponse();
    ASSERT_TRUE(r) << c.error();
    ASSERT_EQ(r->status, 400);
  }

  auto requests = [](const PromExposition& m, const std::string& route, const std::string& code) {
    return m.Value("portico_requests_total",
                   {{"listener", "main"}, {"route", route}, {"code", code}});
  };
  auto counted = [&](const PromExposition& m) {
    return requests(m, "hello", "2xx") == 3 && requests(m, "app", "2xx") == 4 &&
           requests(m, "", "4xx") == 3 &&
           m.Sum("portico_upstream_requests_total", {{"pool", "backend"}}) == 4;
  };
  PromExposition m = WaitForMetrics(counted);
  EXPECT_EQ(requests(m, "hello", "2xx"), 3);
  EXPECT_EQ(requests(m, "app", "2xx"), 4);
  EXPECT_EQ(requests(m, "", "4xx"), 3);
  // Nothing else was counted: every other class of every route is 0.
  EXPECT_EQ(m.Sum("portico_requests_total"), 10);
  EXPECT_EQ(m.Find("portico_requests_total", {{"listener", "main"}}).size(), 3u * 5u);

  // Durations: one observation per request, by route.
  for (const auto& [route, n] :
       std::vector<std::pair<std::string, double>>{{"hello", 3}, {"app", 4}, {"", 3}}) {
    EXPECT_EQ(
        m.Value("portico_request_duration_seconds_count", {{"listener", "main"}, {"route", route}}),
        n)
        << "route '" << route << "'";
    EXPECT_EQ(m.Value("portico_request_duration_seconds_bucket",
                      {{"listener", "main"}, {"route", route}, {"le", "+Inf"}}),
              n)
        << "route '" << route << "'";
  }

  // Per endpoint, what each upstream received.
  EXPECT_EQ(a_.requests_received() + b.requests_received(), 4u);
  EXPECT_EQ(
      m.Value("portico_upstream_requests_total", {{"pool", "backend"}, {"endpoint", a_.address()}}),
      double(a_.requests_received()));
  EXPECT_EQ(
      m.Value("portico_upstream_requests_total", {{"pool", "backend"}, {"endpoint", b.address()}}),
      double(b.requests_received()));
  EXPECT_EQ(m.Value("portico_upstream_connections_opened_total",
                    {{"pool", "backend"}, {"endpoint", a_.address()}}),
            double(a_.connections_accepted()));
  EXPECT_EQ(m.Value("portico_upstream_connections_opened_total",
                    {{"pool", "backend"}, {"endpoint", b.address()}}),
            double(b.connections_accepted()));
  EXPECT_EQ(m.Sum("portico_upstream_errors_total"), 0);

  // The time Portico itself took, for the proxied requests only.
  double overhead = m.Value("portico_proxy_overhead_seconds_count").value_or(-1);
  EXPECT_GT(overhead, 0);
  EXPECT_LE(overhead, 4);
  EXPECT_GE(
      m.Value("portico_listener_connections_accepted_total", {{"listener", "main"}}).value_or(0),
      9);
}

TEST_F(AdminApi, OpenClientConnectionsAreShown) {
  Start();
  HttpClient c;
  ASSERT_TRUE(c.Connect(main_));
  ASSERT_TRUE(c.Send(Get("/hello")));
  ASSERT_TRUE(c.ReadResponse()) << c.error();
  auto open = [](const PromExposition& m) {
    return m.Value("portico_listener_connections_open", {{"listener", "main"}});
  };
  // Start()'s readiness probe connected and closed as well: that one goes away.
  PromExposition m = WaitForMetrics([&](const PromExposition& m) { return open(m) == 1; });
  EXPECT_EQ(open(m), 1);
  HttpClient second;
  ASSERT_TRUE(second.Connect(main_));
  ASSERT_TRUE(second.Send(Get("/hello")));
  ASSERT_TRUE(second.ReadResponse()) << second.error();
  m = WaitForMetrics([&](const PromExposition& m) { return open(m) == 2; });
  EXPECT_EQ(open(m), 2);
  c.Close();
  second.Close();
  m = WaitForMetrics([&](const PromExposition& m) { return open(m) == 0; });
  EXPECT_EQ(open(m), 0);
}

TEST_F(AdminApi, MetricLabelsHoldOnlyNamesFromTheConfig) {
  Start();
  const std::string proxied = Unique("abc123xyz");
  const std::string unrouted = Unique("zzq");
  const std::string host = Unique("host");
  const std::string query = Unique("qq");
  ASSERT_EQ(Body(main_, "/app/" + proxied + "?" + query + "=1").substr(0, 3), "200");
  ASSERT_EQ(Body(main_, "/" + unrouted).substr(0, 3), "404");
  {
    std::string error;
    auto r = Fetch(main_, Get("/" + unrouted, {{"Host", host + ".example"}}), {}, &error);
    ASSERT_TRUE(r) << error;
    EXPECT_EQ(r->status, 404);
  }
  std::string text;
  PromExposition m = WaitForMetrics([](const PromExposition& m) {
    return m.Value("portico_requests_total",
                   {{"listener", "main"}, {"route", ""}, {"code", "4xx"}}) == 2;
  });
  ASSERT_TRUE(admin_.Metrics(&text)) << admin_.error();
  for (const std::string& s : {proxied, unrouted, host, query})
    EXPECT_EQ(text.find(s), std::string::npos) << s << " in\n" << text;
  // Every label value is a name from the config, a status class, a bucket bound or a hash.
  for (const PromSample& s : m.samples) {
    for (const auto& [label, value] : s.labels) {
      if (label == "listener") {
        EXPECT_EQ(value, "main") << s.Describe();
      } else if (label == "route") {
        EXPECT_TRUE(value == "" || value == "hello" || value == "app") << s.Describe();
      } else if (label == "pool") {
        EXPECT_EQ(value, "backend") << s.Describe();
      } else if (label == "endpoint") {
        EXPECT_EQ(value, a_.address()) << s.Describe();
      }
    }
  }
}

TEST_F(AdminApi, PostReloadAppliesTheChangedFile) {
  Start();
  ASSERT_EQ(Body(main_, "/hello"), "200 one");
  const std::string first_hash = ConfigHash(config_text_);
  Vars next = vars_;
  next["HELLO"] = "two";
  WriteConfig(Fill(kConfig, next));
  const std::string hash = ConfigHash(config_text_);
  ASSERT_NE(hash, first_hash);

  std::optional<HttpResponse> r = admin_.Post("/-/reload");
  ASSERT_TRUE(r) << admin_.error();
  ASSERT_EQ(r->status, 200) << r->Describe();
  EXPECT_EQ(r->headers.Value("Content-Type"), "application/json");
  std::optional<Json> answer = ParseJson(r->body);
  ASSERT_TRUE(answer) << r->body;
  EXPECT_EQ(Text(*answer, "status"), "ok") << r->body;
  EXPECT_EQ(Number(*answer, "generation"), 2) << r->body;
  EXPECT_EQ(Text(*answer, "config_hash"), hash) << r->body;

  ASSERT_TRUE(proxy_->WaitForStderr("config generation 2 (" + hash + ") applied", Ms{5000}))
      << proxy_->DiagnosticTail();
  EXPECT_NE(proxy_->Stderr().find("POST /-/reload: reloading"), std::string::npos);
  EXPECT_EQ(Body(main_, "/hello"), "200 two");

  std::optional<Json> config = admin_.GetJson("/-/config");
  ASSERT_TRUE(config) << admin_.error();
  EXPECT_EQ(Number(*config, "reloads.generation"), 2) << config->Dump();
  EXPECT_EQ(Text(*config, "reloads.config_hash"), hash) << config->Dump();
  EXPECT_EQ(Number(*config, "reloads.successes"), 1) << config->Dump();
  EXPECT_EQ(Text(*config, "reloads.last_error"), "null") << config->Dump();
  EXPECT_GT(Number(*config, "reloads.last_success_unix"), 0) << config->Dump();
  EXPECT_EQ(Text(*config, "config.listeners.0.routes.0.respond.body"), "two");

  std::optional<PromExposition> m = admin_.Metrics();
  ASSERT_TRUE(m) << admin_.error();
  EXPECT_EQ(m->Value("portico_config_reloads_total", {{"result", "success"}}), 1);
  EXPECT_EQ(m->Value("portico_config_reloads_total", {{"result", "failure"}}), 0);
  EXPECT_EQ(m->Value("portico_config_generation"), 2);
  std::vector<const PromSample*> info = m->Find("portico_config_info");
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0]->Label("hash"), hash) << info[0]->Describe();
  EXPECT_EQ(info[0]->value, 1);
  EXPECT_GT(m->Value("portico_config_last_reload_success_timestamp_seconds").value_or(0), 0);
}

TEST_F(AdminApi, PostReloadOfABrokenFileIs422AndTheRunningConfigStays) {
  Start();
  const std::string first_hash = ConfigHash(config_text_);
  ASSERT_EQ(Body(main_, "/hello"), "200 one");
  std::string bad = config_text_;
  bad.replace(bad.find("path_prefix: /app"), 17, "path_prefx: /app");
  WriteConfig(bad);

  std::optional<HttpResponse> r = admin_.Post("/-/reload");
  ASSERT_TRUE(r) << admin_.error();
  ASSERT_EQ(r->status, 422) << r->Describe();
  std::optional<Json> answer = ParseJson(r->body);
  ASSERT_TRUE(answer) << r->body;
  EXPECT_EQ(Text(*answer, "status"), "error") << r->body;
  EXPECT_EQ(Number(*answer, "generation"), 1) << r->body;
  const std::string error = Text(*answer, "error");
  const std::string where = proxy_->config_path() + ":" + PositionOf(bad, "path_prefx") + ": ";
  EXPECT_NE(error.find(where), std::string::npos) << "no '" << where << "' in: " << error;
  EXPECT_NE(error.find("listeners[0].routes[1].match.path_prefx"), std::string::npos) << error;
  EXPECT_TRUE(proxy_->WaitForStderr("reload failed; still serving config " + first_hash, Ms{3000}))
      << proxy_->DiagnosticTail();

  // The old config still answers.
  EXPECT_EQ(Body(main_, "/hello"), "200 one");
  EXPECT_EQ(Body(main_, "/app/x").substr(0, 3), "200");

  std::optional<Json> config = admin_.GetJson("/-/config");
  ASSERT_TRUE(config) << admin_.error();
  EXPECT_EQ(Text(*config, "reloads.last_error"), error) << config->Dump();
  EXPECT_EQ(Number(*config, "reloads.failures"), 1) << config->Dump();
  EXPECT_EQ(Number(*config, "reloads.successes"), 0) << config->Dump();
  EXPECT_EQ(Number(*config, "reloads.generation"), 1) << config->Dump();
  EXPECT_EQ(Text(*config, "reloads.config_hash"), first_hash) << config->Dump();
  EXPECT_GT(Number(*config, "reloads.last_failure_unix"), 0) << config->Dump();
  EXPECT_EQ(Text(*config, "config.listeners.0.routes.1.match.path_prefix"), "/app");

  std::optional<PromExposition> m = admin_.Metrics();
  ASSERT_TRUE(m) << admin_.error();
  EXPECT_EQ(m->Value("portico_config_reloads_total", {{"result", "failure"}}), 1);
  EXPECT_EQ(m->Value("portico_config_reloads_total", {{"result", "success"}}), 0);
  EXPECT_EQ(m->Value("portico_config_generation"), 1);
  std::vector<const PromSample*> info = m->Find("portico_config_info");
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0]->Label("hash"), first_hash);

  // Fixed, the file applies, and the error is gone.
  Vars next = vars_;
  next["HELLO"] = "two";
  WriteConfig(Fill(kConfig, next));
  r = admin_.Post("/-/reload");
  ASSERT_TRUE(r) << admin_.error();
  EXPECT_EQ(r->status, 200) << r->Describe();
  ASSERT_TRUE(proxy_->WaitForStderr("config generation 2 (", Ms{5000}));
  EXPECT_EQ(Body(main_, "/hello"), "200 two");
  config = admin_.GetJson("/-/config");
  ASSERT_TRUE(config) << admin_.error();
  EXPECT_EQ(Text(*config, "reloads.last_error"), "null") << config->Dump();
  EXPECT_EQ(Number(*config, "reloads.failures"), 1) << config->Dump();
}

TEST_F(AdminApi, ReadyIs503WhileDrainingAndTheRequestInFlightFinishes) {
  // The upstream holds the request until the test lets it go (at most 5 s).
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  a_.SetHandler([released](const HttpRequest& request) {
    released.wait_for(std::chrono::seconds(5));
    return DefaultResponse(request);
  });
  Start();
  std::optional<HttpResponse> r = admin_.Get("/-/ready");
  ASSERT_TRUE(r) << admin_.error();
  ASSERT_EQ(r->status, 200);

  HttpClient c;
  ASSERT_TRUE(c.Connect(main_));
  ASSERT_TRUE(c.Send(Get("/app/slow")));
  ASSERT_TRUE(a_.WaitForRequests(1, Ms{3000})) << "the request never reached the upstream";
  ASSERT_TRUE(proxy_->Signal(SIGTERM));
  ASSERT_TRUE(proxy_->WaitForStderr("draining in-flight requests", Ms{3000}))
      << proxy_->DiagnosticTail();

  r = admin_.Get("/-/ready");
  ASSERT_TRUE(r) << admin_.error();
  EXPECT_EQ(r->status, 503);
  std::optional<Json> ready = ParseJson(r->body);
  ASSERT_TRUE(ready) << r->body;
  EXPECT_EQ(Text(*ready, "ready"), "false");
  r = admin_.Get("/-/healthz");
  ASSERT_TRUE(r) << admin_.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(admin_.Metrics()) << admin_.error();
  // No reload while draining.
  r = admin_.Post("/-/reload");
  ASSERT_TRUE(r) << admin_.error();
  EXPECT_EQ(r->status, 503) << r->Describe();
  EXPECT_EQ(proxy_->Stderr().find("reloading"), std::string::npos) << proxy_->DiagnosticTail();

  release.set_value();
  auto response = c.ReadResponse(ReadOptions{.timeout = Ms{3000}});
  ASSERT_TRUE(response) << "in-flight request lost: " << c.error();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "ok GET /app/slow");
  auto st = proxy_->WaitExit(Ms{5000});
  ASSERT_TRUE(st) << "still running 5 s after SIGTERM";
  EXPECT_EQ(ExitCode(*st), 0) << DescribeStatus(*st) << "\n" << proxy_->DiagnosticTail();
}

// An endpoint listed twice in one pool (the config accepts it) is two slots: their labels
// differ ("ADDR" and "ADDR/2", PoolState::label), so there are no duplicate series, and
// the per-worker counters and /-/upstreams keep them apart.
TEST_F(AdminApi, AnEndpointListedTwiceInAPoolGivesNoDuplicateSeries) {
  vars_["ENDPOINTS"] = a_.address() + ", " + a_.address();
  Start();
  // One keep-alive client connection, round robin over the two slots: one idle upstream
  // connection each.
  HttpClient c;
  ASSERT_TRUE(c.Connect(main_));
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(c.Send(Get("/app/" + std::to_string(i))));
    auto r = c.ReadResponse();
    ASSERT_TRUE(r) << c.error();
    ASSERT_EQ(r->status, 200);
  }
  ASSERT_EQ(a_.connections_accepted(), 2u);
  PromExposition m = WaitForMetrics(
      [](const PromExposition& m) { return m.Sum("portico_upstream_connections_idle") == 2; });
  EXPECT_TRUE(m.problems.empty()) << m.ProblemsText();
  std::optional<Json> upstreams = admin_.GetJson("/-/upstreams");
  ASSERT_TRUE(upstreams) << admin_.error();
  const Json* listed = upstreams->Find("pools.0.endpoints");
  ASSERT_TRUE(listed) << upstreams->Dump();
  double idle_listed = 0;
  for (const Json& e : listed->items()) idle_listed += Number(e, "connections_idle");
  EXPECT_EQ(idle_listed, 2) << upstreams->Dump();
}

TEST_F(AdminApi, TheTokenFollowsAReload) {
  UseToken();
  Start();
  std::optional<HttpResponse> r = admin_.Get("/-/healthz");
  ASSERT_TRUE(r) << admin_.error();
  ASSERT_EQ(r->status, 200);
  Vars next = vars_;
  next["TOKEN"] = ", token: \"n3w-T0ken-b7\"";
  WriteConfig(Fill(kConfig, next));
  r = admin_.Post("/-/reload");  // still with the old token
  ASSERT_TRUE(r) << admin_.error();
  ASSERT_EQ(r->status, 200) << r->Describe();
  ASSERT_TRUE(proxy_->WaitForStderr("config generation 2 (", Ms{5000}));
  r = admin_.Get("/-/healthz");
  ASSERT_TRUE(r) << admin_.error();
  EXPECT_EQ(r->status, 401);
  admin_.set_token("n3w-T0ken-b7");
  r = admin_.Get("/-/healthz");
  ASSERT_TRUE(r) << admin_.error();
  EXPECT_EQ(r->status, 200);

  // Without a token, none is asked for.
  next["TOKEN"] = "";
  WriteConfig(Fill(kConfig, next));
  r = admin_.Post("/-/reload");
  ASSERT_TRUE(r) << admin_.error();
  ASSERT_EQ(r->status, 200) << r->Describe();
  ASSERT_TRUE(proxy_->WaitForStderr("config generation 3 (", Ms{5000}));
  AdminClient anonymous(admin_port_);
  r = anonymous.Get("/-/healthz");
  ASSERT_TRUE(r) << anonymous.error();
  EXPECT_EQ(r->status, 200);
}

TEST_F(AdminApi, TheAdminAddressChangesOnlyOnRestart) {
  Start();
  const uint16_t other = FreePort();
  Vars next = vars_;
  next["ADMIN"] = std::to_string(other);
  next["HELLO"] = "two";
  WriteConfig(Fill(kConfig, next));
  std::optional<HttpResponse> r = admin_.Post("/-/reload");
  ASSERT_TRUE(r) << admin_.error();
  ASSERT_EQ(r->status, 200) << r->Describe();
  ASSERT_TRUE(proxy_->WaitForStderr("config generation 2 (", Ms{5000}));
  EXPECT_NE(proxy_->Stderr().find("the admin address changes only on restart"), std::string::npos)
      << proxy_->DiagnosticTail();
  EXPECT_EQ(Body(main_, "/hello"), "200 two");  // the rest of the file applied
  std::optional<Json> config = admin_.GetJson("/-/config");
  ASSERT_TRUE(config) << admin_.error();
  EXPECT_EQ(Text(*config, "config.admin.address"), "127.0.0.1:" + std::to_string(admin_port_));
  HttpClient c;
  EXPECT_FALSE(c.Connect(other, Ms{500})) << "something listens on the new admin address";
}

// A reload that moves the admin address (and drops the token) keeps the running address,
// and with it the running token: the new config's token was only validated for its own
// address, so taking it would let a token-less config open an admin port it never saw.
TEST_F(AdminApi, AKeptAdminAddressKeepsItsToken) {
  UseToken();
  Start();
  Vars next = vars_;
  next["ADMIN"] = std::to_string(FreePort());
  next["TOKEN"] = "";
  next["HELLO"] = "two";
  WriteConfig(Fill(kConfig, next));
  std::optional<HttpResponse> r = admin_.Post("/-/reload");
  ASSERT_TRUE(r) << admin_.error();
  ASSERT_EQ(r->status, 200) << r->Describe();
  ASSERT_TRUE(proxy_->WaitForStderr("config generation 2 (", Ms{5000}));
  EXPECT_EQ(Body(main_, "/hello"), "200 two");
  admin_.set_token("");
  r = admin_.Get("/-/healthz");
  ASSERT_TRUE(r) << admin_.error();
  EXPECT_EQ(r->status, 401) << "the kept address must keep requiring the token";
  admin_.set_token(kToken);
  r = admin_.Get("/-/healthz");
  ASSERT_TRUE(r) << admin_.error();
  EXPECT_EQ(r->status, 200);
}

// A SIGTERM right after a reload, before every worker has applied it: each worker reports
// the switch through the main thread's async handle, which must outlive those reports
// (Server keeps it until every worker has drained). It once crashed in uv_async_send.
TEST_F(AdminApi, SigtermRightAfterAReloadDrainsAndExitsZero) {
  for (int round = 0; round < 5; ++round) {
    Start();
    Vars next = vars_;
    next["HELLO"] = "round" + std::to_string(round);
    WriteConfig(Fill(kConfig, next));
    std::optional<HttpResponse> r = admin_.Post("/-/reload");
    ASSERT_TRUE(r) << admin_.error();
    ASSERT_EQ(r->status, 200) << r->Describe();
    ASSERT_TRUE(proxy_->Signal(SIGTERM));  // the workers may not have switched yet
    auto st = proxy_->WaitExit(Ms{5000});
    ASSERT_TRUE(st) << "still running 5 s after SIGTERM";
    ASSERT_EQ(ExitCode(*st), 0) << "round " << round << ": " << DescribeStatus(*st) << "\n"
                                << proxy_->DiagnosticTail();
    proxy_.reset();
  }
}

TEST_F(AdminApi, AdminPortServesNoRoutes) {
  Start(kSeparateConfig);
  for (const char* path : {"/", "/app/x", "/-/portico", "/healthz"}) {
    std::optional<HttpResponse> r = admin_.Get(path);
    ASSERT_TRUE(r) << admin_.error();
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_EQ(r->headers.Value("Content-Type"), "application/json") << path;
    std::optional<Json> error = ParseJson(r->body);
    ASSERT_TRUE(error) << path << ": " << r->body;
    EXPECT_NE(Text(*error, "error").find("no such admin path"), std::string::npos) << r->body;
  }
  std::optional<PromExposition> m = admin_.Metrics();
  ASSERT_TRUE(m) << admin_.error();
  EXPECT_EQ(m->Sum("portico_requests_total"), 0);  // admin requests are not listener requests
  EXPECT_EQ(m->Sum("portico_upstream_requests_total"), 0);
  EXPECT_EQ(a_.requests_received(), 0u);
}

TEST_F(AdminApi, ListenersServeNoAdminPaths) {
  Start(kSeparateConfig);
  // Routed like any path: /-/portico by its route, the rest to the upstream.
  EXPECT_EQ(Body(main_, "/-/portico"), "200 route answer");
  EXPECT_EQ(Body(main_, "/-/metrics"), "200 ok GET /-/metrics");
  EXPECT_EQ(Body(main_, "/-/reload", "POST"), "200 ok POST /-/reload");
  ASSERT_EQ(a_.requests_received(), 2u);
  EXPECT_EQ(a_.requests()[0].target, "/-/metrics");
  EXPECT_EQ(a_.requests()[1].target, "/-/reload");
  EXPECT_EQ(proxy_->Stderr().find("reloading"), std::string::npos) << proxy_->Stderr();

  // Without a route for them, a 404 from the listener, not the admin API's answers.
  EXPECT_EQ(Body(bare_, "/-/portico"), "200 route answer");
  for (const char* path : {"/-/metrics", "/-/healthz", "/-/config"}) {
    std::string error;
    auto r = Fetch(bare_, Get(path), {}, &error);
    ASSERT_TRUE(r) << error;
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_EQ(r->body.find("# TYPE"), std::string::npos) << r->body;
    EXPECT_EQ(r->body.find("portico_"), std::string::npos) << r->body;
    EXPECT_EQ(r->body.find("reloads"), std::string::npos) << r->body;
    EXPECT_EQ(r->headers.Value("Content-Type").find("version=0.0.4"), std::string::npos);
  }
  EXPECT_EQ(a_.requests_received(), 2u);
}

}  // namespace
}  // namespace portico::it
