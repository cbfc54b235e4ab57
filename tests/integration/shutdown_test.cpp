// Graceful shutdown on SIGTERM/SIGINT: stop accepting, finish in-flight requests within
// drain_timeout, exit 0.
#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>

#include "harness/HttpClient.h"
#include "harness/PorticoProcess.h"
#include "harness/ProxyConfig.h"
#include "harness/TestUpstream.h"

namespace portico::it {
namespace {

UpstreamResponse Slow500ms(const HttpRequest& req) {
  UpstreamResponse r = DefaultResponse(req);
  r.delay = Ms{500};
  return r;
}

// After the signal, a new connection attempt is refused (bounded retries while the listener
// closes).
bool NewConnectionsRefused(PorticoProcess& proxy, uint16_t port) {
  Deadline deadline(Ms{1000});
  while (!deadline.Expired()) {
    int err = 0;
    Fd fd = ConnectLoopback(port, Deadline(Ms{200}), &err);
    if (!fd && err == ECONNREFUSED) return true;
    proxy.PauseWhileRunning(Ms{10});
  }
  return false;
}

TEST(Shutdown, SigtermFinishesInFlightRequestAndExitsZero) {
  TestUpstream up(Slow500ms);
  ProxyConfig cfg;
  cfg.endpoints = {up.address()};
  cfg.drain_timeout = "5s";
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start());

  HttpClient c;
  ASSERT_TRUE(c.Connect(cfg.port));
  ASSERT_TRUE(c.Send(Get("/in-flight")));
  ASSERT_TRUE(up.WaitForRequests(1, Ms{3000})) << "request never reached the upstream";
  auto signalled = Clock::now();
  ASSERT_TRUE(proxy.Signal(SIGTERM));

  EXPECT_TRUE(NewConnectionsRefused(proxy, cfg.port)) << "still accepting after SIGTERM";
  auto r = c.ReadResponse(ReadOptions{.timeout = Ms{3000}});
  ASSERT_TRUE(r) << "in-flight request lost: " << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok GET /in-flight");

  auto st = proxy.WaitExit(Ms{6000});
  ASSERT_TRUE(st) << "still running 6 s after SIGTERM (drain_timeout 5s)";
  EXPECT_EQ(ExitCode(*st), 0) << DescribeStatus(*st) << "\n" << proxy.DiagnosticTail();
  EXPECT_LE(MsSince(signalled), 5000);
}

TEST(Shutdown, SigintBehavesLikeSigterm) {
  TestUpstream up(Slow500ms);
  ProxyConfig cfg;
  cfg.endpoints = {up.address()};
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start());
  HttpClient c;
  ASSERT_TRUE(c.Connect(cfg.port));
  ASSERT_TRUE(c.Send(Get("/in-flight")));
  ASSERT_TRUE(up.WaitForRequests(1, Ms{3000}));
  ASSERT_TRUE(proxy.Signal(SIGINT));
  auto r = c.ReadResponse(ReadOptions{.timeout = Ms{3000}});
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  auto st = proxy.WaitExit(Ms{6000});
  ASSERT_TRUE(st);
  EXPECT_EQ(ExitCode(*st), 0) << DescribeStatus(*st);
}

// Assumption: an idle keep-alive connection is not "in flight", so it does not hold the drain.
TEST(Shutdown, IdleKeepAliveConnectionsDoNotDelayExit) {
  TestUpstream up;
  ProxyConfig cfg;
  cfg.endpoints = {up.address()};
  cfg.drain_timeout = "10s";
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start());
  HttpClient c;
  ASSERT_TRUE(c.Connect(cfg.port));
  ASSERT_TRUE(c.Send(Get("/once")));
  ASSERT_TRUE(c.ReadResponse()) << c.error();
  HttpClient never_sent;
  ASSERT_TRUE(never_sent.Connect(cfg.port));
  auto signalled = Clock::now();
  ASSERT_TRUE(proxy.Signal(SIGTERM));
  auto st = proxy.WaitExit(Ms{3000});
  ASSERT_TRUE(st) << "idle connections kept the proxy alive for 3 s after SIGTERM";
  EXPECT_EQ(ExitCode(*st), 0) << DescribeStatus(*st);
  EXPECT_LE(MsSince(signalled), 3000);
  EXPECT_TRUE(c.WaitForClose(Ms{1000}));
}

TEST(Shutdown, DrainTimeoutBoundsTheWait) {
  TestUpstream up([](const HttpRequest& req) {
    UpstreamResponse r = DefaultResponse(req);
    r.delay = Ms{10000};
    return r;
  });
  ProxyConfig cfg;
  cfg.endpoints = {up.address()};
  cfg.drain_timeout = "1s";
  cfg.timeouts = "{ connect: 1s, response: 30s }";
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start());
  HttpClient c;
  ASSERT_TRUE(c.Connect(cfg.port));
  ASSERT_TRUE(c.Send(Get("/forever")));
  ASSERT_TRUE(up.WaitForRequests(1, Ms{3000}));
  auto signalled = Clock::now();
  ASSERT_TRUE(proxy.Signal(SIGTERM));
  auto st = proxy.WaitExit(Ms{4000});
  double ms = MsSince(signalled);
  ASSERT_TRUE(st) << "drain_timeout 1s not enforced";
  EXPECT_EQ(ExitCode(*st), 0) << DescribeStatus(*st);
  EXPECT_GE(ms, 800) << "exited before drain_timeout with a request in flight";
  EXPECT_LE(ms, 3000);
}

TEST(Shutdown, IdleProxyExitsPromptly) {
  ProxyConfig cfg;
  cfg.catch_all = false;
  cfg.routes_before =
      "      - name: hello\n"
      "        match: { path: /hello }\n"
      "        respond: { status: 200, body: \"hi\\n\" }\n";
  cfg.workers = "2";
  PorticoProcess proxy(cfg.Options());
  ASSERT_TRUE(proxy.Start());
  auto signalled = Clock::now();
  ASSERT_TRUE(proxy.Signal(SIGTERM));
  auto st = proxy.WaitExit(Ms{3000});
  ASSERT_TRUE(st);
  EXPECT_EQ(ExitCode(*st), 0) << DescribeStatus(*st) << "\n" << proxy.DiagnosticTail();
  EXPECT_LE(MsSince(signalled), 1500);
}

}  // namespace
}  // namespace portico::it
