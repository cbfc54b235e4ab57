// The canary filter through the real binary: sticky assignment that every worker and
// every instance agree on, a ramp by reload that only moves users onto the canary,
// forced routing and who may use it, runtime changes on the admin API and how reloads
// treat them, automatic rollback of a failing canary, and the metrics.
#include <gtest/gtest.h>

#include <atomic>
#include <map>

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
      - name: api
        match: { path_prefix: /api }
        filters:
          - canary: { split: { v1: {{STABLE}}, v2: {{CANARY}} }, sticky: header:x-user, force_header: x-canary, force_cookie: canary }
        upstream: v1
      - name: guarded
        match: { path_prefix: /guarded }
        filters:
          - canary: { split: { v1: 100, v2: 0 }, force_header: x-canary, force_from: [10.0.0.0/8, "::1"] }
        upstream: v1
      - name: rollback
        match: { path_prefix: /rollback }
        filters:
          - canary: { split: { v1: 50, v2: 50 }, rollback: { margin: 0.3, min_requests: 20, window: 30s, failure_on: [5xx] } }
        upstream: v1
      - name: tester
        match: { path_prefix: /tester }
        filters:
          - canary: { split: { v1: 100, v2: 0 }, sticky: client_ip, force_cookie: canary, force_from: [127.0.0.0/8] }
        upstream: v1
      - name: breaker
        match: { path_prefix: /breaker }
        filters:
          - canary: { split: { v1: 50, v2: 50 } }
          - circuit_breaker: { failure_ratio: 0.5, min_requests: 5, open_for: 1h }
        upstream: v1
      - name: dead
        match: { path_prefix: /dead }
        filters:
          - canary: { split: { v1: 50, dead: 50 }, rollback: { margin: 0.3, min_requests: 10, window: 30s, failure_on: [5xx] } }
        upstream: v1
upstreams:
  - name: dead
    endpoints: [ "127.0.0.1:{{DEAD}}" ]
    outlier: { consecutive_gateway_failures: 1, base_ejection_time: 5m }
  - name: v1
    endpoints: [ "{{V1}}" ]
  - name: v2
    endpoints: [ "{{V2}}" ]
)";

UpstreamHandler Named(std::string name, std::atomic<int>* status = nullptr) {
  return [name, status](const HttpRequest&) {
    UpstreamResponse r;
    r.status = status ? status->load() : 200;
    r.body = name;
    return r;
  };
}

class Canary : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(Start(proxy_, port_, admin_port_)); }

  std::map<std::string, std::string> Vars(uint16_t port, uint16_t admin, int stable = 95,
                                          int canary = 5) {
    return {{"PORT", std::to_string(port)},
            {"ADMIN", std::to_string(admin)},
            {"V1", v1_.address()},
            {"V2", v2_.address()},
            {"STABLE", std::to_string(stable)},
            {"CANARY", std::to_string(canary)},
            {"DEAD", std::to_string(dead_port_)}};
  }
  ::testing::AssertionResult Start(std::unique_ptr<PorticoProcess>& p, uint16_t port,
                                   uint16_t admin, int workers = 2) {
    PorticoOptions o;
    o.config = Fill(kConfig, Vars(port, admin));
    if (workers != 2) o.config.replace(o.config.find("workers: 2"), 10, "workers: 1");
    o.ready_ports = {port};
    p = std::make_unique<PorticoProcess>(o);
    return p->Start();
  }

  // Which pool answered each request, over `connections` keep-alive connections with the
  // requests pipelined in batches.
  std::vector<std::string> Pools(uint16_t port, const std::vector<std::string>& requests,
                                 size_t connections = 4) {
    std::vector<std::string> out(requests.size());
    constexpr size_t kBatch = 50;
    std::vector<HttpClient> clients(connections);
    for (HttpClient& c : clients)
      if (!c.Connect(port)) return {};
    for (size_t from = 0; from < requests.size(); from += kBatch) {
      HttpClient& c = clients[(from / kBatch) % connections];
      size_t to = std::min(requests.size(), from + kBatch);
      std::string batch;
      for (size_t i = from; i < to; ++i) batch += requests[i];
      if (!c.Send(batch)) return {};
      std::vector<HttpResponse> rs = c.ReadResponses(to - from);
      if (rs.size() != to - from) return {};
      for (size_t i = from; i < to; ++i)
        out[i] =
            rs[i - from].status == 200 ? rs[i - from].body : std::to_string(rs[i - from].status);
    }
    return out;
  }
  std::vector<std::string> Users(size_t n) {
    std::vector<std::string> rs;
    for (size_t u = 0; u < n; ++u)
      rs.push_back(Get("/api", {{"x-user", "user-" + std::to_string(u)}}));
    return rs;
  }
  static size_t Count(const std::vector<std::string>& pools, std::string_view name) {
    return size_t(std::count(pools.begin(), pools.end(), name));
  }
  std::optional<Json> Page(std::string_view path) {
    AdminClient admin(admin_port_);
    auto page = admin.GetJson(path);
    EXPECT_TRUE(page) << admin.error();
    return page;
  }
  // A split target of GET /-/canary/ROUTE.
  static const Json* Target(const Json& page, std::string_view upstream) {
    if (const Json* ts = page.Get("targets"))
      for (const Json& t : ts->items())
        if (const Json* u = t.Get("upstream"); u && u->String() == upstream) return &t;
    return nullptr;
  }
  double Percent(std::string_view route, std::string_view upstream) {
    auto page = Page("/-/canary/" + std::string(route));
    const Json* t = page ? Target(*page, upstream) : nullptr;
    return t && t->Get("percent") ? t->Get("percent")->Number() : -1;
  }

  std::atomic<int> v2_status_{200};
  TestUpstream v1_{Named("v1")};
  TestUpstream v2_{Named("v2", &v2_status_)};
  uint16_t dead_port_ = FreePort();  // nothing listens there
  uint16_t port_ = FreePort();
  uint16_t admin_port_ = FreePort();
  std::unique_ptr<PorticoProcess> proxy_;
};

TEST_F(Canary, StickyUsersKeepTheirPoolOnEveryWorkerAndInEveryInstance) {
  std::vector<std::string> requests = Users(2000);
  std::vector<std::string> first = Pools(port_, requests);
  ASSERT_EQ(first.size(), requests.size());
  EXPECT_EQ(Count(first, "v1") + Count(first, "v2"), requests.size());
  // 5% of 2000 is 100; the bounds are about four standard deviations.
  EXPECT_GT(Count(first, "v2"), 60u);
  EXPECT_LT(Count(first, "v2"), 140u);
  // Again, over other connections (the listeners' workers take them as they come).
  EXPECT_EQ(Pools(port_, requests, 7), first);
  // Another instance, with one worker, started afresh: the same users on the same pools.
  std::unique_ptr<PorticoProcess> other;
  uint16_t other_port = FreePort();
  ASSERT_TRUE(Start(other, other_port, FreePort(), 1));
  EXPECT_EQ(Pools(other_port, requests), first);
}

TEST_F(Canary, RaisingTheCanaryByReloadMovesOnlyStableUsersOntoIt) {
  std::vector<std::string> requests = Users(2000);
  std::vector<std::string> before = Pools(port_, requests);
  ASSERT_EQ(before.size(), requests.size());
  ASSERT_TRUE(proxy_->Reload(Fill(kConfig, Vars(port_, admin_port_, 90, 10)), 2));
  std::vector<std::string> after = Pools(port_, requests);
  ASSERT_EQ(after.size(), requests.size());
  size_t moved = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_FALSE(before[i] == "v2" && after[i] == "v1") << "user-" << i << " left the canary";
    moved += before[i] == "v1" && after[i] == "v2";
  }
  EXPECT_GT(moved, 50u);  // about 100 (5% more of 2000)
  EXPECT_LT(moved, 150u);
  EXPECT_EQ(Percent("api", "v2"), 10.0);
}

TEST_F(Canary, TestersForceAPoolByHeaderOrCookieFromAllowedAddresses) {
  for (int i = 0; i < 20; ++i) {
    auto r =
        Fetch(port_, Get("/api", {{"x-user", "user-" + std::to_string(i)}, {"x-canary", "v2"}}));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "v2");
    r = Fetch(port_, Get("/api", {{"Cookie", "a=b; canary=v2"}}));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "v2");
  }
  // A name that is not a pool of the split is ignored: the user's own pool answers.
  for (int i = 0; i < 50; ++i) {
    std::string user = "user-" + std::to_string(i);
    auto own = Fetch(port_, Get("/api", {{"x-user", user}}));
    auto r = Fetch(port_, Get("/api", {{"x-user", user}, {"x-canary", "nowhere"}}));
    ASSERT_TRUE(own && r);
    EXPECT_EQ(r->body, own->body) << user;
  }
  // This client (127.0.0.1) is in the tester route's force_from: its cookie works there.
  for (int i = 0; i < 10; ++i) {
    auto r = Fetch(port_, Get("/tester", {{"Cookie", "canary=v2"}}));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "v2");
    r = Fetch(port_, Get("/tester"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "v1");
  }
  std::optional<HttpResponse> r;
  // This client (127.0.0.1) is not in the guarded route's force_from.
  for (int i = 0; i < 10; ++i) {
    r = Fetch(port_, Get("/guarded", {{"x-canary", "v2"}}));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, "v1");
  }
  auto page = Page("/-/canary/api");
  ASSERT_TRUE(page);
  const Json* v2 = Target(*page, "v2");
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->Find("requests.forced")->Number(), 40);
}

TEST_F(Canary, RuntimeSplitOnTheAdminApiAppliesAtOnceAndSurvivesReloadsThatKeepTheFileSplit) {
  AdminClient admin(admin_port_);
  auto r = admin.Put("/-/canary/api", R"({"split": {"v1": 0, "v2": 100}})");
  ASSERT_TRUE(r) << admin.error();
  ASSERT_EQ(r->status, 200) << r->Describe();
  std::vector<std::string> requests = Users(200);
  EXPECT_EQ(Count(Pools(port_, requests), "v2"), 200u);
  auto page = Page("/-/canary/api");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->Get("source")->String(), "runtime");
  EXPECT_EQ(Target(*page, "v2")->Get("file_percent")->Number(), 5);
  EXPECT_EQ(Target(*page, "v2")->Get("percent")->Number(), 100);
  EXPECT_TRUE(proxy_->WaitForStderr(
      "canary split set at runtime: v1 0%, v2 100% (was v1 95%, v2 5%)", Ms{2000}))
      << proxy_->DiagnosticTail();

  // A reload that leaves this split alone (another route changes) keeps the override.
  std::string config = Fill(kConfig, Vars(port_, admin_port_));
  std::string changed = config;
  changed.replace(changed.find("margin: 0.3"), 11, "margin: 0.4");
  ASSERT_TRUE(proxy_->Reload(changed, 2));
  EXPECT_EQ(Percent("api", "v2"), 100);
  EXPECT_EQ(Count(Pools(port_, requests), "v2"), 200u);
  // A reload that changes the file's split: the file wins.
  ASSERT_TRUE(proxy_->Reload(Fill(kConfig, Vars(port_, admin_port_, 80, 20)), 3));
  EXPECT_EQ(Percent("api", "v2"), 20);
  page = Page("/-/canary/api");
  EXPECT_EQ(page->Get("source")->String(), "file");

  // DELETE drops an override.
  ASSERT_EQ(admin.Put("/-/canary/api", R"({"split": {"v2": 1, "v1": 1}})")->status, 200);
  EXPECT_EQ(Percent("api", "v2"), 50);
  r = admin.Delete("/-/canary/api");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Percent("api", "v2"), 20);
}

TEST_F(Canary, BadAdminChangesAreRefusedAndChangeNothing) {
  AdminClient admin(admin_port_);
  struct Case {
    std::string path, body;
    int status;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {"/-/canary/api", "{\"split\": {\"v1\": 1, \"v3\": 1}}", 400,
            "'v3' is not in this route's split (v1, v2)"},
           {"/-/canary/api", "{\"split\": {\"v1\": -1, \"v2\": 1}}", 400,
            "must be a weight from 0 to 1000000"},
           {"/-/canary/api", "{\"split\": {\"v1\": 0, \"v2\": 0}}", 400,
            "a split needs a weight above 0"},
           {"/-/canary/api", "{\"weights\": {}}", 400, "unknown key 'weights'"},
           {"/-/canary/api", "{\"split\": ", 400, "not valid JSON"},
           {"/-/canary/api", "[1]", 400, "expected a JSON object"},
           {"/-/canary/api", "{}", 400, "nothing to change"},
           {"/-/canary/nope", "{\"reset_rollback\": true}", 404, "no canary split on route 'nope'"},
       }) {
    auto r = admin.Put(c.path, c.body);
    ASSERT_TRUE(r) << admin.error();
    EXPECT_EQ(r->status, c.status) << c.body;
    EXPECT_NE(r->body.find(c.error), std::string::npos) << c.body << " -> " << r->body;
  }
  auto r = admin.Post("/-/canary/api");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->headers.Get("Allow"), "GET, HEAD, PUT, DELETE");
  EXPECT_EQ(Percent("api", "v2"), 5);
  EXPECT_EQ(Page("/-/canary/api")->Get("source")->String(), "file");
  EXPECT_EQ(Count(Pools(port_, Users(100)), "v1") + Count(Pools(port_, Users(100)), "v2"), 100u);
}

TEST_F(Canary, AFailingCanaryIsRolledBackUntilAnOperatorResetsIt) {
  v2_status_ = 500;
  // Random halves: v2 fails every time, v1 never. After 20 canary requests it goes.
  std::vector<std::string> requests(200, Get("/rollback"));
  std::vector<std::string> pools = Pools(port_, requests, 2);
  ASSERT_EQ(pools.size(), requests.size());
  size_t failed = Count(pools, "500");
  EXPECT_GE(failed, 20u);
  ASSERT_TRUE(
      proxy_->WaitForStderr("route 'rollback': canary 'v2' rolled back to weight 0", Ms{2000}))
      << proxy_->DiagnosticTail();
  // From then on everything goes to the stable pool (a few racing the decision may not).
  pools = Pools(port_, requests, 2);
  EXPECT_EQ(Count(pools, "v1"), requests.size());
  auto page = Page("/-/canary/rollback");
  ASSERT_TRUE(page);
  const Json* v2 = Target(*page, "v2");
  ASSERT_TRUE(v2);
  EXPECT_TRUE(v2->Get("rolled_back")->Bool());
  EXPECT_EQ(v2->Get("percent")->Number(), 0);
  EXPECT_EQ(v2->Get("configured_percent")->Number(), 50);
  EXPECT_GE(v2->Find("rollback.canary_failures")->Number(), 20);
  EXPECT_EQ(v2->Find("rollback.stable_failures")->Number(), 0);
  AdminClient admin(admin_port_);
  auto metrics = admin.Metrics();
  ASSERT_TRUE(metrics) << admin.error();
  PromLabels labels{{"listener", "main"}, {"route", "rollback"}, {"upstream", "v2"}};
  EXPECT_EQ(metrics->Value("portico_canary_rolled_back", labels), 1);
  EXPECT_EQ(metrics->Value("portico_canary_rollbacks_total", labels), 1);
  EXPECT_EQ(metrics->Value("portico_canary_weight_percent", labels), 0);

  // A reload that leaves the route alone keeps the rollback.
  std::string config = Fill(kConfig, Vars(port_, admin_port_, 90, 10));
  ASSERT_TRUE(proxy_->Reload(config, 2));
  EXPECT_EQ(Percent("rollback", "v2"), 0);

  // The operator fixes the canary and resets: it gets its share again.
  v2_status_ = 200;
  auto r = admin.Put("/-/canary/rollback", R"({"reset_rollback": true})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->Describe();
  EXPECT_EQ(Percent("rollback", "v2"), 50);
  pools = Pools(port_, requests, 2);
  EXPECT_GT(Count(pools, "v2"), 50u);
  EXPECT_EQ(Count(pools, "v1") + Count(pools, "v2"), requests.size());
  EXPECT_TRUE(proxy_->WaitForStderr("canary rollback reset", Ms{2000}));
}

// The route's breaker guards the route's own pool: a failing canary neither opens it nor
// has its failures counted there.
TEST_F(Canary, ARoutesBreakerIgnoresTheCanarysRequests) {
  v2_status_ = 500;
  std::vector<std::string> requests(200, Get("/breaker"));
  std::vector<std::string> pools = Pools(port_, requests, 2);
  ASSERT_EQ(pools.size(), requests.size());
  EXPECT_GT(Count(pools, "500"), 50u);
  EXPECT_EQ(Count(pools, "v1") + Count(pools, "500"), requests.size());  // no 503
  auto page = Page("/-/upstreams");
  ASSERT_TRUE(page);
  bool seen = false;
  for (const Json& pool : page->Get("pools")->items()) {
    if (pool.Get("name")->String() != "v1") continue;
    seen = true;
    EXPECT_EQ(pool.Find("circuit_breaker.state")->String(), "closed");
    EXPECT_EQ(pool.Find("circuit_breaker.window_failures")->Number(), 0);
    EXPECT_EQ(pool.Find("circuit_breaker.window_requests")->Number(), double(Count(pools, "v1")));
  }
  EXPECT_TRUE(seen);
}

// A canary whose endpoints are all out answers 503 by itself: that fails its users too.
TEST_F(Canary, ACanaryWithNoUsableEndpointIsRolledBack) {
  std::vector<std::string> requests(100, Get("/dead"));
  std::vector<std::string> pools = Pools(port_, requests, 2);
  ASSERT_EQ(pools.size(), requests.size());
  // Each worker's first attempt is refused (a 502, which failure_on: [5xx] does not count:
  // the pool never answered); then the endpoint is ejected and the pool answers 503.
  // Rolled back at the tenth canary outcome (min_requests): most of them were 503s.
  EXPECT_GE(Count(pools, "503"), 7u);
  ASSERT_TRUE(proxy_->WaitForStderr("route 'dead': canary 'dead' rolled back", Ms{2000}))
      << proxy_->DiagnosticTail();
  pools = Pools(port_, requests, 2);
  EXPECT_EQ(Count(pools, "v1"), requests.size());
}

TEST_F(Canary, MetricsCountRequestsPerTargetAndHowTheyWereAssigned) {
  Pools(port_, Users(300));
  ASSERT_TRUE(Fetch(port_, Get("/api", {{"x-canary", "v2"}})));
  std::vector<std::string> anonymous(100, Get("/api"));
  Pools(port_, anonymous);
  AdminClient admin(admin_port_);
  auto m = admin.Metrics();
  ASSERT_TRUE(m) << admin.error();
  auto value = [&](const char* upstream, const char* via) {
    return m
        ->Value("portico_canary_requests_total",
                {{"listener", "main"}, {"route", "api"}, {"upstream", upstream}, {"via", via}})
        .value_or(-1);
  };
  EXPECT_EQ(value("v1", "sticky") + value("v2", "sticky"), 300);
  EXPECT_EQ(value("v1", "random") + value("v2", "random"), 100);
  EXPECT_EQ(value("v2", "forced"), 1);
  EXPECT_EQ(value("v1", "forced"), 0);
  EXPECT_EQ(m->Value("portico_canary_weight_percent",
                     {{"listener", "main"}, {"route", "api"}, {"upstream", "v1"}}),
            95);
}

}  // namespace
}  // namespace portico::it
