// Checks the harness itself, client against the test upstream with no proxy in between, so a
// failure in the proxy tests is not a harness bug.
#include <gtest/gtest.h>

#include "harness/Checksum.h"
#include "harness/HttpClient.h"
#include "harness/Ports.h"
#include "harness/Template.h"
#include "harness/TestUpstream.h"

namespace portico::it {
namespace {

TEST(Harness, ClientAndUpstreamKeepAlive) {
  TestUpstream up;
  HttpClient c;
  ASSERT_TRUE(c.Connect(up.port())) << c.error();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.Send(Get("/x" + std::to_string(i))));
    auto r = c.ReadResponse();
    ASSERT_TRUE(r) << c.error();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "ok GET /x" + std::to_string(i));
  }
  EXPECT_EQ(up.connections_accepted(), 1u);
  EXPECT_EQ(up.requests_received(), 3u);
}

TEST(Harness, Pipelining) {
  TestUpstream up;
  HttpClient c;
  ASSERT_TRUE(c.Connect(up.port()));
  std::string all;
  for (int i = 0; i < 5; ++i) all += Get("/p" + std::to_string(i));
  ASSERT_TRUE(c.Send(all));
  auto rs = c.ReadResponses(5);
  ASSERT_EQ(rs.size(), 5u) << c.error();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(rs[i].body, "ok GET /p" + std::to_string(i));
}

TEST(Harness, ChunkedBothWaysAndGenerated) {
  TestUpstream up([](const HttpRequest& req) {
    UpstreamResponse r = EchoResponse(req);
    r.chunked = true;
    r.chunk_size = 3;
    return r;
  });
  HttpClient c;
  ASSERT_TRUE(c.Connect(up.port()));
  ASSERT_TRUE(c.Send(Request("POST", "/e", {{"Transfer-Encoding", "chunked"}}) +
                     Chunked({"hello ", "chunked ", "world"})));
  auto r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  EXPECT_TRUE(r->chunked);
  EXPECT_EQ(r->body, "hello chunked world");
  ASSERT_TRUE(up.last_request());
  EXPECT_TRUE(up.last_request()->chunked);

  up.SetHandler([](const HttpRequest&) {
    UpstreamResponse r;
    r.generated_size = 3'000'000;
    return r;
  });
  ASSERT_TRUE(c.Send(Get("/big")));
  Checksum sum;
  ReadOptions opts;
  opts.body_sink = [&](std::string_view d) { sum.Update(d); };
  r = c.ReadResponse(opts);
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->body_size, 3'000'000u);
  EXPECT_EQ(sum.value(), PatternChecksum(3'000'000));
  EXPECT_TRUE(MatchesPattern(PatternBytes(1000, 5000), 1000));
}

TEST(Harness, HeadNoContentAndCloseDelimited) {
  TestUpstream up([](const HttpRequest& req) {
    UpstreamResponse r;
    r.body = "0123456789";
    if (req.target == "/204") r.status = 204;
    if (req.target == "/close") r.content_length = false;
    return r;
  });
  HttpClient c;
  ASSERT_TRUE(c.Connect(up.port()));
  ASSERT_TRUE(c.Send(Request("HEAD", "/h")));
  ReadOptions head;
  head.head = true;
  auto r = c.ReadResponse(head);
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->headers.Value("content-length"), "10");
  EXPECT_EQ(r->body_size, 0u);
  ASSERT_TRUE(c.Send(Get("/204")));
  r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 204);
  ASSERT_TRUE(c.Send(Get("/close")));
  r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  EXPECT_TRUE(r->ended_by_close);
  EXPECT_EQ(r->body, "0123456789");
  EXPECT_TRUE(c.WaitForClose(Ms{1000}));
}

TEST(Harness, ExpectContinueAndModes) {
  TestUpstream up(EchoResponse);
  HttpClient c;
  ASSERT_TRUE(c.Connect(up.port()));
  ASSERT_TRUE(c.Send(Request("POST", "/", {{"Expect", "100-continue"}, {"Content-Length", "5"}})));
  ReadOptions interim;
  interim.skip_informational = false;
  auto r = c.ReadResponse(interim);
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 100);
  ASSERT_TRUE(c.Send("abcde"));
  r = c.ReadResponse();
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->body, "abcde");

  TestUpstream reset(UpstreamOptions{.mode = UpstreamMode::kResetAfterRequest});
  HttpClient d;
  ASSERT_TRUE(d.Connect(reset.port()));
  ASSERT_TRUE(d.Send(Get("/")));
  EXPECT_FALSE(d.ReadResponse());
  EXPECT_TRUE(d.peer_closed());

  ClosedPort closed;
  HttpClient e;
  EXPECT_FALSE(e.Connect(closed.port()));
  EXPECT_NE(e.error().find("refused"), std::string::npos) << e.error();
}

TEST(Harness, Fill) {
  EXPECT_EQ(Fill("a {{X}} b {{Y}}", {{"X", "1"}, {"Y", "2"}}), "a 1 b 2");
  EXPECT_THROW(Fill("{{Z}}", {}), std::invalid_argument);
}

}  // namespace
}  // namespace portico::it
