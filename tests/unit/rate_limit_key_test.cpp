// RateLimitKey: what a limit counts by, built without allocating.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "filters/rate_limit/RateLimitKey.h"

namespace portico::filters {
namespace {

std::vector<KeyPart> parts(std::initializer_list<const char*> texts) {
  std::vector<KeyPart> out;
  for (const char* t : texts) {
    std::string error;
    auto p = parse_key_part(t, error);
    EXPECT_TRUE(p) << error;
    if (p) out.push_back(*p);
  }
  return out;
}

TEST(RateLimitKey, JoinsItsPartsWithASeparatorNoValueHolds) {
  std::vector<http::Header> headers{{"X-Api-Key", "k1"}, {"Cookie", "session=abc"}};
  FilterContext ctx;
  ctx.headers = headers;
  ctx.client_ip = "10.0.0.7";
  ctx.route = "api";
  RateLimitKey key(parts({"route", "client_ip", "header:x-api-key", "cookie:session"}));
  RateLimitKey::Buffer buffer;
  EXPECT_EQ(key.build(ctx, buffer), "api\x1f" "10.0.0.7\x1f" "k1\x1f" "abc");
  // ("a", "bc") and ("ab", "c") are different keys.
  std::vector<http::Header> h1{{"a", "x"}, {"b", "yz"}}, h2{{"a", "xy"}, {"b", "z"}};
  RateLimitKey two(parts({"header:a", "header:b"}));
  RateLimitKey::Buffer b1, b2;
  ctx.headers = h1;
  std::string k1(*two.build(ctx, b1));
  ctx.headers = h2;
  EXPECT_NE(k1, std::string(*two.build(ctx, b2)));
}

TEST(RateLimitKey, AMissingHeaderOrCookieMeansNoKey) {
  std::vector<http::Header> headers{{"Cookie", "other=1"}};
  FilterContext ctx;
  ctx.headers = headers;
  RateLimitKey::Buffer buffer;
  EXPECT_FALSE(RateLimitKey(parts({"header:x-api-key"})).build(ctx, buffer));
  EXPECT_FALSE(RateLimitKey(parts({"client_ip", "cookie:session"})).build(ctx, buffer));
  // An empty value is a value.
  std::vector<http::Header> empty{{"X-Api-Key", ""}};
  ctx.headers = empty;
  EXPECT_EQ(RateLimitKey(parts({"header:x-api-key"})).build(ctx, buffer), "");
}

TEST(RateLimitKey, LongKeysKeepAPrefixAndAHashOfTheWhole) {
  std::string a(1000, 'a'), b = a;
  b.back() = 'b';  // differs only past the prefix
  FilterContext ctx;
  RateLimitKey key(parts({"header:x"}));
  RateLimitKey::Buffer b1, b2;
  std::vector<http::Header> h1{{"x", a}}, h2{{"x", b}};
  ctx.headers = h1;
  std::string k1(*key.build(ctx, b1));
  ctx.headers = h2;
  std::string k2(*key.build(ctx, b2));
  EXPECT_EQ(k1.size(), RateLimitKey::kMaxBytes);
  EXPECT_EQ(k2.size(), RateLimitKey::kMaxBytes);
  EXPECT_NE(k1, k2);
  EXPECT_EQ(k1.substr(0, 200), a.substr(0, 200));
}

TEST(RateLimitKey, PartsAreCheckedWhenParsed) {
  std::string error;
  EXPECT_FALSE(parse_key_part("header:", error));
  EXPECT_FALSE(parse_key_part("header:bad name", error));
  EXPECT_FALSE(parse_key_part("ip", error));
  EXPECT_EQ(to_string(*parse_key_part("cookie:sid", error)), "cookie:sid");
}

}  // namespace
}  // namespace portico::filters
