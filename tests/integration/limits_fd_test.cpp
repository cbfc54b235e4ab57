// File descriptors: running out of them must not make the proxy spin or die, and accepting must
// resume when descriptors free up; connections must not leak descriptors.
#include <gtest/gtest.h>

#include <cstdio>

#include "harness/HttpClient.h"
#include "harness/PorticoProcess.h"
#include "harness/ProcStats.h"
#include "harness/ProxyConfig.h"
#include "harness/TestUpstream.h"

namespace portico::it {
namespace {

const char* kHelloRoute =
    "      - name: hello\n"
    "        match: { path: /hello }\n"
    "        respond: { status: 200, body: \"hi\\n\" }\n";

TEST(LimitsFd, OutOfDescriptorsNoSpinAndRecovers) {
  ProxyConfig cfg;
  cfg.catch_all = false;
  cfg.routes_before = kHelloRoute;
  cfg.limits = "{ header_timeout: 20s, idle_timeout: 60s }";
  cfg.access_log = "off";
  PorticoOptions options = cfg.Options();
  options.nofile = 64;
  PorticoProcess proxy(options);
  ASSERT_TRUE(proxy.Start());

  // Open keep-alive connections, each proven served, until one is not answered.
  std::vector<HttpClient> served;
  std::vector<HttpClient> unanswered;
  for (int i = 0; i < 200 && unanswered.empty(); ++i) {
    HttpClient c;
    if (!c.Connect(cfg.port, Ms{500})) break;  // even the backlog is full
    ASSERT_TRUE(c.Send(Get("/hello"))) << c.error();
    auto r = c.ReadResponse(ReadOptions{.timeout = Ms{300}});
    if (r) {
      ASSERT_EQ(r->status, 200);
      served.push_back(std::move(c));
    } else {
      unanswered.push_back(std::move(c));
    }
  }
  ASSERT_FALSE(unanswered.empty())
      << "served " << served.size() << " connections with RLIMIT_NOFILE=64";
  ASSERT_TRUE(proxy.Running()) << proxy.DiagnosticTail();
  // A few more that can only wait in the backlog (or be turned away).
  for (int i = 0; i < 3; ++i) {
    HttpClient c;
    if (c.Connect(cfg.port, Ms{500}) && c.Send(Get("/hello"))) unanswered.push_back(std::move(c));
  }

  long ticks_before = proxy.CpuTicks();
  ASSERT_TRUE(proxy.PauseWhileRunning(Ms{1000})) << "proxy died when out of descriptors\n"
                                                 << proxy.DiagnosticTail();
  long ticks = proxy.CpuTicks() - ticks_before;
  std::fprintf(stderr, "[ info ] %zu connections served before saturation, %ld ticks in 1 s\n",
               served.size(), ticks);
  EXPECT_LE(ticks, ClockTicksPerSecond() / 4)
      << "proxy burnt " << ticks << " ticks in 1 s while out of descriptors (spinning on accept?)";

  // Free most descriptors; accepting must resume.
  size_t keep = 5;
  while (served.size() > keep) served.pop_back();
  std::string err;
  auto r = Fetch(cfg.port, Get("/hello"), ReadOptions{.timeout = Ms{3000}}, &err);
  ASSERT_TRUE(r) << "no answer after descriptors were freed: " << err;
  EXPECT_EQ(r->status, 200);
  // Connections that waited were either served by now or turned away, not left hanging.
  for (auto& c : unanswered) {
    auto late = c.ReadResponse(ReadOptions{.timeout = Ms{2000}});
    EXPECT_TRUE(late || c.peer_closed())
        << "waiting connection neither served nor closed: " << c.error();
  }
  // The kept connections still work.
  for (auto& c : served) {
    ASSERT_TRUE(c.Send(Get("/hello")));
    EXPECT_TRUE(c.ReadResponse()) << c.error();
  }
  EXPECT_TRUE(proxy.Running());
}

TEST(LimitsFd, ConnectionsDoNotLeakDescriptors) {
  TestUpstream up;
  ProxyConfig cfg;
  cfg.endpoints = {up.address()};
  cfg.routes_before = kHelloRoute;
  cfg.access_log = "off";
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start());
  std::string err;
  ASSERT_TRUE(Fetch(cfg.port, Get("/warm"), {}, &err)) << err;
  long baseline = proxy.OpenFds();
  ASSERT_GT(baseline, 0);

  for (int i = 0; i < 100; ++i) {
    auto r = Fetch(cfg.port, Get(i % 2 ? "/hello" : "/proxied"), {}, &err);
    ASSERT_TRUE(r) << err;
  }
  for (int i = 0; i < 20; ++i) {  // abandoned mid-request, half with a reset
    HttpClient c;
    ASSERT_TRUE(c.Connect(cfg.port));
    ASSERT_TRUE(c.Send("GET /partial HTTP/1.1\r\nHost: t\r\n"));
    if (i % 2) {
      c.Reset();
    } else {
      c.Close();
    }
  }
  for (int i = 0; i < 20; ++i) {  // abandoned while the upstream is answering
    HttpClient c;
    ASSERT_TRUE(c.Connect(cfg.port));
    ASSERT_TRUE(c.Send(Get("/abandon")));
    c.Reset();
  }
  // Descriptors go back to the baseline (a few pooled upstream connections allowed).
  long now = -1;
  auto settle_start = Clock::now();
  Deadline deadline(Ms{3000});
  while (!deadline.Expired()) {
    now = proxy.OpenFds();
    if (now <= baseline + 4) break;
    ASSERT_TRUE(proxy.PauseWhileRunning(Ms{50})) << proxy.DiagnosticTail();
  }
  std::fprintf(stderr, "[ info ] descriptors: %ld at start, %ld after %.0f ms\n", baseline, now,
               MsSince(settle_start));
  EXPECT_LE(now, baseline + 4) << "descriptors: " << baseline << " at start, " << now
                               << " after the connections closed";
  auto r = Fetch(cfg.port, Get("/hello"), {}, &err);
  ASSERT_TRUE(r) << err;
  EXPECT_EQ(r->status, 200);
}

TEST(LimitsFd, ManyConcurrentIdleConnections) {
  ProxyConfig cfg;
  cfg.catch_all = false;
  cfg.routes_before = kHelloRoute;
  cfg.access_log = "off";
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start());
  std::vector<HttpClient> clients(500);
  for (size_t i = 0; i < clients.size(); ++i) {
    ASSERT_TRUE(clients[i].Connect(cfg.port)) << i << ": " << clients[i].error();
  }
  for (size_t i = 0; i < clients.size(); ++i) {
    ASSERT_TRUE(clients[i].Send(Get("/hello"))) << i;
  }
  for (size_t i = 0; i < clients.size(); ++i) {
    auto r = clients[i].ReadResponse();
    ASSERT_TRUE(r) << "client " << i << ": " << clients[i].error();
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_TRUE(proxy.Running());
}

}  // namespace
}  // namespace portico::it
