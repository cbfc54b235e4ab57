#include "http/ConnectionTokens.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace portico::http {
namespace {

ConnectionTokens parsed(const std::vector<Header>& headers) {
  ConnectionTokens t;
  t.parse(headers);
  return t;
}

TEST(ConnectionTokens, NoConnectionHeaderMeansNothing) {
  ConnectionTokens t = parsed({{"Host", "a"}, {"X-Foo", "close"}});
  EXPECT_FALSE(t.close());
  EXPECT_FALSE(t.keep_alive());
  EXPECT_FALSE(t.names("X-Foo"));
  EXPECT_FALSE(t.names("close"));
}

TEST(ConnectionTokens, CloseAndKeepAliveFlagsAnyCase) {
  EXPECT_TRUE(parsed({{"Connection", "close"}}).close());
  EXPECT_FALSE(parsed({{"Connection", "close"}}).keep_alive());
  EXPECT_TRUE(parsed({{"connection", "CLOSE"}}).close());
  EXPECT_TRUE(parsed({{"CONNECTION", "Keep-Alive"}}).keep_alive());
  EXPECT_FALSE(parsed({{"CONNECTION", "Keep-Alive"}}).close());
  ConnectionTokens both = parsed({{"Connection", "keep-alive, close"}});
  EXPECT_TRUE(both.close());
  EXPECT_TRUE(both.keep_alive());
  // Substrings and look-alikes are not the close option.
  EXPECT_FALSE(parsed({{"Connection", "closed"}}).close());
  EXPECT_FALSE(parsed({{"Connection", "keep-alive-ish"}}).keep_alive());
  EXPECT_FALSE(parsed({{"Connection", "\"close\""}}).close());
}

TEST(ConnectionTokens, OnlyTheConnectionFieldCounts) {
  // Proxy-Connection is hop-by-hop, but its value is not parsed as connection options.
  ConnectionTokens t = parsed({{"Proxy-Connection", "close, X-A"}, {"Connections", "close"}});
  EXPECT_FALSE(t.close());
  EXPECT_FALSE(t.names("X-A"));
}

TEST(ConnectionTokens, CommaListWithWhitespaceAndEmptyElements) {
  ConnectionTokens t = parsed({{"Connection", " ,foo,  bar ,\tBaz\t,, ,qux,"}});
  EXPECT_TRUE(t.names("foo"));
  EXPECT_TRUE(t.names("bar"));
  EXPECT_TRUE(t.names("baz"));
  EXPECT_TRUE(t.names("QUX"));
  EXPECT_FALSE(t.names("fo"));
  EXPECT_FALSE(t.names("foo,"));
  EXPECT_FALSE(t.names(""));
  EXPECT_FALSE(t.names(" bar"));
  EXPECT_FALSE(t.close());
}

TEST(ConnectionTokens, NamesAreCaseInsensitive) {
  ConnectionTokens t = parsed({{"Connection", "X-Secret-Token"}});
  EXPECT_TRUE(t.names("x-secret-token"));
  EXPECT_TRUE(t.names("X-SECRET-TOKEN"));
  EXPECT_FALSE(t.names("x-secret-token2"));
}

TEST(ConnectionTokens, SeveralConnectionHeadersAreOneList) {
  ConnectionTokens t =
      parsed({{"Connection", "foo"}, {"Host", "h"}, {"connection", "close, bar"}, {"X", "baz"}});
  EXPECT_TRUE(t.names("foo"));
  EXPECT_TRUE(t.names("bar"));
  EXPECT_FALSE(t.names("baz"));
  EXPECT_TRUE(t.close());
}

TEST(ConnectionTokens, FramingAndHostAreNeverNamed) {
  ConnectionTokens t =
      parsed({{"Connection", "Host, content-length, TRANSFER-ENCODING, X-Other, Content-Type"}});
  EXPECT_FALSE(t.names("Host"));
  EXPECT_FALSE(t.names("host"));
  EXPECT_FALSE(t.names("Content-Length"));
  EXPECT_FALSE(t.names("Transfer-Encoding"));
  EXPECT_FALSE(t.names("transfer-encoding"));
  EXPECT_TRUE(t.names("x-other"));
  EXPECT_TRUE(t.names("content-type"));
}

TEST(ConnectionTokens, ParseResetsPreviousState) {
  ConnectionTokens t;
  std::vector<Header> first{{"Connection", "close, keep-alive, X-A"}};
  t.parse(first);
  ASSERT_TRUE(t.close());
  ASSERT_TRUE(t.names("X-A"));
  std::vector<Header> second{{"Host", "h"}};
  t.parse(second);
  EXPECT_FALSE(t.close());
  EXPECT_FALSE(t.keep_alive());
  EXPECT_FALSE(t.names("X-A"));
  std::vector<Header> third{{"Connection", "X-B"}};
  t.parse(third);
  EXPECT_TRUE(t.names("X-B"));
  EXPECT_FALSE(t.names("X-A"));
}

TEST(ConnectionTokens, SixteenTokensAreAllHonoured) {
  std::vector<std::string> names;
  std::string value;
  for (int i = 0; i < 16; ++i) {
    names.push_back("X-H" + std::to_string(i));
    if (i) value += ", ";
    value += names.back();
  }
  value += ", close";  // flags are still seen after the token list is full
  ConnectionTokens t = parsed({{"Connection", value}});
  for (const std::string& n : names) EXPECT_TRUE(t.names(n)) << n;
  EXPECT_TRUE(t.close());
}

TEST(ConnectionTokens, MoreTokensThanTheLimitAreReported) {
  std::string value;
  for (int i = 0; i < 32; ++i) value += "X-H" + std::to_string(i) + ", ";
  value += "close";
  const std::vector<Header> at_limit = {{"Connection", value}};
  ConnectionTokens t;
  t.parse(at_limit);
  EXPECT_FALSE(t.too_many());
  for (int i = 0; i < 32; ++i) EXPECT_TRUE(t.names("X-H" + std::to_string(i))) << i;
  EXPECT_TRUE(t.close());
  std::string more = value + ", X-H32";
  const std::vector<Header> over = {{"Connection", more}};
  t.parse(over);
  EXPECT_TRUE(t.too_many());
  EXPECT_TRUE(t.close());
}

TEST(ConnectionTokens, WhitespaceOnlyValueHasNoTokens) {
  ConnectionTokens t = parsed({{"Connection", " \t "}, {"Connection", ""}});
  EXPECT_FALSE(t.close());
  EXPECT_FALSE(t.keep_alive());
  EXPECT_FALSE(t.names(""));
  EXPECT_FALSE(t.names(" "));
}

TEST(IsHopByHop, TheFiveFieldsInAnyCase) {
  for (const char* n :
       {"Connection", "connection", "CONNECTION", "Keep-Alive", "keep-alive", "Proxy-Connection",
        "proxy-connection", "TE", "te", "Te", "Upgrade", "UPGRADE"})
    EXPECT_TRUE(is_hop_by_hop(n)) << n;
}

TEST(IsHopByHop, OtherFieldsAreEndToEnd) {
  for (const char* n :
       {"", "T", "TEE", "Host", "Trailer", "Transfer-Encoding", "Content-Length", "Connections",
        "Connectio", "Keep-Alive2", "KeepAlive", "Proxy-Authorization", "Proxy-Connectionx",
        "Upgrade-Insecure-Requests", "Upgrades", "X-Forwarded-For", "Expect", "Cookie"})
    EXPECT_FALSE(is_hop_by_hop(n)) << n;
}

}  // namespace
}  // namespace portico::http
