// Active health checks: probes from the proxy's main thread take failing endpoints out of
// their pool and bring them back, the transitions are logged once each, and the pool
// answers 503 (or, in panic, uses every endpoint) when none is healthy. Real upstreams on
// loopback; every wait is for an event (a log line, a request) with a deadline.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "harness/ChildProcess.h"
#include "harness/HttpClient.h"
#include "harness/PorticoProcess.h"
#include "harness/Ports.h"
#include "harness/ProxyConfig.h"
#include "harness/SteadyClient.h"
#include "harness/TestUpstream.h"

namespace portico::it {
namespace {

constexpr const char* kProbeTarget = "/healthz";
constexpr const char* kFastChecks =
    "    health_check: { type: http, path: /healthz, interval: 200ms, timeout: 100ms, "
    "healthy: 2, unhealthy: 2 }\n";

// Answers health probes with `status` and every other request with the default 200.
UpstreamHandler HealthzAnswers(int status) {
  return [status](const HttpRequest& request) {
    if (request.target != kProbeTarget) return DefaultResponse(request);
    UpstreamResponse r;
    r.status = status;
    r.body = "health " + std::to_string(status) + "\n";
    return r;
  };
}

bool IsProbe(const HttpRequest& r) {
  return r.headers.Value("User-Agent") == "portico-health-check";
}

// Requests an upstream received that were not health probes.
size_t TrafficRequests(const TestUpstream& up) {
  size_t n = 0;
  for (const HttpRequest& r : up.requests()) n += !IsProbe(r);
  return n;
}

size_t Occurrences(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

std::string UnhealthyLine(const std::string& address) {
  return "upstream backend endpoint " + address + " is unhealthy: ";
}
std::string HealthyAgainLine(const std::string& address) {
  return "upstream backend endpoint " + address + " is healthy again";
}

class HealthCheck : public ::testing::Test {
 protected:
  void Start() {
    proxy_ = std::make_unique<PorticoProcess>(cfg_.Options());
    ASSERT_TRUE(proxy_->Start());
  }

  // Waits until the proxy's stderr (its log) contains `text`. The log is a file the proxy
  // appends to; it is read again every few milliseconds, and a proxy exit ends the wait.
  bool WaitForLog(const std::string& text, Ms timeout) {
    Deadline deadline(timeout);
    while (true) {
      if (proxy_->Stderr().find(text) != std::string::npos) return true;
      if (deadline.Expired() || !proxy_->Running()) return false;
      proxy_->PauseWhileRunning(std::min(Ms{5}, deadline.Remaining()));
    }
  }

  // Waits until `up` has received `n` requests that were not probes.
  bool WaitForTraffic(const TestUpstream& up, size_t n, Ms timeout) {
    return WaitForRequestsWhere(up, n, timeout, [](const HttpRequest& r) { return !IsProbe(r); });
  }
  bool WaitForProbes(const TestUpstream& up, size_t n, Ms timeout) {
    return WaitForRequestsWhere(up, n, timeout, IsProbe);
  }
  template <typename Pred>
  bool WaitForRequestsWhere(const TestUpstream& up, size_t n, Ms timeout, Pred pred) {
    auto count = [&] {
      size_t k = 0;
      for (const HttpRequest& r : up.requests()) k += pred(r);
      return k;
    };
    Deadline deadline(timeout);
    while (count() < n) {
      if (deadline.Expired() || !proxy_->Running()) return false;
      up.WaitForRequests(up.requests_received() + 1, std::min(Ms{50}, deadline.Remaining()));
    }
    return true;
  }

  std::optional<HttpResponse> Send(const std::string& target) {
    std::string err;
    auto r = Fetch(cfg_.port, Get(target), ReadOptions{.timeout = Ms{3000}}, &err);
    EXPECT_TRUE(r) << target << ": " << err;
    return r;
  }

  ProxyConfig cfg_;
  std::unique_ptr<PorticoProcess> proxy_;
};

// Binds a new upstream on `port`, retrying briefly in case the port is momentarily taken.
std::unique_ptr<TestUpstream> RestartOn(uint16_t port, Ms timeout) {
  Deadline deadline(timeout);
  while (true) {
    try {
      return std::make_unique<TestUpstream>(BindPort{port});
    } catch (const std::runtime_error&) {
      if (deadline.Expired()) return nullptr;
      std::this_thread::sleep_for(Ms{20});  // nothing to wait on: the port is not ours
    }
  }
}

TEST_F(HealthCheck, KilledEndpointIsTakenOutWithoutFailedRequestsAndComesBack) {
  TestUpstream a, c;
  auto b = std::make_unique<TestUpstream>();
  const uint16_t b_port = b->port();
  const std::string b_address = b->address();
  cfg_.endpoints = {a.address(), b_address, c.address()};
  cfg_.upstream_extra =
      std::string(kFastChecks) +
      "    retries: { attempts: 3, on: [connect_failure, reset, 502, 503, 504] }\n";
  ASSERT_NO_FATAL_FAILURE(Start());

  SteadyClient client(cfg_.port, 3000);
  ASSERT_TRUE(client.WaitForDone(40, Ms{5000}));
  ASSERT_GT(TrafficRequests(*b), 0u) << "round robin never reached the endpoint";

  auto killed = Clock::now();
  b.reset();
  // Two failed probes, one interval (±10% jitter) apart, plus a second of slack.
  EXPECT_TRUE(WaitForLog(UnhealthyLine(b_address), Ms{1400}))
      << "no 'unhealthy' line 1.4 s after the kill\n"
      << proxy_->DiagnosticTail();
  EXPECT_LE(MsSince(killed), 1400);
  size_t done_at_unhealthy = client.done();

  b = RestartOn(b_port, Ms{2000});
  ASSERT_TRUE(b) << "cannot listen on " << b_address << " again";
  EXPECT_TRUE(WaitForLog(HealthyAgainLine(b_address), Ms{3000})) << proxy_->DiagnosticTail();
  EXPECT_TRUE(WaitForTraffic(*b, 3, Ms{3000})) << "the endpoint got no traffic once healthy";
  client.Stop();

  EXPECT_GT(client.done(), done_at_unhealthy) << "the client stalled";
  EXPECT_TRUE(client.failures().empty())
      << client.failures().size() << " of " << client.done()
      << " requests failed; first: " << client.failures().front();
  std::string log = proxy_->Stderr();
  EXPECT_EQ(Occurrences(log, UnhealthyLine(b_address)), 1u) << "one line per transition\n" << log;
  EXPECT_EQ(Occurrences(log, HealthyAgainLine(b_address)), 1u) << log;
  EXPECT_EQ(Occurrences(log, "is unhealthy"), 1u) << "only the killed endpoint\n" << log;
  EXPECT_NE(log.find("(2 consecutive failures)"), std::string::npos) << log;
}

TEST_F(HealthCheck, EndpointFailingItsHealthCheckGetsNoTraffic) {
  TestUpstream sick(HealthzAnswers(500));  // would serve real requests fine
  TestUpstream good(HealthzAnswers(200));
  cfg_.endpoints = {sick.address(), good.address()};
  cfg_.upstream_extra = kFastChecks;
  ASSERT_NO_FATAL_FAILURE(Start());

  ASSERT_TRUE(
      WaitForLog(UnhealthyLine(sick.address()) + "status 500 (2 consecutive failures)", Ms{3000}))
      << proxy_->DiagnosticTail();
  size_t sick_before = TrafficRequests(sick);
  size_t good_before = TrafficRequests(good);
  for (int i = 0; i < 20; ++i) {
    auto r = Send("/work/" + std::to_string(i));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_EQ(TrafficRequests(sick), sick_before) << "an unhealthy endpoint got traffic";
  EXPECT_EQ(TrafficRequests(good), good_before + 20);
  EXPECT_EQ(proxy_->Stderr().find(UnhealthyLine(good.address())), std::string::npos);

  // The probe as the upstream saw it: default Host, its own connection, closed after.
  ASSERT_TRUE(WaitForProbes(good, 2, Ms{2000}));
  auto requests = good.requests();
  std::vector<HttpRequest> probes;
  for (const auto& r : requests)
    if (IsProbe(r)) probes.push_back(r);
  ASSERT_GE(probes.size(), 2u);
  EXPECT_EQ(probes[0].method, "GET");
  EXPECT_EQ(probes[0].target, "/healthz");
  EXPECT_EQ(probes[0].headers.Value("Host"), good.address());
  EXPECT_TRUE(probes[0].headers.HasToken("Connection", "close"));
  EXPECT_NE(probes[0].connection_index, probes[1].connection_index);
  EXPECT_TRUE(good.WaitForOpenConnectionsAtMost(1, Ms{1000})) << "probe connections are not closed";
}

TEST_F(HealthCheck, TcpCheckMarksAClosedPortUnhealthy) {
  ClosedPort dead;
  TestUpstream good;
  cfg_.endpoints = {dead.address(), good.address()};
  cfg_.upstream_extra =
      "    health_check: { type: tcp, interval: 200ms, timeout: 100ms, unhealthy: 2 }\n";
  ASSERT_NO_FATAL_FAILURE(Start());

  ASSERT_TRUE(WaitForLog(UnhealthyLine(dead.address()) + "connection refused", Ms{3000}))
      << proxy_->DiagnosticTail();
  // No retries are configured: without the check every other request would be a 502.
  for (int i = 0; i < 10; ++i) {
    auto r = Send("/t/" + std::to_string(i));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << "request " << i;
  }
  EXPECT_EQ(TrafficRequests(good), 10u);
  for (const auto& r : good.requests()) EXPECT_FALSE(IsProbe(r)) << "a tcp check sent a request";
  EXPECT_GE(good.connections_accepted(), 2u) << "the good endpoint was never probed";
  EXPECT_EQ(proxy_->Stderr().find(UnhealthyLine(good.address())), std::string::npos);
}

TEST_F(HealthCheck, AllEndpointsUnhealthyAnswers503Quickly) {
  TestUpstream x(HealthzAnswers(503)), y(HealthzAnswers(500));
  cfg_.endpoints = {x.address(), y.address()};
  cfg_.upstream_extra = kFastChecks;
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(WaitForLog(UnhealthyLine(x.address()), Ms{3000})) << proxy_->DiagnosticTail();
  ASSERT_TRUE(WaitForLog(UnhealthyLine(y.address()), Ms{3000})) << proxy_->DiagnosticTail();

  auto t0 = Clock::now();
  for (int i = 0; i < 5; ++i) {
    auto r = Send("/nobody");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503);
  }
  EXPECT_LT(MsSince(t0), 1000) << "503 must not wait for anything";
  EXPECT_EQ(TrafficRequests(x) + TrafficRequests(y), 0u);
}

TEST_F(HealthCheck, PanicThresholdSendsTrafficToUnhealthyEndpoints) {
  TestUpstream x(HealthzAnswers(500)), y(HealthzAnswers(500));
  cfg_.endpoints = {x.address(), y.address()};
  cfg_.upstream_extra = std::string(kFastChecks) + "    panic_threshold: 50%\n";
  ASSERT_NO_FATAL_FAILURE(Start());
  ASSERT_TRUE(WaitForLog(UnhealthyLine(x.address()), Ms{3000})) << proxy_->DiagnosticTail();
  ASSERT_TRUE(WaitForLog(UnhealthyLine(y.address()), Ms{3000})) << proxy_->DiagnosticTail();

  for (int i = 0; i < 10; ++i) {
    auto r = Send("/panic/" + std::to_string(i));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << "request " << i;
  }
  EXPECT_EQ(TrafficRequests(x) + TrafficRequests(y), 10u);
  EXPECT_GT(TrafficRequests(x), 0u) << "panic mode spreads over every endpoint";
  EXPECT_GT(TrafficRequests(y), 0u) << "panic mode spreads over every endpoint";
}

TEST_F(HealthCheck, ExpectedStatusesAndProbeTimeouts) {
  // Both answer 204, which the check expects; one answers too late to count.
  TestUpstream fine(HealthzAnswers(204));
  TestUpstream slow([](const HttpRequest& request) {
    UpstreamResponse r = HealthzAnswers(204)(request);
    if (request.target == kProbeTarget) r.delay = Ms{400};
    return r;
  });
  cfg_.endpoints = {fine.address(), slow.address()};
  cfg_.upstream_extra =
      "    health_check: { path: /healthz, host: health.internal, expect: [204], "
      "interval: 200ms, timeout: 100ms, unhealthy: 2 }\n";
  ASSERT_NO_FATAL_FAILURE(Start());

  ASSERT_TRUE(WaitForLog(UnhealthyLine(slow.address()) + "no answer within 100ms", Ms{3000}))
      << proxy_->DiagnosticTail();
  // By then `fine` has passed several probes.
  EXPECT_EQ(proxy_->Stderr().find(UnhealthyLine(fine.address())), std::string::npos)
      << proxy_->DiagnosticTail();
  auto probe = fine.last_request();
  ASSERT_TRUE(probe);
  EXPECT_TRUE(IsProbe(*probe));
  EXPECT_EQ(probe->headers.Value("Host"), "health.internal");
}

TEST_F(HealthCheck, SigtermWithAProbeInFlightExitsPromptly) {
  TestUpstream silent(UpstreamOptions{.mode = UpstreamMode::kNeverRespond});
  cfg_.endpoints = {silent.address()};
  cfg_.upstream_extra = "    health_check: { path: /healthz, interval: 10s, timeout: 9s }\n";
  ASSERT_NO_FATAL_FAILURE(Start());
  // The first probe goes out at once and then waits for an answer that never comes.
  ASSERT_TRUE(silent.WaitForRequestHeads(1, Ms{3000}));

  auto signalled = Clock::now();
  ASSERT_TRUE(proxy_->Signal(SIGTERM));
  auto st = proxy_->WaitExit(Ms{3000});
  ASSERT_TRUE(st) << "the health checker kept the proxy alive after SIGTERM";
  EXPECT_EQ(ExitCode(*st), 0) << DescribeStatus(*st) << "\n" << proxy_->DiagnosticTail();
  EXPECT_LT(MsSince(signalled), 1000);
}

}  // namespace
}  // namespace portico::it
