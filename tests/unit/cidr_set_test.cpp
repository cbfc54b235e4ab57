#include "router/CidrSet.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

namespace portico::router {
namespace {

CidrSet make(std::initializer_list<const char*> items) {
  CidrSet set;
  std::string error;
  for (const char* item : items) EXPECT_TRUE(set.add(item, error)) << item << ": " << error;
  return set;
}

TEST(CidrSet, EmptyContainsNothing) {
  CidrSet set;
  EXPECT_TRUE(set.empty());
  EXPECT_FALSE(set.contains("127.0.0.1"));
}

TEST(CidrSet, Ipv4Prefixes) {
  CidrSet set = make({"10.0.0.0/8", "192.168.1.7", "172.16.0.0/12"});
  EXPECT_TRUE(set.contains("10.255.1.2"));
  EXPECT_FALSE(set.contains("11.0.0.1"));
  EXPECT_TRUE(set.contains("192.168.1.7"));
  EXPECT_FALSE(set.contains("192.168.1.8"));
  EXPECT_TRUE(set.contains("172.31.255.255"));
  EXPECT_FALSE(set.contains("172.32.0.0"));
}

TEST(CidrSet, Ipv6AndMappedIpv4) {
  CidrSet set = make({"::1", "2001:db8::/32", "127.0.0.0/8"});
  EXPECT_TRUE(set.contains("::1"));
  EXPECT_FALSE(set.contains("::2"));
  EXPECT_TRUE(set.contains("2001:db8:ffff::1"));
  EXPECT_FALSE(set.contains("2001:db9::1"));
  // A dual-stack socket reports IPv4 clients as IPv4-mapped IPv6.
  EXPECT_TRUE(set.contains("::ffff:127.0.0.1"));
  EXPECT_FALSE(set.contains("::ffff:128.0.0.1"));
}

TEST(CidrSet, ZeroPrefixMatchesEverythingOfItsFamily) {
  CidrSet v4 = make({"0.0.0.0/0"});
  EXPECT_TRUE(v4.contains("8.8.8.8"));
  EXPECT_FALSE(v4.contains("::1"));
  CidrSet v6 = make({"::/0"});
  EXPECT_TRUE(v6.contains("::1"));
  EXPECT_TRUE(v6.contains("8.8.8.8"));  // mapped addresses are IPv6 too
}

TEST(CidrSet, UnparsableAddressIsInNone) {
  CidrSet set = make({"0.0.0.0/0", "::/0"});
  EXPECT_FALSE(set.contains(""));
  EXPECT_FALSE(set.contains("localhost"));
  EXPECT_FALSE(set.contains("127.0.0.1:80"));
  EXPECT_FALSE(set.contains(std::string(100, '1')));
}

// IPv4 is parsed by hand (it runs per request): it must accept exactly what inet_pton does.
TEST(CidrSet, Ipv4ParsingAgreesWithInetPton) {
  CidrSet any = make({"0.0.0.0/0"});
  for (const char* text :
       {"1.2.3.4",   "0.0.0.0",   "255.255.255.255", "10.0.0.1", "01.2.3.4",  "1.2.3.04",
        "256.1.1.1", "1.2.3",     "1.2.3.4.",        ".1.2.3.4", "1..2.3",    " 1.2.3.4",
        "1.2.3.4 ",  "1.2.3.4.5", "1234.1.1.1",      "1.2.3.-4", "1.2.3.0x4", "999.0.0.0",
        "1.2.3.4/8", "00.0.0.0",  "0.0.0.00",        ""}) {
    in_addr a;
    bool valid = inet_pton(AF_INET, text, &a) == 1;
    EXPECT_EQ(any.contains(text), valid) << "'" << text << "'";
  }
  CidrSet one = make({"192.168.7.9"});
  EXPECT_TRUE(one.contains("192.168.7.9"));
  EXPECT_FALSE(one.contains("192.168.7.90"));
}

TEST(CidrSet, RefusesMistakes) {
  struct Case {
    const char* text;
    const char* error;
  };
  for (Case c :
       {Case{"10.0.0.1/8", "has bits set beyond its /8 prefix"},
        Case{"10.0.0.0/33", "invalid prefix length"}, Case{"10.0.0.0/", "invalid prefix length"},
        Case{"10.0.0.0/x", "invalid prefix length"}, Case{"::/129", "invalid prefix length"},
        Case{"10.0.0/8", "invalid address '10.0.0'"}, Case{"example.com", "invalid address"},
        Case{"", "invalid address"}}) {
    CidrSet set;
    std::string error;
    EXPECT_FALSE(set.add(c.text, error)) << c.text;
    EXPECT_NE(error.find(c.error), std::string::npos) << c.text << ": " << error;
    EXPECT_TRUE(set.empty());
  }
}

}  // namespace
}  // namespace portico::router
