#include "proxy/RequestHeadCheck.h"

#include <gtest/gtest.h>

#include <string>

#include "http/HeadCollector.h"
#include "http/MessageParser.h"

namespace portico::proxy {
namespace {

// Parses one request head with MessageParser, as DownstreamConn does, and checks it.
struct Checked {
  std::string bytes;
  http::MessageParser parser{HTTP_REQUEST, nullptr};
  http::HeadCollector head;
  CheckedRequestHead result;

  explicit Checked(std::string text, uint64_t max_body = 0) : bytes(std::move(text)) {
    parser.start_message(&head);
    auto step = parser.execute(bytes.data(), 0, uint32_t(bytes.size()));
    EXPECT_EQ(step.stop, http::MessageParser::Stop::Head) << parser.error_reason();
    head.unfold(bytes.data());
    head.finish(bytes.data());
    const llhttp_t& p = parser.raw();
    bool has_body = (p.flags & F_CHUNKED) || p.content_length > 0;
    result = check_request_head(head.method(bytes.data()), head.target(bytes.data()),
                                head.headers(), p, has_body, max_body);
  }
};

TEST(RequestHeadCheck, OriginFormWithHost) {
  Checked c("GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
  EXPECT_EQ(c.result.status, 0);
  EXPECT_EQ(c.result.host, "example.com");
  EXPECT_EQ(c.result.target, "/a?b=1");
  EXPECT_EQ(c.result.traceparent, nullptr);
  EXPECT_FALSE(c.result.expect_continue);
}

TEST(RequestHeadCheck, AbsoluteFormAuthorityWinsOverHost) {
  Checked c("GET http://a.example:8080/p HTTP/1.1\r\nHost: b.example\r\n\r\n");
  EXPECT_EQ(c.result.status, 0);
  EXPECT_EQ(c.result.host, "a.example:8080");
  EXPECT_EQ(c.result.target, "/p");
  // Found by fuzz_request: the "/" once made up for a target without a path was not in the
  // read buffer, whose offsets DownstreamConn keeps: such a target is refused.
  Checked bare("GET HTTPS://a.example HTTP/1.1\r\nHost: b\r\n\r\n");
  EXPECT_EQ(bare.result.status, 400);
}

TEST(RequestHeadCheck, Refusals) {
  EXPECT_EQ(Checked("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").result.status, 400);
  EXPECT_EQ(Checked("GET / HTTP/1.1\r\n\r\n").result.status, 400);
  EXPECT_EQ(Checked("GET http://t?x=1 HTTP/1.1\r\nHost: t\r\n\r\n").result.status, 400);
  EXPECT_EQ(Checked("CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n").result.status, 405);
  EXPECT_EQ(Checked("GET * HTTP/1.1\r\nHost: a\r\n\r\n").result.status, 400);
  EXPECT_EQ(Checked("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").result.status, 0);
  Checked expect("POST / HTTP/1.1\r\nHost: a\r\nExpect: later\r\nContent-Length: 1\r\n\r\n");
  EXPECT_EQ(expect.result.status, 417);
  EXPECT_STREQ(expect.result.why, "unsupported Expect");
  EXPECT_EQ(expect.result.target, "/");  // found before the refusal: DownstreamConn logs it
}

// Found by fuzz_request: a folded "chunked" is not chunked to llhttp, but once unfolded
// and forwarded it is to the upstream.
TEST(RequestHeadCheck, TransferEncodingNotReadAsChunkedIsRefused) {
  EXPECT_EQ(Checked("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\t\r\n\r\n")
                .result.status,
            400);
  EXPECT_EQ(Checked("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
                .result.status,
            0);
}

TEST(RequestHeadCheck, Http10NeedsNoHost) {
  Checked c("GET /old HTTP/1.0\r\n\r\n");
  EXPECT_EQ(c.result.status, 0);
  EXPECT_EQ(c.result.host, "");
}

TEST(RequestHeadCheck, ExpectContinueOnlyWithABodyOverHttp11) {
  EXPECT_TRUE(
      Checked("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n")
          .result.expect_continue);
  EXPECT_FALSE(
      Checked("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n").result.expect_continue);
  EXPECT_FALSE(Checked("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
                   .result.expect_continue);
}

TEST(RequestHeadCheck, ContentLengthAgainstMaxBody) {
  const char* req = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n";
  EXPECT_EQ(Checked(req, 10).result.status, 413);
  EXPECT_EQ(Checked(req, 11).result.status, 0);
  EXPECT_EQ(Checked(req, 0).result.status, 0);  // no limit
}

TEST(RequestHeadCheck, OnlyASingleTraceparentIsKept) {
  Checked one("GET / HTTP/1.1\r\nHost: a\r\ntraceparent: x\r\n\r\n");
  ASSERT_NE(one.result.traceparent, nullptr);
  EXPECT_EQ(one.result.traceparent->value, "x");
  Checked two("GET / HTTP/1.1\r\nHost: a\r\ntraceparent: x\r\nTraceparent: y\r\n\r\n");
  EXPECT_EQ(two.result.traceparent, nullptr);
}

}  // namespace
}  // namespace portico::proxy
