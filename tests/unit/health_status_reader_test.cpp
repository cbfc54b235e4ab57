// Reading a probe's response status: only a well-formed head counts, however it arrives.
#include "health/StatusReader.h"

#include <gtest/gtest.h>

#include <string_view>

namespace portico::health {
namespace {

using Result = StatusReader::Result;

Result feed(StatusReader& r, std::string_view bytes) {
  return r.feed(bytes.data(), bytes.size());
}

TEST(StatusReader, CompleteHeadInOnePiece) {
  StatusReader r;
  EXPECT_EQ(feed(r, "HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n"), Result::Done);
  EXPECT_EQ(r.status(), 204);
}

TEST(StatusReader, ByteByByte) {
  std::string_view head = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy";
  StatusReader r;
  size_t i = 0;
  Result res = Result::NeedMore;
  for (; i < head.size() && res == Result::NeedMore; ++i) res = feed(r, head.substr(i, 1));
  EXPECT_EQ(res, Result::Done);
  EXPECT_EQ(r.status(), 503);
  EXPECT_EQ(i, head.find("\r\n\r\n") + 4) << "done at the end of the head, not later";
  EXPECT_EQ(feed(r, "more"), Result::Done) << "later bytes change nothing";
}

TEST(StatusReader, StatusLineAloneIsNotEnough) {
  StatusReader r;
  EXPECT_EQ(feed(r, "HTTP/1.1 200 OK\r\n"), Result::NeedMore);
  EXPECT_EQ(r.finish(), Result::Error) << "closed before the end of the head";
  EXPECT_FALSE(r.error().empty());
}

TEST(StatusReader, InterimResponsesAreSkipped) {
  StatusReader r;
  EXPECT_EQ(feed(r, "HTTP/1.1 100 Continue\r\n\r\n"), Result::NeedMore);
  EXPECT_EQ(feed(r, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), Result::Done);
  EXPECT_EQ(r.status(), 200);
}

TEST(StatusReader, Http10AndCloseDelimitedBodies) {
  StatusReader r;
  EXPECT_EQ(feed(r, "HTTP/1.0 200 OK\r\n\r\nbody until close"), Result::Done);
  EXPECT_EQ(r.status(), 200);
}

TEST(StatusReader, GarbageIsAnError) {
  StatusReader r;
  EXPECT_EQ(feed(r, "SSH-2.0-OpenSSH_9.2\r\n"), Result::Error);
  EXPECT_FALSE(r.error().empty());
  EXPECT_EQ(feed(r, "HTTP/1.1 200 OK\r\n\r\n"), Result::Error) << "an error sticks";
}

TEST(StatusReader, BadHeaderIsAnError) {
  StatusReader r;
  EXPECT_EQ(feed(r, "HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n"), Result::Error);
}

TEST(StatusReader, EmptyCloseIsAnError) {
  StatusReader r;
  EXPECT_EQ(r.finish(), Result::Error);
}

}  // namespace
}  // namespace portico::health
