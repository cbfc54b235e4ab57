// Decoding a chunked body as it arrives in pieces of any size, for the cache's copy.
#include "http/ChunkedDecoder.h"

#include <gtest/gtest.h>

#include <string>

namespace portico::http {
namespace {

constexpr std::string_view kBody =
    "5\r\nhello\r\n7;ext=1\r\n, world\r\nA \r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n";

TEST(ChunkedDecoder, DecodesWholeAndByteByByte) {
  for (size_t piece : {kBody.size(), size_t(1), size_t(2), size_t(7)}) {
    ChunkedDecoder d;
    std::string out;
    for (size_t i = 0; i < kBody.size(); i += piece)
      ASSERT_TRUE(d.feed(kBody.substr(i, piece), out)) << piece;
    EXPECT_EQ(out, "hello, world0123456789") << piece;
    EXPECT_TRUE(d.done()) << piece;
  }
}

TEST(ChunkedDecoder, NotDoneUntilTheTrailerEnds) {
  ChunkedDecoder d;
  std::string out;
  ASSERT_TRUE(d.feed("3\r\nabc\r\n0\r\n", out));
  EXPECT_FALSE(d.done());
  ASSERT_TRUE(d.feed("\r\n", out));
  EXPECT_TRUE(d.done());
  EXPECT_EQ(out, "abc");
}

// Found by fuzz_response: llhttp relays a chunk size with leading zeros (RFC 9112 allows
// any number), so the cache's decoder must read it too or the response is never stored.
TEST(ChunkedDecoder, LeadingZerosOfAChunkSizeDoNotCount) {
  ChunkedDecoder d;
  std::string out;
  ASSERT_TRUE(d.feed("00000000000000000005\r\nhello\r\n000000000000000000000\r\n\r\n", out));
  EXPECT_TRUE(d.done());
  EXPECT_EQ(out, "hello");
  ChunkedDecoder big;
  EXPECT_FALSE(big.feed("0001000000000000000\r\n", out));  // 16 significant digits
}

// Found by fuzz_response: llhttp ends the trailer section at a bare LF line.
TEST(ChunkedDecoder, ABareLfEndsTheTrailerSection) {
  ChunkedDecoder d;
  std::string out;
  ASSERT_TRUE(d.feed("1\r\nx\r\n0\r\nX-T: 1\r\n\n", out));
  EXPECT_TRUE(d.done());
  EXPECT_EQ(out, "x");
}

TEST(ChunkedDecoder, FailsOnFramingItCannotFollow) {
  for (std::string_view bad :
       {"x\r\n", "3\r\nabcd\r\n", "3\nabc\r\n", "1234567890123456\r\n", "3\r\nabc\r\n0\r\n\rX"}) {
    ChunkedDecoder d;
    std::string out;
    EXPECT_FALSE(d.feed(bad, out)) << bad;
    EXPECT_FALSE(d.feed("0\r\n\r\n", out)) << "stays failed: " << bad;
    EXPECT_FALSE(d.done());
  }
}

}  // namespace
}  // namespace portico::http
