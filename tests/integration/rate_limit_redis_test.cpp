// rate_limit with `backend: redis` through real binaries and a real redis-server: one
// limit shared by two gateways, and what happens when Redis stops, hangs and comes back.
#include <gtest/gtest.h>

#include <algorithm>
#include <future>

#include "harness/AdminClient.h"
#include "harness/HttpClient.h"
#include "harness/PacedLoad.h"
#include "harness/PorticoProcess.h"
#include "harness/Ports.h"
#include "harness/RedisServer.h"
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
      - name: shared
        match: { path: /shared }
        filters:
          - rate_limit:
              key: route
              rate: 100/s
              burst: 100
              backend: redis
              redis: { address: "127.0.0.1:{{REDIS}}", timeout: 250ms }
        respond: { status: 200, body: "ok" }
      - name: open
        match: { path: /open }
        filters:
          - rate_limit: { key: client_ip, rate: 100000/s, backend: redis, redis: { address: "127.0.0.1:{{REDIS}}", timeout: 100ms, fail: open } }
        respond: { status: 200, body: "ok" }
      - name: closed
        match: { path: /closed }
        filters:
          - rate_limit: { key: client_ip, rate: 100000/s, backend: redis, redis: { address: "127.0.0.1:{{REDIS}}", timeout: 100ms, fail: closed } }
        respond: { status: 200, body: "ok" }
      - name: strict
        match: { path: /strict }
        filters:
          - rate_limit: { key: client_ip, rate: 1/min, burst: 1, backend: redis, redis: { address: "127.0.0.1:{{REDIS}}" } }
        respond: { status: 200, body: "ok" }
  - name: slow
    address: 127.0.0.1:{{PORT2}}
    limits: { idle_timeout: 300ms }
    routes:
      - name: hop
        match: { path_prefix: /hop }
        filters:
          - rate_limit: { key: client_ip, rate: 100000/s, backend: redis, redis: { address: "127.0.0.1:{{REDIS}}", timeout: 1s, fail: open } }
        upstream: echo
upstreams:
  - name: echo
    endpoints: [ "{{UPSTREAM}}" ]
)";

class RateLimitRedis : public ::testing::Test {
 protected:
  void SetUp() override {
    if (RedisServerProgram().empty()) GTEST_SKIP() << "redis-server is not installed";
    std::string error;
    ASSERT_TRUE(redis_.Start(&error)) << error;
  }

  // `slow`: the port of the second listener (idle_timeout 300 ms, a 1 s Redis timeout).
  std::unique_ptr<PorticoProcess> StartPortico(uint16_t port, uint16_t admin,
                                               uint16_t slow = FreePort()) {
    PorticoOptions o;
    o.config = Fill(kConfig, {{"PORT", std::to_string(port)},
                              {"PORT2", std::to_string(slow)},
                              {"ADMIN", std::to_string(admin)},
                              {"UPSTREAM", upstream_.address()},
                              {"REDIS", std::to_string(redis_.port())}});
    o.ready_ports = {port};
    auto p = std::make_unique<PorticoProcess>(o);
    EXPECT_TRUE(p->Start());
    // Each worker connects to Redis when it takes the config: one client per call timeout
    // (250ms, 100ms, 50ms, 1s), on each of the 2 workers.
    EXPECT_TRUE(WaitForConnections(*p, 8)) << p->DiagnosticTail();
    return p;
  }

  // Until the log says `n` Redis clients connected.
  bool WaitForConnections(PorticoProcess& p, size_t n) {
    std::string line = "redis 127.0.0.1:" + std::to_string(redis_.port()) + ": connected";
    Deadline deadline(Ms{5000});
    while (true) {
      std::string log = p.Stderr();
      size_t seen = 0;
      for (size_t at = log.find(line); at != std::string::npos; at = log.find(line, at + 1)) ++seen;
      if (seen >= n) return true;
      if (deadline.Expired() || !p.PauseWhileRunning(Ms{5})) return false;
    }
  }

  double Metric(uint16_t admin_port, std::string_view name, const PromLabels& labels) {
    AdminClient admin(admin_port);
    auto m = admin.Metrics();
    if (!m) return -1;
    return m->Value(name, labels).value_or(0);
  }

  RedisServer redis_;
  TestUpstream upstream_;
};

TEST_F(RateLimitRedis, TwoGatewaysShareOneLimit) {
  uint16_t port_a = FreePort(), port_b = FreePort(), admin_a = FreePort(), admin_b = FreePort();
  auto a = StartPortico(port_a, admin_a);
  auto b = StartPortico(port_b, admin_b);
  // 2,000/s offered across both for 5 s against 100/s with a burst of 100: 600 in all.
  PacedLoadResult r = OfferLoad({.ports = {port_a, port_b},
                                 .request = Get("/shared"),
                                 .rate = 2000,
                                 .duration = Ms{5000},
                                 .connections = 16});
  SCOPED_TRACE(r.Describe());
  EXPECT_EQ(r.stalled, 0u);
  EXPECT_EQ(r.count(200) + r.count(429), r.sent);
  EXPECT_GE(r.sent, 5000u);
  EXPECT_GE(r.count(200), 540u);
  EXPECT_LE(r.count(200), 660u);
  // Both gateways took part, and Redis decided every time.
  PromLabels allowed{{"listener", "main"}, {"route", "shared"}, {"result", "allowed"}};
  double from_a = Metric(admin_a, "portico_rate_limit_decisions_total", allowed);
  double from_b = Metric(admin_b, "portico_rate_limit_decisions_total", allowed);
  EXPECT_GT(from_a, 0);
  EXPECT_GT(from_b, 0);
  EXPECT_EQ(from_a + from_b, double(r.count(200))) << from_a << " + " << from_b;
  EXPECT_EQ(Metric(admin_a, "portico_rate_limit_redis_errors_total",
                   {{"listener", "main"}, {"route", "shared"}}),
            0);
}

TEST_F(RateLimitRedis, RedisStoppedMidRunFailsOpenOrClosedAndNoRequestStalls) {
  uint16_t port = FreePort(), admin = FreePort();
  auto p = StartPortico(port, admin);
  auto offer = [&](std::string path) {
    return std::async(std::launch::async, [&, path] {
      return OfferLoad({.ports = {port},
                        .request = Get(path),
                        .rate = 200,
                        .duration = Ms{3000},
                        .connections = 4,
                        .response_timeout = Ms{1000}});
    });
  };
  auto open = offer("/open");
  auto closed = offer("/closed");
  // Once Redis has decided for a good part of the load, it goes away.
  Deadline deadline(Ms{5000});
  PromLabels allowed{{"listener", "main"}, {"route", "closed"}, {"result", "allowed"}};
  while (Metric(admin, "portico_rate_limit_decisions_total", allowed) < 100) {
    ASSERT_FALSE(deadline.Expired());
    ASSERT_TRUE(p->PauseWhileRunning(Ms{10}));
  }
  redis_.Kill();
  PacedLoadResult o = open.get();
  PacedLoadResult c = closed.get();
  SCOPED_TRACE("open: " + o.Describe() + "; closed: " + c.Describe());
  EXPECT_EQ(o.stalled, 0u);
  EXPECT_EQ(c.stalled, 0u);
  EXPECT_EQ(o.count(200), o.sent);  // fail open: every request allowed
  EXPECT_GE(c.count(200), 100u);    // before
  EXPECT_GT(c.count(503), 0u);      // after: refused, not limited
  EXPECT_EQ(c.count(200) + c.count(503), c.sent);
  EXPECT_LT(c.longest, Ms{500});  // nothing waited on the dead Redis
  // Logged once per limit, not per request; counted per request.
  std::string log = p->Stderr();
  auto count = [&](std::string_view what) {
    size_t n = 0;
    for (size_t at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("rate_limit on route open: Redis"), 1u) << log;
  EXPECT_EQ(count("rate_limit on route closed: Redis"), 1u) << log;
  EXPECT_GT(Metric(admin, "portico_rate_limit_redis_errors_total",
                   {{"listener", "main"}, {"route", "closed"}}),
            0);

  // Redis comes back: the gateway reconnects by itself and Redis decides again.
  std::string error;
  ASSERT_TRUE(redis_.Start(&error)) << error;
  ASSERT_TRUE(WaitForConnections(*p, 16));  // every client connected once more
  EXPECT_EQ(Fetch(port, Get("/closed"))->status, 200);
  EXPECT_EQ(Fetch(port, Get("/strict"))->status, 200);
  EXPECT_EQ(Fetch(port, Get("/strict"))->status, 429);
  EXPECT_TRUE(p->WaitForStderr("decides again", Ms{2000}));
}

TEST_F(RateLimitRedis, AHungRedisTimesOutIntoTheFailMode) {
  uint16_t port = FreePort(), admin = FreePort();
  auto p = StartPortico(port, admin);
  EXPECT_EQ(Fetch(port, Get("/closed"))->status, 200);
  ASSERT_TRUE(redis_.Pause());  // accepts bytes, answers nothing
  auto start = Clock::now();
  auto o = Fetch(port, Get("/open"));
  auto c = Fetch(port, Get("/closed"));
  ASSERT_TRUE(o && c);
  EXPECT_EQ(o->status, 200);
  EXPECT_EQ(c->status, 503);
  EXPECT_EQ(c->headers.Get("retry-after"), "1");
  EXPECT_LT(Clock::now() - start, Ms{1000});  // two timeouts of 100 ms, not a hang
  ASSERT_TRUE(redis_.Resume());
}

TEST_F(RateLimitRedis, AClientThatLeavesWhileRedisDecidesLeavesNothingBehind) {
  uint16_t port = FreePort(), admin = FreePort();
  auto p = StartPortico(port, admin);
  ASSERT_TRUE(redis_.Pause());
  for (int i = 0; i < 20; ++i) {
    HttpClient c;
    ASSERT_TRUE(c.Connect(port));
    ASSERT_TRUE(c.Send(Get("/strict")));
    c.Reset();  // gone before Redis could answer
  }
  ASSERT_TRUE(redis_.Resume());
  // The gateway is fine and serves the next request (decided by Redis).
  auto r = Fetch(port, Get("/open"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(p->Running());
}

TEST_F(RateLimitRedis, HopByHopHeadersStayDroppedWhenTheBufferMovedDuringThePause) {
  uint16_t port = FreePort(), admin = FreePort(), slow = FreePort();
  auto p = StartPortico(port, admin, slow);
  ASSERT_TRUE(redis_.Pause());  // the request waits (1 s, then fails open)
  HttpClient c;
  ASSERT_TRUE(c.Connect(slow));
  ASSERT_TRUE(c.Send(Get("/hop", {{"Connection", "x-hop"}, {"X-Hop", "secret"}, {"X-Keep", "1"}})));
  // Meanwhile other clients' bytes go through every worker's read buffer.
  for (int i = 0; i < 20; ++i) {
    HttpClient other;
    ASSERT_TRUE(other.Connect(port));
    ASSERT_TRUE(other.Send(Get("/open", {{"X-Filler", std::string(200, char('a' + i % 26))}})));
  }
  auto r = c.ReadResponse({.timeout = Ms{5000}});
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  ASSERT_TRUE(redis_.Resume());
  auto seen = upstream_.last_request();
  ASSERT_TRUE(seen);
  EXPECT_FALSE(seen->headers.Has("x-hop"));  // named by Connection: hop-by-hop
  EXPECT_EQ(seen->headers.Get("x-keep"), "1");
}

TEST_F(RateLimitRedis, AnAnswerGivenWhileRedisDecidesEndsThePause) {
  uint16_t port = FreePort(), admin = FreePort(), slow = FreePort();
  auto p = StartPortico(port, admin, slow);
  ASSERT_TRUE(redis_.Pause());
  // A body that never comes: idle_timeout (300 ms) answers 408 before Redis times out (1 s).
  HttpClient c;
  ASSERT_TRUE(c.Connect(slow));
  ASSERT_TRUE(c.Send("POST /hop HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"));
  auto r = c.ReadResponse({.timeout = Ms{5000}});
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 408);
  EXPECT_TRUE(c.WaitForClose(Ms{2000}));
  ASSERT_TRUE(redis_.Resume());
  // The late decision resumes nothing: no request reached the upstream, and the gateway
  // serves on.
  auto next = Fetch(slow, Get("/hop"));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(upstream_.requests_received(), 1u);
  EXPECT_TRUE(p->Running());
}

TEST_F(RateLimitRedis, AReloadThatDropsRedisClosesItsConnections) {
  uint16_t port = FreePort(), admin = FreePort();
  auto p = StartPortico(port, admin);
  // CLIENT LIST has a line per connection, the one asking included.
  auto connections = [&] {
    std::string list = redis_.Command({"CLIENT", "LIST"});
    return std::count(list.begin(), list.end(), '\n') - 1;
  };
  EXPECT_EQ(connections(), 8);
  ASSERT_TRUE(p->Reload(Fill(R"(workers: 2
listeners:
  - name: main
    address: 127.0.0.1:{{PORT}}
    routes:
      - name: open
        respond: { status: 200, body: "ok" }
)",
                             {{"PORT", std::to_string(port)}}),
                        2));
  Deadline deadline(Ms{5000});
  while (connections() != 0) {
    ASSERT_FALSE(deadline.Expired()) << connections() << " connections left";
    ASSERT_TRUE(p->PauseWhileRunning(Ms{10}));
  }
  EXPECT_TRUE(p->WaitForStderr("closed (no longer in the config)", Ms{1000}));
  EXPECT_EQ(Fetch(port, Get("/open"))->status, 200);
}

}  // namespace
}  // namespace portico::it
