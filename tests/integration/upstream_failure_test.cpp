// Upstream failures: refused, reset, closed, garbage, too slow, truncated, stale pooled
// connections. No retries are configured, so each failure answers the client directly. After a
// 502/504 the client's connection must either stay usable or be closed with the close announced
// (Connection: close); closing it silently would be a bug.
#include <gtest/gtest.h>

#include "harness/HttpClient.h"
#include "harness/PorticoProcess.h"
#include "harness/Ports.h"
#include "harness/ProxyConfig.h"
#include "harness/TestUpstream.h"

namespace portico::it {
namespace {

class UpstreamFailure : public ::testing::Test {
 protected:
  void StartProxy(const std::string& endpoint,
                  const std::string& timeouts = "{ connect: 1s, response: 1s }") {
    cfg_.endpoints = {endpoint};
    cfg_.timeouts = timeouts;
    cfg_.routes_before =
        "      - name: hello\n"
        "        match: { path: /hello }\n"
        "        respond: { status: 200, body: \"hi\\n\" }\n";
    proxy_ = std::make_unique<PorticoProcess>(cfg_.Options());
    ASSERT_TRUE(proxy_->Start());
  }
  uint16_t port() const { return cfg_.port; }

  void ExpectOtherClientServed() {
    std::string err;
    auto r = Fetch(port(), Get("/hello"), {}, &err);
    ASSERT_TRUE(r) << "a client of a respond route was not served: " << err;
    EXPECT_EQ(r->status, 200);
  }

  // After an error answer `r` on `c`: either announced close, or the connection still works.
  void ExpectClosedAsAnnouncedOrUsable(HttpClient& c, const HttpResponse& r) {
    if (r.headers.HasToken("Connection", "close")) {
      EXPECT_TRUE(c.WaitForClose(Ms{2000})) << "Connection: close announced but not done";
      return;
    }
    ASSERT_TRUE(c.Send(Get("/hello")));
    auto next = c.ReadResponse();
    ASSERT_TRUE(next) << "client connection unusable after " << r.status
                      << " (no Connection: close was announced): " << c.error();
    EXPECT_EQ(next->status, 200);
  }

  // One proxied request expecting `status`; then the connection is in a consistent state.
  void ExpectStatusAndUsableConnection(int status) {
    HttpClient c;
    ASSERT_TRUE(c.Connect(port()));
    ASSERT_TRUE(c.Send(Get("/proxied")));
    auto r = c.ReadResponse(ReadOptions{.timeout = Ms{5000}});
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, status) << r->Describe();
    ExpectOtherClientServed();
    ExpectClosedAsAnnouncedOrUsable(c, *r);
  }

  ProxyConfig cfg_;
  std::unique_ptr<PorticoProcess> proxy_;
};

TEST_F(UpstreamFailure, RefusedIs502) {
  ClosedPort closed;
  ASSERT_NO_FATAL_FAILURE(StartProxy(closed.address()));
  ExpectStatusAndUsableConnection(502);
}

TEST_F(UpstreamFailure, ResetOnAcceptIs502) {
  TestUpstream up(UpstreamOptions{.mode = UpstreamMode::kResetOnAccept});
  ASSERT_NO_FATAL_FAILURE(StartProxy(up.address()));
  ExpectStatusAndUsableConnection(502);
}

TEST_F(UpstreamFailure, ResetAfterRequestBeforeResponseIs502) {
  TestUpstream up(UpstreamOptions{.mode = UpstreamMode::kResetAfterRequest});
  ASSERT_NO_FATAL_FAILURE(StartProxy(up.address()));
  ExpectStatusAndUsableConnection(502);
  EXPECT_GE(up.requests_received(), 1u);
}

TEST_F(UpstreamFailure, CloseOnAcceptIs502) {
  TestUpstream up(UpstreamOptions{.mode = UpstreamMode::kCloseOnAccept});
  ASSERT_NO_FATAL_FAILURE(StartProxy(up.address()));
  ExpectStatusAndUsableConnection(502);
}

TEST_F(UpstreamFailure, GarbageResponseIs502) {
  TestUpstream up([](const HttpRequest&) {
    UpstreamResponse r;
    r.raw = "THIS IS NOT HTTP\r\n\r\n";
    return r;
  });
  ASSERT_NO_FATAL_FAILURE(StartProxy(up.address()));
  ExpectStatusAndUsableConnection(502);
}

TEST_F(UpstreamFailure, SlowerThanResponseTimeoutIs504) {
  TestUpstream up([](const HttpRequest& req) {
    UpstreamResponse r = DefaultResponse(req);
    r.delay = Ms{3000};
    return r;
  });
  ASSERT_NO_FATAL_FAILURE(StartProxy(up.address()));
  auto start = Clock::now();
  HttpClient c;
  ASSERT_TRUE(c.Connect(port()));
  ASSERT_TRUE(c.Send(Get("/slow")));
  auto r = c.ReadResponse(ReadOptions{.timeout = Ms{4000}});
  double ms = MsSince(start);
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 504) << r->Describe();
  EXPECT_GE(ms, 800) << "504 before the response timeout";
  EXPECT_LE(ms, 2900) << "504 long after the 1 s response timeout";
  ExpectClosedAsAnnouncedOrUsable(c, *r);
  ExpectOtherClientServed();
  // The late upstream answer (at 3 s) must not disturb the proxy.
  EXPECT_TRUE(up.WaitForOpenConnectionsAtMost(0, Ms{3500}));
  ExpectOtherClientServed();
}

// Config.h: the response timeout runs from the request sent to the response head, and between
// reads; a slow but steady body is not cut.
TEST_F(UpstreamFailure, SlowSteadyBodyWithinTimeoutBetweenReadsCompletes) {
  TestUpstream up([](const HttpRequest&) {
    UpstreamResponse r;
    r.body = std::string(10 * 100, 's');
    r.chunk_size = 100;
    r.chunk_delay = Ms{150};  // 1.35 s in all, 150 ms between pieces, timeout 1 s
    return r;
  });
  ASSERT_NO_FATAL_FAILURE(StartProxy(up.address()));
  HttpClient c;
  ASSERT_TRUE(c.Connect(port()));
  ASSERT_TRUE(c.Send(Get("/trickle")));
  auto r = c.ReadResponse(ReadOptions{.timeout = Ms{5000}});
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, std::string(1000, 's'));
}

TEST_F(UpstreamFailure, TruncatedUpstreamBodyIsNotPassedOffAsComplete) {
  TestUpstream up([](const HttpRequest&) {
    UpstreamResponse r;
    r.body = std::string(100000, 't');
    r.chunk_size = 1000;
    r.abort_after = 5000;
    return r;
  });
  ASSERT_NO_FATAL_FAILURE(StartProxy(up.address()));
  HttpClient c;
  ASSERT_TRUE(c.Connect(port()));
  ASSERT_TRUE(c.Send(Get("/truncated")));
  auto r = c.ReadResponse(ReadOptions{.timeout = Ms{4000}});
  if (r) {
    // Only acceptable if the proxy had not started the response yet.
    EXPECT_EQ(r->status, 502) << "a truncated body was delivered as complete:\n" << r->Describe();
  } else {
    EXPECT_TRUE(c.peer_closed()) << "client neither got an error nor a close: " << c.error();
  }
  ExpectOtherClientServed();
}

TEST_F(UpstreamFailure, StaleIdleUpstreamConnectionIsNotUsed) {
  TestUpstream up([](const HttpRequest& req) {
    UpstreamResponse r = DefaultResponse(req);
    r.close_silently = req.target == "/first";
    return r;
  });
  ASSERT_NO_FATAL_FAILURE(StartProxy(up.address()));
  HttpClient c;
  ASSERT_TRUE(c.Connect(port()));
  ASSERT_TRUE(c.Send(Get("/first")));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  // The upstream has closed its side of the pooled connection without saying so.
  ASSERT_TRUE(up.WaitForOpenConnectionsAtMost(0, Ms{2000}));
  ASSERT_TRUE(c.Send(Get("/second")));
  r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200) << "a pooled connection closed by the upstream was used:\n"
                            << r->Describe();
  EXPECT_EQ(r->body, "ok GET /second");
}

TEST_F(UpstreamFailure, UpstreamConnectionCloseIsHonoured) {
  TestUpstream up([](const HttpRequest& req) {
    UpstreamResponse r = DefaultResponse(req);
    r.close = true;
    return r;
  });
  ASSERT_NO_FATAL_FAILURE(StartProxy(up.address()));
  HttpClient c;
  ASSERT_TRUE(c.Connect(port()));
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(c.Send(Get("/c" + std::to_string(i))));
    auto r = c.ReadResponse();
    ASSERT_TRUE(r) << "request " << i << ": " << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "ok GET /c" + std::to_string(i));
  }
  EXPECT_EQ(up.connections_accepted(), 5u);
}

TEST_F(UpstreamFailure, CloseDelimitedUpstreamResponseIsDelivered) {
  TestUpstream up([](const HttpRequest&) {
    UpstreamResponse r;
    r.content_length = false;
    r.body = "until the end";
    return r;
  });
  ASSERT_NO_FATAL_FAILURE(StartProxy(up.address()));
  HttpClient c;
  ASSERT_TRUE(c.Connect(port()));
  ASSERT_TRUE(c.Send(Get("/eof")));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "until the end");
}

}  // namespace
}  // namespace portico::it
