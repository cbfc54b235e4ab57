// What MessageParser bounds beyond llhttp: header fields per head, and the framing bytes of
// a chunked body (size lines with extensions, trailer sections); trailers are not recorded.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "http/MessageParser.h"

namespace portico::http {
namespace {

using Stop = MessageParser::Stop;

// Feeds `bytes` in pieces of `piece` bytes (as reads would), continuing after a head;
// returns the first stop that is not NeedMore/Head, or NeedMore when all was used.
Stop feed(MessageParser& p, std::string& bytes, size_t piece, uint32_t* used_total = nullptr) {
  uint32_t at = 0;
  uint32_t end = 0;
  for (;;) {
    if (at == end && !p.must_run()) {
      if (end == bytes.size()) return Stop::NeedMore;
      end = uint32_t(std::min(bytes.size(), end + piece));
    }
    auto [stop, used] = p.execute(bytes.data(), at, end);
    at += used;
    if (used_total) *used_total = at;
    if (stop == Stop::Head) {
      p.continue_after_head();
      continue;
    }
    if (stop != Stop::NeedMore) return stop;
  }
}

std::string request_with_fields(int n) {
  std::string r = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 1; i < n; ++i) r += "a:b\r\n";
  return r + "\r\n";
}

TEST(MessageParserLimits, HeadWithinMaxHeadersParses) {
  MessageParser p(HTTP_REQUEST, nullptr);
  HeadCollector head;
  p.set_max_headers(100);
  p.start_message(&head);
  std::string r = request_with_fields(100);
  EXPECT_EQ(feed(p, r, r.size()), Stop::Message);
  EXPECT_EQ(head.header_count(), 100u);
  EXPECT_FALSE(p.too_many_headers());
}

TEST(MessageParserLimits, OneFieldTooManyStopsThere) {
  MessageParser p(HTTP_REQUEST, nullptr);
  HeadCollector head;
  p.set_max_headers(100);
  p.start_message(&head);
  std::string r = request_with_fields(10000);
  uint32_t used = 0;
  EXPECT_EQ(feed(p, r, 16384, &used), Stop::Error);
  EXPECT_TRUE(p.too_many_headers());
  // (llhttp reports its own reason for a failed field callback: the flag is what counts.)
  // Parsing stopped at the 101st field, not at the end of the head.
  EXPECT_LT(used, 26u + 100u * 5u + 5u);
  // A new message starts with the flag clear.
  p.reset();
  p.start_message(&head);
  EXPECT_FALSE(p.too_many_headers());
}

TEST(MessageParserLimits, FieldSplitAcrossReadsCountsOnce) {
  MessageParser p(HTTP_REQUEST, nullptr);
  HeadCollector head;
  p.set_max_headers(3);
  p.start_message(&head);
  std::string r = "GET / HTTP/1.1\r\nHost: h\r\nLong-Name-One: v\r\nLong-Name-Two: v\r\n\r\n";
  EXPECT_EQ(feed(p, r, 3), Stop::Message);
  EXPECT_EQ(head.header_count(), 3u);
}

TEST(MessageParserLimits, ChunkedBodyWithExtensionsAndTrailersParses) {
  MessageParser p(HTTP_REQUEST, nullptr);
  HeadCollector head;
  p.start_message(&head);
  std::string r =
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;name=value\r\nhello\r\n0\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n";
  EXPECT_EQ(feed(p, r, 7), Stop::Message);
  // The trailer fields are not recorded with the head's.
  EXPECT_EQ(head.header_count(), 2u);
}

std::string chunked_head() {
  return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
}

TEST(MessageParserLimits, EndlessChunkExtensionFails) {
  MessageParser p(HTTP_RESPONSE, nullptr);
  HeadCollector head;
  p.start_message(&head);
  std::string r = chunked_head() + "4\r\nabcd\r\n1;" + std::string(40000, 'x');
  EXPECT_EQ(feed(p, r, 4096), Stop::Error);
  EXPECT_STREQ(p.error_reason(), "chunk-size line longer than 16 KiB");
}

TEST(MessageParserLimits, EndlessLeadingZerosFail) {
  MessageParser p(HTTP_RESPONSE, nullptr);
  HeadCollector head;
  p.start_message(&head);
  std::string r = chunked_head() + std::string(40000, '0');
  EXPECT_EQ(feed(p, r, 16384), Stop::Error);
  EXPECT_STREQ(p.error_reason(), "chunk-size line longer than 16 KiB");
}

TEST(MessageParserLimits, EndlessTrailersFailWithoutGrowingTheCollector) {
  MessageParser p(HTTP_RESPONSE, nullptr);
  HeadCollector head;
  p.start_message(&head);
  std::string r = chunked_head() + "0\r\n";
  for (int i = 0; i < 10000; ++i) r += "t:v\r\n";
  EXPECT_EQ(feed(p, r, 1000), Stop::Error);
  EXPECT_STREQ(p.error_reason(), "trailer section larger than 16 KiB");
  EXPECT_EQ(head.header_count(), 1u);
}

TEST(MessageParserLimits, LargeChunksAreNotFraming) {
  MessageParser p(HTTP_RESPONSE, nullptr);
  HeadCollector head;
  p.start_message(&head);
  std::string data(100000, 'd');
  std::string r = chunked_head() + "186a0\r\n" + data + "\r\n186a0\r\n" + data + "\r\n0\r\n\r\n";
  EXPECT_EQ(feed(p, r, 16384), Stop::Message);
}

TEST(MessageParserLimits, ContentLengthBodyIsNotFraming) {
  MessageParser p(HTTP_RESPONSE, nullptr);
  HeadCollector head;
  p.start_message(&head);
  std::string r = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + std::string(100000, 'd');
  EXPECT_EQ(feed(p, r, 16384), Stop::Message);
}

}  // namespace
}  // namespace portico::http
