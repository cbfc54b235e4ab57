#include "config/ValueParsers.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace portico::config {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(ParseDuration, AcceptsEachUnit) {
  EXPECT_EQ(*parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(*parse_duration("10s"), seconds(10));
  EXPECT_EQ(*parse_duration("1m"), minutes(1));
  EXPECT_EQ(*parse_duration("2h"), hours(2));
  EXPECT_EQ(*parse_duration("0"), milliseconds(0));
  EXPECT_EQ(*parse_duration("0s"), milliseconds(0));
  EXPECT_EQ(*parse_duration("007s"), seconds(7));
}

TEST(ParseDuration, FractionsAreExact) {
  EXPECT_EQ(*parse_duration("1.5s"), milliseconds(1500));
  EXPECT_EQ(*parse_duration("0.1s"), milliseconds(100));
  EXPECT_EQ(*parse_duration("0.001s"), milliseconds(1));
  EXPECT_EQ(*parse_duration("1.25m"), milliseconds(75'000));
  EXPECT_EQ(*parse_duration("2.000000000000000000000s"), seconds(2));
}

TEST(ParseDuration, BareNumberNeedsAUnit) {
  auto r = parse_duration("10");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error, "'10' is not a valid duration: a unit is required, e.g. '10s' or '10ms'");
  EXPECT_FALSE(parse_duration("1.5"));
  EXPECT_FALSE(parse_duration("00"));
}

TEST(ParseDuration, RejectsGarbage) {
  for (const char* text : {"", "s", "ms", "abc", "10x", "10 s", " 10s", "10s ", "-1s", "+1s", "1.s",
                           ".5s", "1..5s", "10sec", "1e3ms", "10s5", "0x10s"}) {
    auto r = parse_duration(text);
    EXPECT_FALSE(r) << "accepted '" << text << "'";
    EXPECT_FALSE(r.error.empty()) << text;
  }
  EXPECT_EQ(parse_duration("10x").error,
            "'10x' is not a valid duration: unknown unit 'x' (expected ms, s, m or h)");
  EXPECT_EQ(parse_duration("-1s").error,
            "'-1s' is not a valid duration: durations cannot be negative");
}

TEST(ParseDuration, UnitsAreCaseSensitiveWithAHint) {
  auto r = parse_duration("10S");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error.find("did you mean 's'?"), std::string::npos) << r.error;
  EXPECT_FALSE(parse_duration("5MS"));
}

TEST(ParseDuration, SubMillisecondIsRejected) {
  auto r = parse_duration("0.5ms");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error.find("whole milliseconds"), std::string::npos) << r.error;
  EXPECT_FALSE(parse_duration("1.0001s"));
}

TEST(ParseDuration, Overflow) {
  EXPECT_FALSE(parse_duration("99999999999999999999ms"));  // beyond uint64
  EXPECT_FALSE(parse_duration("9223372036854775808ms"));   // beyond int64 milliseconds
  EXPECT_EQ(parse_duration("9223372036854775807ms")->count(), INT64_MAX);
  auto r = parse_duration("9999999999999999h");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error, "'9999999999999999h' is not a valid duration: too large");
}

TEST(ParseDuration, ConvertsToOptional) {
  std::optional<Duration> d = parse_duration("3s");
  EXPECT_EQ(d, seconds(3));
  std::optional<Duration> none = parse_duration("3");
  EXPECT_FALSE(none.has_value());
}

TEST(ParseSize, PlainBytesAndUnits) {
  EXPECT_EQ(*parse_size("0"), 0u);
  EXPECT_EQ(*parse_size("65536"), 65536u);
  EXPECT_EQ(*parse_size("512B"), 512u);
  EXPECT_EQ(*parse_size("64KB"), 64'000u);
  EXPECT_EQ(*parse_size("64KiB"), 65'536u);
  EXPECT_EQ(*parse_size("1MB"), 1'000'000u);
  EXPECT_EQ(*parse_size("10MiB"), 10u * 1024 * 1024);
  EXPECT_EQ(*parse_size("1GB"), 1'000'000'000u);
  EXPECT_EQ(*parse_size("1GiB"), 1024u * 1024 * 1024);
  EXPECT_EQ(*parse_size("1.5KiB"), 1536u);
  EXPECT_EQ(*parse_size("18446744073709551615"), UINT64_MAX);
}

TEST(ParseSize, RejectsGarbage) {
  for (const char* text : {"", "KiB", "abc", "64k", "64K", "64Kib", "64kib", "64 KiB", "-1",
                           "-1KiB", "1.5", "0.5B", "1.KiB", "64TiB", "1e6", "0x10", "+5"}) {
    auto r = parse_size(text);
    EXPECT_FALSE(r) << "accepted '" << text << "'";
    EXPECT_FALSE(r.error.empty()) << text;
  }
  EXPECT_EQ(
      parse_size("64k").error,
      "'64k' is not a valid size: unknown unit 'k' (expected B, KB, KiB, MB, MiB, GB or GiB)");
  EXPECT_EQ(parse_size("64kib").error,
            "'64kib' is not a valid size: unknown unit 'kib' (units are case-sensitive: did you "
            "mean 'KiB'?)");
}

TEST(ParseSize, Overflow) {
  EXPECT_FALSE(parse_size("18446744073709551616"));
  EXPECT_FALSE(parse_size("17179869184GiB"));  // 2^34 GiB = 2^64 bytes
  EXPECT_EQ(*parse_size("17179869183GiB"), 17179869183ull << 30);
  EXPECT_EQ(parse_size("99999999999GiB").error, "'99999999999GiB' is not a valid size: too large");
}

uint16_t port_of(const SocketAddress& a) {
  if (a.storage.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&a.storage)->sin_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&a.storage)->sin6_port);
}

std::string ip_of(const SocketAddress& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.storage.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&a.storage)->sin_addr, buf,
              sizeof buf);
  } else {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&a.storage)->sin6_addr, buf,
              sizeof buf);
  }
  return buf;
}

TEST(ParseSocketAddress, Ipv4) {
  auto r = parse_socket_address("127.0.0.1:8080", false);
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r->text, "127.0.0.1:8080");
  EXPECT_EQ(r->storage.ss_family, AF_INET);
  EXPECT_EQ(r->length, sizeof(sockaddr_in));
  EXPECT_EQ(ip_of(*r), "127.0.0.1");
  EXPECT_EQ(port_of(*r), 8080);

  auto any = parse_socket_address("0.0.0.0:80", false);
  ASSERT_TRUE(any);
  EXPECT_EQ(ip_of(*any), "0.0.0.0");
  EXPECT_EQ(port_of(*any), 80);
  EXPECT_EQ(port_of(*parse_socket_address("1.2.3.4:65535", false)), 65535);
}

TEST(ParseSocketAddress, Ipv6) {
  auto r = parse_socket_address("[::1]:8080", false);
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r->storage.ss_family, AF_INET6);
  EXPECT_EQ(r->length, sizeof(sockaddr_in6));
  EXPECT_EQ(ip_of(*r), "::1");
  EXPECT_EQ(port_of(*r), 8080);
  EXPECT_TRUE(parse_socket_address("[::]:443", false));
  EXPECT_TRUE(parse_socket_address("[2001:db8::10]:443", false));
}

TEST(ParseSocketAddress, ResolvesNamesOnlyWhenAsked) {
  auto no = parse_socket_address("localhost:9000", false);
  ASSERT_FALSE(no);
  EXPECT_EQ(no.error,
            "'localhost:9000' is not a valid address: 'localhost' is not an IP address (host "
            "names are not allowed here)");

  auto yes = parse_socket_address("localhost:9000", true);
  ASSERT_TRUE(yes) << yes.error;
  EXPECT_EQ(yes->text, "localhost:9000");
  EXPECT_EQ(port_of(*yes), 9000);
  const std::string ip = ip_of(*yes);
  EXPECT_TRUE(ip == "127.0.0.1" || ip == "::1") << ip;
}

TEST(ParseSocketAddress, UnresolvableName) {
  // .invalid is reserved (RFC 2606) and never resolves.
  auto r = parse_socket_address("no-such-host.invalid:80", true);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error.find("cannot resolve 'no-such-host.invalid'"), std::string::npos) << r.error;
}

TEST(ParseSocketAddress, PortIsRequiredAndInRange) {
  for (const char* text : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
                           "127.0.0.1:99999999999999999999", "127.0.0.1:http", "127.0.0.1:+80",
                           "127.0.0.1:-1", "127.0.0.1: 80", "[::1]", "[::1]:", "[::1]:0"}) {
    auto r = parse_socket_address(text, false);
    EXPECT_FALSE(r) << "accepted '" << text << "'";
    EXPECT_FALSE(r.error.empty()) << text;
  }
  EXPECT_EQ(parse_socket_address("127.0.0.1:0", false).error,
            "'127.0.0.1:0' is not a valid address: port must be a number from 1 to 65535");
  EXPECT_EQ(parse_socket_address("127.0.0.1", false).error,
            "'127.0.0.1' is not a valid address: missing ':PORT'");
}

TEST(ParseSocketAddress, RejectsGarbage) {
  for (const char* text :
       {"", ":80", "::1:80", "[::1:80", "[::1]80", "[127.0.0.1]:80", "[nonsense]:80",
        "256.0.0.1:80", "127.1:80", "1.2.3.4.5:80", "127.0.0.1 :80"}) {
    auto r = parse_socket_address(text, false);
    EXPECT_FALSE(r) << "accepted '" << text << "'";
    EXPECT_FALSE(r.error.empty()) << text;
  }
  EXPECT_EQ(parse_socket_address("::1:80", false).error,
            "'::1:80' is not a valid address: IPv6 addresses must be written in brackets, e.g. "
            "[::1]:8080");
}

}  // namespace
}  // namespace portico::config
