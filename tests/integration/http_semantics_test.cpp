// HTTP/1.1 message semantics through the proxy: chunked bodies both ways, large bodies,
// Expect: 100-continue, bodiless responses, connection closing rules, HTTP/1.0 clients.
#include <gtest/gtest.h>

#include "harness/Checksum.h"
#include "harness/HttpClient.h"
#include "harness/PorticoProcess.h"
#include "harness/ProxyConfig.h"
#include "harness/TestUpstream.h"

namespace portico::it {
namespace {

constexpr uint64_t kLarge = 20ull << 20;  // 20 MiB

std::string SummaryOf(uint64_t size, uint64_t checksum) {
  return "size=" + std::to_string(size) + " checksum=" + std::to_string(checksum);
}

class HttpSemantics : public ::testing::Test {
 protected:
  // Starts portico in front of `up` (max_body_bytes raised for the large-body tests).
  void StartProxy(TestUpstream& up, const std::string& limits = "{ max_body_bytes: 64MiB }") {
    cfg_.endpoints = {up.address()};
    cfg_.limits = limits;
    cfg_.timeouts = "{ connect: 1s, response: 10s }";
    proxy_ = std::make_unique<PorticoProcess>(cfg_.Options());
    ASSERT_TRUE(proxy_->Start());
  }
  uint16_t port() const { return cfg_.port; }

  ProxyConfig cfg_;
  std::unique_ptr<PorticoProcess> proxy_;
};

TEST_F(HttpSemantics, ChunkedRequestBodyArrivesIntact) {
  TestUpstream up(BodySummaryResponse);
  ASSERT_NO_FATAL_FAILURE(StartProxy(up));
  std::vector<std::string> pieces = {
      "first-", PatternBytes(0, 10000), "-", std::string(1, 'x'), PatternBytes(7, 70000), "-last"};
  std::string whole;
  for (const auto& p : pieces) whole += p;
  HttpClient c;
  ASSERT_TRUE(c.Connect(port()));
  ASSERT_TRUE(
      c.Send(Request("POST", "/chunked-in", {{"Transfer-Encoding", "chunked"}}) + Chunked(pieces)));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  ASSERT_TRUE(up.last_request());
  EXPECT_EQ(up.last_request()->body, whole);
  Checksum sum;
  sum.Update(whole);
  EXPECT_EQ(r->body, SummaryOf(whole.size(), sum.value()));
}

TEST_F(HttpSemantics, ChunkedResponseReachesClientIntact) {
  std::string body = PatternBytes(3, 50000);
  TestUpstream up([&](const HttpRequest&) {
    UpstreamResponse r;
    r.body = body;
    r.chunked = true;
    r.chunk_size = 777;
    return r;
  });
  ASSERT_NO_FATAL_FAILURE(StartProxy(up));
  HttpClient c;
  ASSERT_TRUE(c.Connect(port()));
  ASSERT_TRUE(c.Send(Get("/chunked-out")));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), body.size());
  EXPECT_TRUE(r->body == body) << "chunked response body corrupted";
  // Still usable afterwards.
  ASSERT_TRUE(c.Send(Get("/again")));
  EXPECT_TRUE(c.ReadResponse()) << c.error();
}

TEST_F(HttpSemantics, LargeUploadWithContentLength) {
  TestUpstream up(BodySummaryResponse, UpstreamOptions{.max_stored_body = 0});
  ASSERT_NO_FATAL_FAILURE(StartProxy(up));
  HttpClient c;
  ASSERT_TRUE(c.Connect(port()));
  ASSERT_TRUE(c.Send(Request("POST", "/upload", {{"Content-Length", std::to_string(kLarge)}})));
  ASSERT_TRUE(c.Send(PatternBytes(0, kLarge), Ms{30000})) << c.error();
  auto r = c.ReadResponse(ReadOptions{.timeout = Ms{30000}});
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, SummaryOf(kLarge, PatternChecksum(kLarge)));
}

TEST_F(HttpSemantics, LargeUploadChunked) {
  TestUpstream up(BodySummaryResponse, UpstreamOptions{.max_stored_body = 0});
  ASSERT_NO_FATAL_FAILURE(StartProxy(up));
  std::vector<std::string> pieces;
  for (uint64_t off = 0; off < kLarge; off += 65536) pieces.push_back(PatternBytes(off, 65536));
  HttpClient c;
  ASSERT_TRUE(c.Connect(port()));
  ASSERT_TRUE(c.Send(Request("POST", "/upload", {{"Transfer-Encoding", "chunked"}})));
  ASSERT_TRUE(c.Send(Chunked(pieces), Ms{30000})) << c.error();
  auto r = c.ReadResponse(ReadOptions{.timeout = Ms{30000}});
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, SummaryOf(kLarge, PatternChecksum(kLarge)));
}

void ExpectLargeDownload(uint16_t port) {
  HttpClient c;
  ASSERT_TRUE(c.Connect(port));
  ASSERT_TRUE(c.Send(Get("/download")));
  Checksum sum;
  ReadOptions opts;
  opts.timeout = Ms{30000};
  opts.body_sink = [&](std::string_view data) { sum.Update(data); };
  auto r = c.ReadResponse(opts);
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body_size, kLarge);
  EXPECT_EQ(sum.value(), PatternChecksum(kLarge)) << "body corrupted";
}

TEST_F(HttpSemantics, LargeDownloadWithContentLength) {
  TestUpstream up([](const HttpRequest&) {
    UpstreamResponse r;
    r.generated_size = kLarge;
    return r;
  });
  ASSERT_NO_FATAL_FAILURE(StartProxy(up));
  ExpectLargeDownload(port());
}

TEST_F(HttpSemantics, LargeDownloadChunked) {
  TestUpstream up([](const HttpRequest&) {
    UpstreamResponse r;
    r.generated_size = kLarge;
    r.chunked = true;
    r.chunk_size = 100000;
    return r;
  });
  ASSERT_NO_FATAL_FAILURE(StartProxy(up));
  ExpectLargeDownload(port());
}

TEST_F(HttpSemantics, ExpectContinue) {
  TestUpstream up(EchoResponse);
  ASSERT_NO_FATAL_FAILURE(StartProxy(up));
  HttpClient c;
  ASSERT_TRUE(c.Connect(port()));
  ASSERT_TRUE(
      c.Send(Request("POST", "/expect", {{"Expect", "100-continue"}, {"Content-Length", "11"}})));
  ReadOptions interim;
  interim.skip_informational = false;
  interim.timeout = Ms{3000};
  auto r = c.ReadResponse(interim);
  ASSERT_TRUE(r) << "no 100 Continue before the body was sent: " << c.error();
  ASSERT_EQ(r->status, 100) << r->Describe();
  EXPECT_EQ(r->http_major, 1);
  EXPECT_EQ(r->http_minor, 1);
  ASSERT_TRUE(c.Send("hello world"));
  r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello world");
  ASSERT_TRUE(up.last_request());
  EXPECT_EQ(up.last_request()->body, "hello world");
}

TEST_F(HttpSemantics, HeadResponseHasNoBodyAndConnectionStaysUsable) {
  TestUpstream up([](const HttpRequest& req) {
    UpstreamResponse r = DefaultResponse(req);
    r.body = "0123456789";
    return r;
  });
  ASSERT_NO_FATAL_FAILURE(StartProxy(up));
  HttpClient c;
  ASSERT_TRUE(c.Connect(port()));
  ASSERT_TRUE(c.Send(Request("HEAD", "/head")));
  ReadOptions head;
  head.head = true;
  auto r = c.ReadResponse(head);
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body_size, 0u);
  if (r->headers.Has("Content-Length")) {
    EXPECT_EQ(r->headers.Value("Content-Length"), "10");
  }
  ASSERT_TRUE(c.Send(Get("/after-head")));
  r = c.ReadResponse();
  ASSERT_TRUE(r) << "connection unusable after HEAD: " << c.error();
  EXPECT_EQ(r->body, "0123456789");
  EXPECT_TRUE(c.unread().empty()) << "stray bytes after the response: " << c.unread();
}

void ExpectBodilessStatus(uint16_t port, TestUpstream& up, int status) {
  (void)up;
  HttpClient c;
  ASSERT_TRUE(c.Connect(port));
  ASSERT_TRUE(c.Send(Get("/status/" + std::to_string(status))));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, status);
  EXPECT_EQ(r->body_size, 0u);
  EXPECT_FALSE(r->headers.HasToken("Transfer-Encoding", "chunked")) << r->Describe();
  ASSERT_TRUE(c.Send(Get("/next")));
  r = c.ReadResponse();
  ASSERT_TRUE(r) << "connection unusable after " << status << ": " << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok GET /next");
}

UpstreamResponse StatusHandler(const HttpRequest& req) {
  UpstreamResponse r = DefaultResponse(req);
  if (req.target.rfind("/status/", 0) == 0) {
    r.status = std::stoi(req.target.substr(8));
    r.headers.Add("ETag", "\"v1\"");
  }
  return r;
}

TEST_F(HttpSemantics, NoContent204HasNoBodyAndConnectionStaysUsable) {
  TestUpstream up(StatusHandler);
  ASSERT_NO_FATAL_FAILURE(StartProxy(up));
  ExpectBodilessStatus(port(), up, 204);
}

TEST_F(HttpSemantics, NotModified304HasNoBodyAndConnectionStaysUsable) {
  TestUpstream up(StatusHandler);
  ASSERT_NO_FATAL_FAILURE(StartProxy(up));
  ExpectBodilessStatus(port(), up, 304);
}

TEST_F(HttpSemantics, EmptyBodyWithContentLengthZeroAndConnectionStaysUsable) {
  TestUpstream up([](const HttpRequest& req) {
    UpstreamResponse r = DefaultResponse(req);
    if (req.target == "/empty") r.body.clear();
    return r;
  });
  ASSERT_NO_FATAL_FAILURE(StartProxy(up));
  HttpClient c;
  ASSERT_TRUE(c.Connect(port()));
  ASSERT_TRUE(c.Send(Get("/empty")));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body_size, 0u);
  ASSERT_TRUE(c.Send(Get("/next")));
  r = c.ReadResponse();
  ASSERT_TRUE(r) << "connection unusable after an empty response: " << c.error();
  EXPECT_EQ(r->body, "ok GET /next");
}

TEST_F(HttpSemantics, ConnectionCloseFromClient) {
  TestUpstream up;
  ASSERT_NO_FATAL_FAILURE(StartProxy(up));
  HttpClient c;
  ASSERT_TRUE(c.Connect(port()));
  ASSERT_TRUE(c.Send(Get("/bye", {{"Connection", "close"}})));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok GET /bye");
  EXPECT_TRUE(c.WaitForClose(Ms{2000})) << "proxy kept the connection open after Connection: close";
}

TEST_F(HttpSemantics, Http10WithoutKeepAliveIsClosedAfterResponse) {
  TestUpstream up;
  ASSERT_NO_FATAL_FAILURE(StartProxy(up));
  HttpClient c;
  ASSERT_TRUE(c.Connect(port()));
  ASSERT_TRUE(c.Send("GET /old HTTP/1.0\r\nHost: test.local\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->http_major, 1);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "ok GET /old");
  EXPECT_TRUE(c.WaitForClose(Ms{2000})) << "HTTP/1.0 connection left open";
}

TEST_F(HttpSemantics, ChunkedUpstreamResponseIsDechunkedForHttp10Client) {
  std::string body = PatternBytes(0, 3000);
  TestUpstream up([&](const HttpRequest&) {
    UpstreamResponse r;
    r.body = body;
    r.chunked = true;
    r.chunk_size = 100;
    return r;
  });
  ASSERT_NO_FATAL_FAILURE(StartProxy(up));
  HttpClient c;
  ASSERT_TRUE(c.Connect(port()));
  ASSERT_TRUE(c.Send("GET /old-chunked HTTP/1.0\r\nHost: test.local\r\n\r\n"));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
  EXPECT_FALSE(r->chunked) << "chunked coding sent to an HTTP/1.0 client:\n" << r->Describe();
  EXPECT_FALSE(r->headers.Has("Transfer-Encoding")) << r->Describe();
  EXPECT_TRUE(r->body == body) << "body differs (" << r->body.size() << " bytes)";
  EXPECT_TRUE(c.WaitForClose(Ms{2000}));
}

TEST_F(HttpSemantics, IdleKeepAliveConnectionClosedAfterIdleTimeout) {
  TestUpstream up;
  ASSERT_NO_FATAL_FAILURE(StartProxy(up, "{ idle_timeout: 1s, header_timeout: 5s }"));
  HttpClient c;
  ASSERT_TRUE(c.Connect(port()));
  ASSERT_TRUE(c.Send(Get("/idle")));
  ASSERT_TRUE(c.ReadResponse()) << c.error();
  auto start = Clock::now();
  EXPECT_TRUE(c.WaitForClose(Ms{4000})) << "idle connection not closed";
  double ms = MsSince(start);
  EXPECT_GE(ms, 800) << "closed too early";
  EXPECT_LE(ms, 3000) << "closed too late";
}

TEST_F(HttpSemantics, ResponseToSlowlySentRequestIsIntact) {
  TestUpstream up(EchoResponse);
  ASSERT_NO_FATAL_FAILURE(StartProxy(up));
  HttpClient c;
  ASSERT_TRUE(c.Connect(port()));
  std::string req = Request("POST", "/split", {}, "abcdefghij");
  // The request arrives in many small TCP segments.
  for (size_t i = 0; i < req.size(); i += 7) {
    ASSERT_TRUE(c.Send(req.substr(i, 7)));
    proxy_->PauseWhileRunning(Ms{2});
  }
  auto r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->body, "abcdefghij");
}

}  // namespace
}  // namespace portico::it
