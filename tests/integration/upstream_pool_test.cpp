// Upstream pools beyond one healthy endpoint: retries, outlier ejection, limits, and what a
// client sees when no endpoint can take its request. Real upstream servers on loopback.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "harness/HttpClient.h"
#include "harness/PorticoProcess.h"
#include "harness/Ports.h"
#include "harness/ProxyConfig.h"
#include "harness/TestUpstream.h"

namespace portico::it {
namespace {

using Clock = std::chrono::steady_clock;

class UpstreamPool : public ::testing::Test {
 protected:
  void Start() {
    proxy_ = std::make_unique<PorticoProcess>(cfg_.Options());
    ASSERT_TRUE(proxy_->Start());
  }
  int Status(const std::string& target = "/p") {
    std::string err;
    auto r = Fetch(cfg_.port, Get(target), ReadOptions{.timeout = Ms{5000}}, &err);
    EXPECT_TRUE(r) << err;
    return r ? r->status : 0;
  }

  ProxyConfig cfg_;
  std::unique_ptr<PorticoProcess> proxy_;
};

TEST_F(UpstreamPool, ConnectFailureIsRetriedOnAnotherEndpoint) {
  ClosedPort dead;
  TestUpstream good;
  cfg_.endpoints = {dead.address(), good.address()};
  cfg_.upstream_extra = "    retries: { attempts: 2, on: [connect_failure] }\n";
  Start();
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Status(), 200) << "request " << i;
  EXPECT_EQ(good.requests_received(), 20u);
}

TEST_F(UpstreamPool, WithoutRetriesAConnectFailureIs502) {
  ClosedPort dead;
  TestUpstream good;
  cfg_.endpoints = {dead.address(), good.address()};
  Start();
  int bad = 0;
  for (int i = 0; i < 10; ++i) bad += Status() == 502;
  EXPECT_EQ(bad, 5) << "round robin sends every other request to the dead endpoint";
}

TEST_F(UpstreamPool, A503AnswerIsRetriedWhenConfigured) {
  TestUpstream busy([](const HttpRequest&) {
    UpstreamResponse r;
    r.status = 503;
    r.body = "busy\n";
    return r;
  });
  TestUpstream good;
  cfg_.endpoints = {busy.address(), good.address()};
  cfg_.upstream_extra = "    retries: { attempts: 2, on: [503] }\n";
  Start();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Status(), 200) << "request " << i;
  EXPECT_EQ(good.requests_received(), 10u);
  // Each request reaches the busy endpoint at most once: a retry avoids the endpoint that
  // failed it.
  EXPECT_GE(busy.requests_received(), 1u);
  EXPECT_LE(busy.requests_received(), 10u);
}

TEST_F(UpstreamPool, NonIdempotentRequestsAreNotRetriedAfterReachingTheUpstream) {
  TestUpstream busy([](const HttpRequest&) {
    UpstreamResponse r;
    r.status = 503;
    return r;
  });
  TestUpstream good;
  cfg_.endpoints = {busy.address(), good.address()};
  cfg_.upstream_extra = "    retries: { attempts: 3, on: [503] }\n";
  Start();
  int unavailable = 0;
  for (int i = 0; i < 4; ++i) {
    auto r = Fetch(cfg_.port, Request("POST", "/order", {}, "x=1"));
    ASSERT_TRUE(r);
    unavailable += r->status == 503;
  }
  EXPECT_EQ(unavailable, 2) << "a POST that reached an upstream must not be sent again";
  EXPECT_EQ(busy.requests_received() + good.requests_received(), 4u);
}

TEST_F(UpstreamPool, HangingEndpointGives504AndIsEjected) {
  TestUpstream hanging(UpstreamOptions{.mode = UpstreamMode::kNeverRespond});
  TestUpstream good;
  cfg_.endpoints = {hanging.address(), good.address()};
  cfg_.timeouts = "{ connect: 1s, response: 300ms }";
  cfg_.upstream_extra =
      "    outlier: { consecutive_gateway_failures: 1, base_ejection_time: 30s, "
      "max_ejection_percent: 50% }\n";
  Start();
  // Round robin reaches the hanging endpoint within two requests (each worker starts at
  // its own position).
  int first = Status();
  if (first == 200) first = Status();
  EXPECT_EQ(first, 504);
  size_t served_before = good.requests_received();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Status(), 200) << "request " << i;
  EXPECT_EQ(hanging.request_heads(), 1u) << "an ejected endpoint got traffic";
  EXPECT_EQ(good.requests_received(), served_before + 10);
}

TEST_F(UpstreamPool, AllEndpointsEjectedAnswers503Quickly) {
  ClosedPort a, b;
  cfg_.endpoints = {a.address(), b.address()};
  cfg_.upstream_extra =
      "    outlier: { consecutive_gateway_failures: 1, base_ejection_time: 30s, "
      "max_ejection_percent: 100% }\n";
  Start();
  EXPECT_EQ(Status(), 502);
  EXPECT_EQ(Status(), 502);
  auto t0 = Clock::now();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Status(), 503);
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(1)) << "503 must not wait for anything";
}

TEST_F(UpstreamPool, MaxEjectionPercentKeepsSomeEndpointsInService) {
  ClosedPort a, b;
  cfg_.endpoints = {a.address(), b.address()};
  cfg_.upstream_extra =
      "    outlier: { consecutive_gateway_failures: 1, base_ejection_time: 30s, "
      "max_ejection_percent: 50% }\n";
  Start();
  // One endpoint may be ejected, never both: the failures stay 502, never 503.
  for (int i = 0; i < 6; ++i) EXPECT_EQ(Status(), 502) << "request " << i;
}

TEST_F(UpstreamPool, MaxConnectionsIsOneBoundAcrossWorkers) {
  UpstreamResponse slow;
  slow.body = "slow\n";
  slow.delay = Ms{400};
  TestUpstream up([slow](const HttpRequest&) { return slow; });
  cfg_.endpoints = {up.address()};
  cfg_.workers = "2";
  // No queue: what finds both connections busy fails at once.
  cfg_.upstream_extra = "    limits: { max_connections: 2, max_pending: 0 }\n";
  Start();
  constexpr int kClients = 8;
  std::vector<int> status(kClients, 0);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      auto r = Fetch(cfg_.port, Get("/slow"), ReadOptions{.timeout = Ms{5000}});
      status[i] = r ? r->status : -1;
    });
  }
  for (auto& t : clients) t.join();
  int ok = 0, full = 0;
  for (int s : status) {
    ok += s == 200;
    full += s == 503;
  }
  EXPECT_EQ(ok + full, kClients);
  EXPECT_GE(ok, 2);
  EXPECT_GE(full, 1) << "more concurrent requests than connections must fail fast";
  EXPECT_LE(up.connections_accepted(), 2u) << "the upstream saw more than max_connections";
}

TEST_F(UpstreamPool, ExhaustedRetryBudgetMeansNoRetry) {
  TestUpstream resetting(UpstreamOptions{.mode = UpstreamMode::kResetAfterRequest});
  TestUpstream good;
  cfg_.endpoints = {resetting.address(), good.address()};
  cfg_.upstream_extra =
      "    retries: { attempts: 2, on: [reset], budget: 0%, min_retry_concurrency: 0 }\n";
  Start();
  int bad = 0;
  for (int i = 0; i < 10; ++i) bad += Status() == 502;
  EXPECT_EQ(bad, 5) << "with no retry budget, failures are answered, not retried";
  EXPECT_EQ(good.requests_received(), 5u);
}

// A refused connection cost the endpoint nothing (an endpoint restarting refuses a burst of
// them): retried even when the budget allows no other retry.
TEST_F(UpstreamPool, RefusedConnectionsAreRetriedBeyondTheBudget) {
  ClosedPort dead;
  TestUpstream good;
  cfg_.endpoints = {dead.address(), good.address()};
  cfg_.upstream_extra =
      "    retries: { attempts: 2, on: [connect_failure], budget: 0%, min_retry_concurrency: 0 }\n";
  Start();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Status(), 200) << "request " << i;
  EXPECT_EQ(good.requests_received(), 10u);
}

// An endpoint that answers each connection's first request and closes it at once, the
// answer and the FIN in one segment (TCP_CORK), without saying so (no Connection: close):
// when Portico takes the connection for the next request, the close is already in its
// socket, unread.
class AnswerThenCloseUpstream {
 public:
  AnswerThenCloseUpstream() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
        ::listen(listen_fd_, 64) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      ADD_FAILURE() << "cannot listen: " << std::strerror(errno);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~AnswerThenCloseUpstream() {
    ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    ::close(listen_fd_);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int answered() const { return answered_.load(); }

 private:
  void Serve() {
    while (true) {
      int fd = ::accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) return;
      timeval tv{2, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      std::string in;
      char buf[4096];
      // The request's head; the requests here have no body or a short one behind it.
      while (in.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.append(buf, size_t(n));
      }
      if (in.find("\r\n\r\n") != std::string::npos) {
        int on = 1, off = 0;
        ::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
        const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        ::send(fd, answer, sizeof answer - 1, MSG_NOSIGNAL);
        ::shutdown(fd, SHUT_WR);
        ::setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
        ++answered_;
        while (::recv(fd, buf, sizeof buf, 0) > 0) {
        }
      }
      ::close(fd);
    }
  }

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<int> answered_{0};
  std::thread thread_;
};

// A body cannot be sent twice, so before a request with one goes on a kept connection the
// connection is checked, and one the endpoint has closed is passed over for a new one.
TEST_F(UpstreamPool, AnIdleConnectionTheEndpointClosedCarriesNoBody) {
  AnswerThenCloseUpstream up;
  cfg_.endpoints = {up.address()};
  Start();
  for (int round = 0; round < 20; ++round) {
    HttpClient c;
    ASSERT_TRUE(c.Connect(cfg_.port)) << c.error();
    ASSERT_TRUE(c.Send(Get("/first") + Request("POST", "/second", {}, "payload")));
    std::vector<HttpResponse> rs = c.ReadResponses(2, ReadOptions{.timeout = Ms{5000}});
    ASSERT_EQ(rs.size(), 2u) << "round " << round << ": " << c.error();
    EXPECT_EQ(rs[0].status, 200) << "round " << round;
    EXPECT_EQ(rs[1].status, 200) << "round " << round << ": " << rs[1].body;
  }
  EXPECT_EQ(up.answered(), 40);
}

TEST_F(UpstreamPool, LeastRequestSteersAroundASlowEndpoint) {
  UpstreamResponse slow_answer;
  slow_answer.delay = Ms{300};
  TestUpstream slow([slow_answer](const HttpRequest&) { return slow_answer; });
  TestUpstream fast;
  cfg_.endpoints = {slow.address(), fast.address()};
  cfg_.upstream_extra = "    balance: least_request\n";
  Start();
  constexpr int kClients = 4, kEach = 10;
  std::vector<std::thread> clients;
  std::atomic<int> failures{0};
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      for (int i = 0; i < kEach; ++i) {
        auto r = Fetch(cfg_.port, Get("/p"), ReadOptions{.timeout = Ms{5000}});
        if (!r || r->status != 200) ++failures;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(slow.requests_received() + fast.requests_received(), size_t(kClients * kEach));
  EXPECT_GT(fast.requests_received(), 3 * slow.requests_received())
      << "slow " << slow.requests_received() << ", fast " << fast.requests_received();
}

// Outlier ejection lasts its whole time even while the active health check passes.
TEST_F(UpstreamPool, PassingHealthChecksDoNotEndAnEjection) {
  TestUpstream sick([](const HttpRequest& r) {
    UpstreamResponse a;
    if (r.target != "/healthz") a.delay = Ms{2000};
    return a;
  });
  TestUpstream good;
  cfg_.endpoints = {sick.address(), good.address()};
  cfg_.timeouts = "{ connect: 1s, response: 300ms }";
  cfg_.upstream_extra =
      "    outlier: { consecutive_gateway_failures: 1, base_ejection_time: 30s, "
      "max_ejection_percent: 50% }\n"
      "    health_check: { path: /healthz, interval: 100ms, timeout: 50ms, healthy: 1, "
      "unhealthy: 1 }\n";
  Start();
  int first = Status();
  if (first == 200) first = Status();
  ASSERT_EQ(first, 504);
  auto proxied = [&] {
    size_t n = 0;
    for (const auto& r : sick.requests()) n += r.target != "/healthz";
    return n;
  };
  size_t proxied_at_ejection = proxied();
  // Let several health checks pass on the ejected endpoint.
  size_t probes = sick.requests_received() - proxied_at_ejection;
  ASSERT_TRUE(sick.WaitForRequests(proxied_at_ejection + probes + 3, Ms{3000}));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Status(), 200) << "request " << i;
  EXPECT_EQ(proxied(), proxied_at_ejection) << "an ejected endpoint got traffic";
}

}  // namespace
}  // namespace portico::it
