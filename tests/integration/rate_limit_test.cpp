// The rate_limit filter through the real binary: accuracy under an offered load on two
// workers, the 429 answer and its headers, keys, listener defaults, max_keys, metrics,
// and what a reload keeps.
#include <gtest/gtest.h>

#include "harness/AdminClient.h"
#include "harness/HttpClient.h"
#include "harness/PacedLoad.h"
#include "harness/PorticoProcess.h"
#include "harness/Ports.h"
#include "harness/Template.h"
#include "harness/TestUpstream.h"

namespace portico::it {
namespace {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

constexpr const char* kConfig = R"(workers: 2
log: { level: info, access_log: off }
admin: { address: 127.0.0.1:{{ADMIN}} }
listeners:
  - name: main
    address: 127.0.0.1:{{PORT}}
    filters:
      - rate_limit: { key: [route, client_ip], rate: 1/min, burst: 2 }
    routes:
      - name: accuracy
        match: { path: /accuracy }
        filters:
          - rate_limit: { key: client_ip, rate: 100/s, burst: {{ACC_BURST}} }
        respond: { status: 200, body: "ok" }
      - name: strict
        match: { path: /strict }
        filters:
          - rate_limit: { key: client_ip, rate: {{STRICT_RATE}}, burst: {{STRICT_BURST}} }
        respond: { status: 200, body: "ok" }
      - name: proxied
        match: { path_prefix: /proxied }
        filters:
          - rate_limit: { key: "header:x-api-key", rate: 1/min, burst: 3, response_headers: true, policy_name: api }
        upstream: backend
      - name: cookie
        match: { path: /cookie }
        filters:
          - rate_limit: { key: [cookie:session, header:x-tenant], rate: 1/min, burst: 1 }
        respond: { status: 200, body: "ok" }
      - name: many-keys
        match: { path: /many }
        filters:
          - rate_limit: { key: "header:x-user", rate: 1/min, burst: 3, max_keys: 16 }
        respond: { status: 200, body: "ok" }
      - name: inherits-a
        match: { path: /inherit-a }
        respond: { status: 200, body: "ok" }
      - name: inherits-b
        match: { path: /inherit-b }
        respond: { status: 200, body: "ok" }
      - name: unlimited
        match: { path: /unlimited }
        filters: []
        respond: { status: 200, body: "ok" }
upstreams:
  - name: backend
    endpoints: [ "{{UPSTREAM}}" ]
)";

class RateLimit : public ::testing::Test {
 protected:
  void SetUp() override {
    vars_ = {{"PORT", std::to_string(port_)},
             {"ADMIN", std::to_string(admin_port_)},
             {"UPSTREAM", upstream_.address()},
             {"STRICT_RATE", "1/min"},
             {"STRICT_BURST", "2"},
             {"ACC_BURST", "100"}};
    PorticoOptions o;
    o.config = Fill(kConfig, vars_);
    o.ready_ports = {port_};
    proxy_ = std::make_unique<PorticoProcess>(o);
    ASSERT_TRUE(proxy_->Start());
  }

  std::optional<HttpResponse> Fetch(std::string_view path, HeaderList headers = {}) {
    return it::Fetch(port_, Get(path, headers));
  }
  int Status(std::string_view path, HeaderList headers = {}) {
    auto r = Fetch(path, std::move(headers));
    return r ? r->status : -1;
  }

  // Rewrites the config with `changes`, reloads, and waits for every worker to run it.
  void Reload(const Vars& changes) {
    for (const auto& [k, v] : changes) vars_[k] = v;
    ASSERT_TRUE(proxy_->Reload(Fill(kConfig, vars_), ++generation_));
  }

  TestUpstream upstream_;
  uint16_t port_ = FreePort();
  uint16_t admin_port_ = FreePort();
  Vars vars_;
  std::unique_ptr<PorticoProcess> proxy_;
  int generation_ = 1;
};

TEST_F(RateLimit, AcceptsSixHundredOfFiveThousandOfferedOverFiveSecondsOnTwoWorkers) {
  // 100/s with a burst of 100, offered 1,000/s for 5 s: 100 at once, then 100 a second.
  PacedLoadResult r = OfferLoad({.ports = {port_},
                                 .request = Get("/accuracy"),
                                 .rate = 1000,
                                 .duration = Ms{5000},
                                 .connections = 8});
  SCOPED_TRACE(r.Describe());
  EXPECT_EQ(r.stalled, 0u);
  EXPECT_EQ(r.count(200) + r.count(429), r.sent);
  EXPECT_GE(r.sent, 4950u);
  EXPECT_GE(r.count(200), 570u);
  EXPECT_LE(r.count(200), 630u);
  // Both workers took part (the connections spread over them), yet one limit held.
  AdminClient admin(admin_port_);
  auto m = admin.Metrics();
  ASSERT_TRUE(m) << admin.error();
  EXPECT_EQ(m->Value("portico_rate_limit_decisions_total",
                     {{"listener", "main"}, {"route", "accuracy"}, {"result", "allowed"}}),
            double(r.count(200)));
  EXPECT_EQ(m->Value("portico_rate_limit_decisions_total",
                     {{"listener", "main"}, {"route", "accuracy"}, {"result", "limited"}}),
            double(r.count(429)));
}

TEST_F(RateLimit, ALimitedRequestGets429WithRetryAfterAndRateLimitHeaders) {
  EXPECT_EQ(Status("/strict"), 200);
  auto ok = Fetch("/strict");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_FALSE(ok->headers.Has("ratelimit"));  // response_headers is off for this route
  auto r = Fetch("/strict");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->body, "Too Many Requests\n");
  // 1/min: the next token is a minute away.
  int retry = std::stoi(r->headers.Get("retry-after").value_or("-1"));
  EXPECT_GE(retry, 55);
  EXPECT_LE(retry, 60);
  // burst 2 at 1/min refills in 120 s; the policy is named after the key.
  EXPECT_EQ(r->headers.Get("ratelimit-policy"), "\"client_ip\";q=2;w=120");
  std::string v = r->headers.Get("ratelimit").value_or("");
  ASSERT_EQ(v.substr(0, v.find(";t=")), "\"client_ip\";r=0") << v;
  int reset = std::stoi(v.substr(v.find(";t=") + 3));
  EXPECT_GE(reset, 115);  // until the bucket is full again
  EXPECT_LE(reset, 120);
  EXPECT_TRUE(r->keep_alive);
}

TEST_F(RateLimit, AllowedProxiedResponsesCarryTheRemainingQuotaWhenConfigured) {
  for (int left = 2; left >= 0; --left) {
    auto r = Fetch("/proxied", {{"x-api-key", "k1"}});
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->Describe();
    EXPECT_EQ(r->headers.Get("ratelimit-policy"), "\"api\";q=3;w=180");
    std::string v = r->headers.Get("ratelimit").value_or("");
    EXPECT_EQ(v.substr(0, v.find(";t=")), "\"api\";r=" + std::to_string(left)) << v;
  }
  auto r = Fetch("/proxied", {{"x-api-key", "k1"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(upstream_.requests_received(), 3u);  // the limited one never reached it
}

TEST_F(RateLimit, EachKeyHasItsOwnBucketAndRequestsWithoutTheKeyAreNotCounted) {
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Status("/proxied", {{"x-api-key", "a"}}), 200);
  EXPECT_EQ(Status("/proxied", {{"x-api-key", "a"}}), 429);
  EXPECT_EQ(Status("/proxied", {{"x-api-key", "b"}}), 200);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Status("/proxied"), 200);  // no key: not limited

  // A combined key: the cookie and the header together.
  HeaderList blue{{"cookie", "theme=dark; session=s1"}, {"x-tenant", "blue"}};
  EXPECT_EQ(Status("/cookie", blue), 200);
  EXPECT_EQ(Status("/cookie", blue), 429);
  EXPECT_EQ(Status("/cookie", {{"cookie", "session=s1"}, {"x-tenant", "green"}}), 200);
  EXPECT_EQ(Status("/cookie", {{"cookie", "session=s2"}, {"x-tenant", "blue"}}), 200);
}

TEST_F(RateLimit, RoutesWithoutFiltersUseTheListenersAndAnEmptyListTurnsThemOff) {
  // The listener's limit keys on the route too: each inheriting route has its own count.
  EXPECT_EQ(Status("/inherit-a"), 200);
  EXPECT_EQ(Status("/inherit-a"), 200);
  EXPECT_EQ(Status("/inherit-a"), 429);
  EXPECT_EQ(Status("/inherit-b"), 200);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Status("/unlimited"), 200);
  // So does a request no route takes? No: 404s run no filters.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Status("/nowhere"), 404);
}

TEST_F(RateLimit, MoreActiveClientsThanMaxKeysNeverGetMoreThanTheirBurst) {
  // 40 clients against max_keys 16, each trying 6 times in a row, round after round:
  // forgetting a bucket early would hand a client a fresh burst.
  std::map<int, int> allowed;
  for (int round = 0; round < 6; ++round)
    for (int user = 0; user < 40; ++user)
      if (Status("/many", {{"x-user", "u" + std::to_string(user)}}) == 200) ++allowed[user];
  for (const auto& [user, n] : allowed) EXPECT_LE(n, 3) << "user " << user;
}

TEST_F(RateLimit, AReloadKeepsTheBucketsOfAnUnchangedLimitAndResetsAChangedOne) {
  EXPECT_EQ(Status("/strict"), 200);
  EXPECT_EQ(Status("/strict"), 200);
  EXPECT_EQ(Status("/strict"), 429);
  EXPECT_EQ(Status("/inherit-a"), 200);
  EXPECT_EQ(Status("/inherit-a"), 200);
  // Another route's limit changes; this one's does not: still limited.
  Reload({{"ACC_BURST", "50"}});
  EXPECT_EQ(Status("/strict"), 429);
  EXPECT_EQ(Status("/inherit-a"), 429);
  // Its own limit changes: a fresh start under the new one.
  Reload({{"STRICT_BURST", "3"}});
  EXPECT_EQ(Status("/strict"), 200);
  EXPECT_EQ(Status("/strict"), 200);
  EXPECT_EQ(Status("/strict"), 200);
  EXPECT_EQ(Status("/strict"), 429);
  EXPECT_EQ(Status("/inherit-a"), 429);  // the listener's limit was untouched
}

}  // namespace
}  // namespace portico::it
