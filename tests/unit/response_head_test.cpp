#include "upstream/ResponseHead.h"

#include <gtest/gtest.h>

#include <string>

#include "http/HeadCollector.h"
#include "http/MessageParser.h"

namespace portico::upstream {
namespace {

// Parses `text` as a response head and reads it as UpstreamConn does; returns the error or "".
std::string read(std::string text) {
  http::MessageParser parser(HTTP_RESPONSE, nullptr);
  http::HeadCollector head;
  parser.start_message(&head);
  auto [stop, used] = parser.execute(text.data(), 0, uint32_t(text.size()));
  EXPECT_EQ(stop, http::MessageParser::Stop::Head) << parser.error_reason();
  ResponseHead out;
  const char* why = read_response_head(head, text.data(), parser.raw(), false, out);
  return why ? why : "";
}

TEST(ResponseHead, ChunkedIsRead) {
  EXPECT_EQ(read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), "");
  EXPECT_EQ(read("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), "");
}

// llhttp does not read "chunked" followed by tabs as chunked (the body would end at the
// close), while the head relayed to the client says plain "chunked" (found by
// fuzz_response): such a response, and one whose coding does not end in chunked, is refused.
TEST(ResponseHead, TransferEncodingNotReadAsChunkedIsRefused) {
  const std::string why = "Transfer-Encoding that does not end in chunked";
  EXPECT_EQ(read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\t\t\t\r\n\r\n"), why);
  EXPECT_EQ(read("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), why);
  EXPECT_EQ(read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), why);
}

}  // namespace
}  // namespace portico::upstream
