// Deadlines on the client side once a request head is in: a body that stops arriving, and a
// client that stops reading its response. Neither may hold a connection for ever.
#include <gtest/gtest.h>

#include <chrono>

#include "harness/HttpClient.h"
#include "harness/PorticoProcess.h"
#include "harness/ProxyConfig.h"
#include "harness/TestUpstream.h"

namespace portico::it {
namespace {

using Clock = std::chrono::steady_clock;

class ClientTimeouts : public ::testing::Test {
 protected:
  void Start(UpstreamHandler handler = DefaultResponse) {
    up_ = std::make_unique<TestUpstream>(std::move(handler));
    cfg_.endpoints = {up_->address()};
    cfg_.limits = "{ header_timeout: 1s, idle_timeout: 1s }";
    cfg_.routes_before =
        "      - name: local\n"
        "        match: { path: /local }\n"
        "        respond: { status: 200, body: \"local\\n\" }\n";
    proxy_ = std::make_unique<PorticoProcess>(cfg_.Options());
    ASSERT_TRUE(proxy_->Start());
  }

  // Sends a head announcing a body, then only `sent` bytes of it; expects 408 and a close
  // about one idle_timeout later.
  void ExpectBodyStallAnswered(const std::string& target) {
    HttpClient c;
    ASSERT_TRUE(c.Connect(cfg_.port));
    auto t0 = Clock::now();
    ASSERT_TRUE(c.Send("POST " + target + " HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nab"));
    auto r = c.ReadResponse(ReadOptions{.timeout = Ms{4000}});
    ASSERT_TRUE(r) << "a stalled body held the connection: " << c.error();
    if (target != "/local") {
      EXPECT_EQ(r->status, 408) << r->Describe();
    }
    EXPECT_TRUE(c.WaitForClose(Ms{4000}));
    auto waited = Clock::now() - t0;
    EXPECT_GE(waited, std::chrono::milliseconds(800));
    EXPECT_LT(waited, std::chrono::milliseconds(3500));
  }

  ProxyConfig cfg_;
  std::unique_ptr<TestUpstream> up_;
  std::unique_ptr<PorticoProcess> proxy_;
};

TEST_F(ClientTimeouts, StalledBodyToAProxiedRouteIs408) {
  Start();
  ExpectBodyStallAnswered("/proxied");
}

TEST_F(ClientTimeouts, StalledBodyToALocalRouteEndsTheConnection) {
  Start();
  ExpectBodyStallAnswered("/local");  // answered at once; the dropped body then stalls
}

TEST_F(ClientTimeouts, ClientThatStopsReadingIsDisconnected) {
  Start([](const HttpRequest&) {
    UpstreamResponse r;
    r.generated_size = 64ull << 20;  // far more than the socket buffers hold
    return r;
  });
  HttpClient c;
  ASSERT_TRUE(c.Connect(cfg_.port));
  ASSERT_TRUE(c.Send(Get("/big")));
  // Never read: Portico's write queue fills and stays full.
  EXPECT_TRUE(c.WaitForCloseWithoutReading(Ms{5000}))
      << "a client that stopped reading kept its connection";
  EXPECT_TRUE(up_->WaitForOpenConnectionsAtMost(0, Ms{3000}))
      << "the upstream connection of an abandoned response was kept";
}

}  // namespace
}  // namespace portico::it
