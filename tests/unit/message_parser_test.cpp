#include "http/MessageParser.h"

#include <gtest/gtest.h>

#include <string>

namespace portico::http {
namespace {

// Found by fuzz_response: a status below 100 was taken for an interim response, so its
// head and body were skipped silently and the next bytes read as the response.
TEST(MessageParser, AStatusBelow100IsAnError) {
  for (std::string bytes : {std::string("HTTP/1.1 000 Zero\r\nContent-Length: 3\r\n\r\nabc"),
                            std::string("HTTP/1.0 099 X\r\n\r\nHTTP/1.1 200 OK\r\n\r\n")}) {
    MessageParser parser(HTTP_RESPONSE, nullptr);
    HeadCollector head;
    parser.start_message(&head);
    auto step = parser.execute(bytes.data(), 0, uint32_t(bytes.size()));
    EXPECT_EQ(step.stop, MessageParser::Stop::Error) << bytes;
  }
}

TEST(MessageParser, AnInterimResponseIsSkipped) {
  std::string bytes = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
  MessageParser parser(HTTP_RESPONSE, nullptr);
  HeadCollector head;
  parser.start_message(&head);
  auto step = parser.execute(bytes.data(), 0, uint32_t(bytes.size()));
  ASSERT_EQ(step.stop, MessageParser::Stop::Head);
  EXPECT_EQ(parser.raw().status_code, 204);
}

// Found by fuzz_response: llhttp read an interim response's Content-Length as a body, so
// its bytes reached the body sink before the final response's head.
TEST(MessageParser, AnInterimResponseHasNoBody) {
  struct Sink final : MessageParser::BodySink {
    bool on_body_data(const char*, size_t n) override {
      bytes += n;
      return true;
    }
    size_t bytes = 0;
  } sink;
  std::string bytes = "HTTP/1.1 100 Continue\r\nContent-Length: 2\r\n\r\nHTTP/1.1 200 OK\r\n\r\n";
  MessageParser parser(HTTP_RESPONSE, &sink);
  HeadCollector head;
  parser.start_message(&head);
  auto step = parser.execute(bytes.data(), 0, uint32_t(bytes.size()));
  ASSERT_EQ(step.stop, MessageParser::Stop::Head) << parser.error_reason();
  EXPECT_EQ(parser.raw().status_code, 200);
  EXPECT_EQ(sink.bytes, 0u);
}

}  // namespace
}  // namespace portico::http
