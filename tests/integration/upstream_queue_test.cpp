// The connection queue in front of a pool at max_connections (max_pending,
// timeouts.queue) and the whole-exchange timeout (timeouts.total). Real upstream servers
// on loopback.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "harness/HttpClient.h"
#include "harness/PorticoProcess.h"
#include "harness/ProxyConfig.h"
#include "harness/TestUpstream.h"

namespace portico::it {
namespace {

using Clock = std::chrono::steady_clock;

struct Timed {
  int status = -1;
  Ms elapsed{0};
};

Timed TimedGet(uint16_t port, const std::string& target, Ms timeout = Ms{5000}) {
  auto start = Clock::now();
  auto r = Fetch(port, Get(target), ReadOptions{.timeout = timeout});
  return {r ? r->status : -1, std::chrono::duration_cast<Ms>(Clock::now() - start)};
}

UpstreamResponse Slow(Ms delay) {
  UpstreamResponse r;
  r.body = "slow\n";
  r.delay = delay;
  return r;
}

class UpstreamQueue : public ::testing::Test {
 protected:
  void Start() {
    proxy_ = std::make_unique<PorticoProcess>(cfg_.Options());
    ASSERT_TRUE(proxy_->Start());
  }

  ProxyConfig cfg_;
  std::unique_ptr<PorticoProcess> proxy_;
};

TEST_F(UpstreamQueue, RequestsBeyondMaxConnectionsWaitAndAreServedInTurn) {
  TestUpstream up([](const HttpRequest&) { return Slow(Ms{200}); });
  cfg_.endpoints = {up.address()};
  cfg_.timeouts = "{ connect: 1s, response: 3s, queue: 5s }";
  cfg_.upstream_extra = "    limits: { max_connections: 1 }\n";
  Start();
  constexpr int kClients = 4;
  std::vector<Timed> results(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i)
    clients.emplace_back([&, i] { results[i] = TimedGet(cfg_.port, "/q"); });
  for (auto& t : clients) t.join();
  for (int i = 0; i < kClients; ++i) EXPECT_EQ(results[i].status, 200) << "client " << i;
  // One connection, reused by each waiting request in turn.
  EXPECT_EQ(up.connections_accepted(), 1u);
  EXPECT_EQ(up.peak_open_connections(), 1u);
  EXPECT_EQ(up.requests_received(), size_t(kClients));
}

TEST_F(UpstreamQueue, BeyondMaxPendingTheRequestFailsFast) {
  TestUpstream up([](const HttpRequest&) { return Slow(Ms{800}); });
  cfg_.endpoints = {up.address()};
  cfg_.log_level = "debug";
  cfg_.timeouts = "{ connect: 1s, response: 3s, queue: 5s }";
  cfg_.upstream_extra = "    limits: { max_connections: 1, max_pending: 1 }\n";
  Start();
  Timed first, queued;
  std::thread t1([&] { first = TimedGet(cfg_.port, "/first"); });
  ASSERT_TRUE(up.WaitForRequestHeads(1, Ms{3000}));
  std::thread t2([&] { queued = TimedGet(cfg_.port, "/queued"); });
  // The second request takes the only place in the queue.
  ASSERT_TRUE(proxy_->WaitForStderr("GET /queued waits for a connection", Ms{3000}))
      << proxy_->DiagnosticTail();
  Timed overflow = TimedGet(cfg_.port, "/overflow");
  t1.join();
  t2.join();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(queued.status, 200);
  EXPECT_EQ(overflow.status, 503);
  EXPECT_LT(overflow.elapsed, Ms{400}) << "an overflowing request must not wait";
  EXPECT_EQ(up.connections_accepted(), 1u);
}

TEST_F(UpstreamQueue, AWaitLongerThanTheQueueTimeoutIs503) {
  TestUpstream up([](const HttpRequest&) { return Slow(Ms{1500}); });
  cfg_.endpoints = {up.address()};
  cfg_.timeouts = "{ connect: 1s, response: 3s, queue: 200ms }";
  cfg_.upstream_extra = "    limits: { max_connections: 1 }\n";
  Start();
  Timed first;
  std::thread t1([&] { first = TimedGet(cfg_.port, "/first"); });
  ASSERT_TRUE(up.WaitForRequestHeads(1, Ms{3000}));
  Timed waited = TimedGet(cfg_.port, "/waits");
  t1.join();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(waited.status, 503);
  EXPECT_GE(waited.elapsed, Ms{150});
  EXPECT_LT(waited.elapsed, Ms{1200}) << "the queue timeout, not the first response, ends it";
  EXPECT_NE(proxy_->Stderr().find("no connection became free within timeouts.queue"),
            std::string::npos);
  // The proxy goes on serving.
  up.SetHandler(DefaultResponse);
  EXPECT_EQ(TimedGet(cfg_.port, "/after").status, 200);
}

TEST_F(UpstreamQueue, IdleConnectionsOnOtherWorkersAreGivenUpToWaiters) {
  // One connection for the whole process and two workers: after a request on one worker,
  // its idle connection holds the only slot. A request accepted by the other worker
  // waits, and must get it (the first worker closes its idle connection) well before
  // the queue timeout. Eight client connections land on both workers (SO_REUSEPORT
  // spreads them by hash) with near certainty.
  TestUpstream up;
  cfg_.endpoints = {up.address()};
  cfg_.workers = "2";
  cfg_.timeouts = "{ connect: 1s, response: 3s, queue: 3s }";
  cfg_.upstream_extra = "    limits: { max_connections: 1 }\n";
  Start();
  constexpr int kClients = 8;
  std::vector<HttpClient> clients(kClients);
  for (auto& c : clients) ASSERT_TRUE(c.Connect(cfg_.port));
  auto start = Clock::now();
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < kClients; ++i) {
      ASSERT_TRUE(clients[i].Send(Get("/r" + std::to_string(round))));
      auto r = clients[i].ReadResponse(ReadOptions{.timeout = Ms{5000}});
      ASSERT_TRUE(r) << clients[i].error();
      EXPECT_EQ(r->status, 200) << "round " << round << " client " << i;
    }
  }
  EXPECT_LT(Clock::now() - start, Ms{2500}) << "requests waited for the queue timeout";
  EXPECT_EQ(up.requests_received(), size_t(3 * kClients));
}

TEST_F(UpstreamQueue, TotalTimeoutBoundsTheExchangeAcrossRetries) {
  // Each try times out after 500 ms and is retried elsewhere; without a total limit the
  // client would wait for three tries (1.5 s).
  TestUpstream a([](const HttpRequest&) { return Slow(Ms{2000}); });
  TestUpstream b([](const HttpRequest&) { return Slow(Ms{2000}); });
  cfg_.endpoints = {a.address(), b.address()};
  cfg_.timeouts = "{ connect: 1s, response: 3s, per_try: 500ms, total: 800ms }";
  cfg_.upstream_extra = "    retries: { attempts: 3, on: [timeout] }\n";
  Start();
  Timed t = TimedGet(cfg_.port, "/slow");
  EXPECT_EQ(t.status, 504);
  EXPECT_GE(t.elapsed, Ms{700});
  EXPECT_LT(t.elapsed, Ms{1300});
  EXPECT_EQ(a.request_heads() + b.request_heads(), 2u) << "the first try and one retry";
  EXPECT_NE(proxy_->Stderr().find("exceeded timeouts.total"), std::string::npos);
}

TEST_F(UpstreamQueue, TotalTimeoutMidResponseClosesTheClient) {
  TestUpstream up([](const HttpRequest&) {
    UpstreamResponse r;
    r.generated_size = 5 * 1024;
    r.chunk_size = 1024;
    r.chunk_delay = Ms{200};  // the whole body takes about a second
    return r;
  });
  cfg_.endpoints = {up.address()};
  cfg_.timeouts = "{ connect: 1s, response: 3s, total: 400ms }";
  Start();
  HttpClient c;
  ASSERT_TRUE(c.Connect(cfg_.port));
  ASSERT_TRUE(c.Send(Get("/stream")));
  auto r = c.ReadResponse(ReadOptions{.timeout = Ms{3000}});
  EXPECT_FALSE(r) << "the response must be cut short, not completed";
  EXPECT_TRUE(c.peer_closed()) << c.error();
  // A fast response on a new connection is unaffected.
  up.SetHandler(DefaultResponse);
  EXPECT_EQ(TimedGet(cfg_.port, "/fast").status, 200);
}

}  // namespace
}  // namespace portico::it
