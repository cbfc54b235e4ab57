#include "tls/AlpnSelect.h"

#include <gtest/gtest.h>

#include <string>

#include "tls/HandshakeFailure.h"

namespace portico::tls {
namespace {

const std::string kOurs("\x02h2\x08http/1.1", 12);

std::string chosen(const std::string& client) {
  const auto* in = reinterpret_cast<const unsigned char*>(client.data());
  const unsigned char* c = select_alpn(kOurs, in, unsigned(client.size()));
  return c ? std::string(reinterpret_cast<const char*>(c + 1), *c) : "(none)";
}

TEST(AlpnSelect, OurPreferenceWins) {
  EXPECT_EQ(chosen(std::string("\x08http/1.1\x02h2", 12)), "h2");
  EXPECT_EQ(chosen(std::string("\x08http/1.1", 9)), "http/1.1");
  EXPECT_EQ(chosen(std::string("\x03h2c\x06spdy/3", 11)), "(none)");
  EXPECT_EQ(chosen(""), "(none)");
}

TEST(AlpnSelect, AnEntryRunningPastTheListEndsIt) {
  // "h2" after an entry that claims more bytes than are left is never read.
  EXPECT_EQ(chosen(std::string("\x09http/1.1\x02h2", 12)), "(none)");
  EXPECT_EQ(chosen(std::string("\x02h2\x20", 4)), "h2");
  EXPECT_EQ(chosen(std::string("\x02h", 2)), "(none)");
}

TEST(HandshakeFailure, FirstByte) {
  EXPECT_EQ(classify_first_byte(0x16), HandshakeFailure::None);
  EXPECT_EQ(classify_first_byte('G'), HandshakeFailure::PlainHttp);
  EXPECT_EQ(classify_first_byte('P'), HandshakeFailure::PlainHttp);
  EXPECT_EQ(classify_first_byte('g'), HandshakeFailure::NotTls);
  EXPECT_EQ(classify_first_byte(0x80), HandshakeFailure::NotTls);  // SSLv2 hello
  EXPECT_EQ(classify_first_byte(0x15), HandshakeFailure::NotTls);
}

}  // namespace
}  // namespace portico::tls
