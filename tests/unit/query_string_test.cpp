#include "router/QueryString.h"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <utility>
#include <vector>

namespace portico::router {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs raw_params(std::string_view query) {
  Pairs out;
  for (const QueryParam& p : QueryParams(query)) out.emplace_back(p.name, p.value);
  return out;
}

std::string decode(std::string_view raw) {
  std::array<char, 64> buffer{};
  const auto decoded = percent_decode(raw, buffer);
  return decoded ? std::string(*decoded) : std::string("<too long>");
}

TEST(QueryParams, EmptyQueryHasNoParameters) {
  EXPECT_TRUE(raw_params("").empty());
  EXPECT_TRUE(raw_params("&").empty());
  EXPECT_TRUE(raw_params("&&&").empty());
}

TEST(QueryParams, SplitsOnAmpersandAndFirstEquals) {
  EXPECT_EQ(raw_params("a=1&b=2"), (Pairs{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(raw_params("a=1=2"), (Pairs{{"a", "1=2"}}));
  EXPECT_EQ(raw_params("a;b=1"), (Pairs{{"a;b", "1"}}));  // ';' is not a separator
}

TEST(QueryParams, MissingEqualsMeansEmptyValue) {
  EXPECT_EQ(raw_params("flag"), (Pairs{{"flag", ""}}));
  EXPECT_EQ(raw_params("flag&a=1"), (Pairs{{"flag", ""}, {"a", "1"}}));
  EXPECT_EQ(raw_params("a="), (Pairs{{"a", ""}}));
  EXPECT_EQ(raw_params("=v"), (Pairs{{"", "v"}}));
}

TEST(QueryParams, SkipsEmptySegmentsAndKeepsRepeatsInOrder) {
  EXPECT_EQ(raw_params("&a=1&&a=2&"), (Pairs{{"a", "1"}, {"a", "2"}}));
}

TEST(QueryParams, ValuesStayEncoded) {
  EXPECT_EQ(raw_params("a%20b=c+d"), (Pairs{{"a%20b", "c+d"}}));
}

TEST(QueryParams, IteratorSupportsPostIncrementAndArrow) {
  QueryParams params("x=1&y=2");
  auto it = params.begin();
  EXPECT_EQ((it++)->name, "x");
  EXPECT_EQ(it->value, "2");
  ++it;
  EXPECT_TRUE(it == params.end());
}

TEST(PercentDecode, PlainTextIsReturnedWithoutCopy) {
  std::array<char, 4> buffer{};
  const std::string_view raw = "longer-than-the-buffer";
  const auto decoded = percent_decode(raw, buffer);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->data(), raw.data());
}

TEST(PercentDecode, DecodesEscapesAndPlus) {
  EXPECT_EQ(decode("a%2Fb"), "a/b");
  EXPECT_EQ(decode("a%2fb"), "a/b");
  EXPECT_EQ(decode("a+b"), "a b");
  EXPECT_EQ(decode("a%2Bb"), "a+b");  // an encoded plus is a plus, not a space
  EXPECT_EQ(decode("%41%42%43"), "ABC");
  EXPECT_EQ(decode("%00"), std::string(1, '\0'));
  EXPECT_EQ(decode("%ff"), "\xff");
}

TEST(PercentDecode, MalformedEscapesStayLiteral) {
  EXPECT_EQ(decode("%zz"), "%zz");
  EXPECT_EQ(decode("%2"), "%2");
  EXPECT_EQ(decode("%"), "%");
  EXPECT_EQ(decode("a%g1"), "a%g1");
  EXPECT_EQ(decode("%%41"), "%A");
  EXPECT_EQ(decode("100%+"), "100% ");
}

TEST(PercentDecode, FailsWhenDecodedTextDoesNotFit) {
  std::array<char, 3> buffer{};
  EXPECT_EQ(percent_decode("a+b", buffer), std::optional<std::string_view>("a b"));
  EXPECT_FALSE(percent_decode("a+bc", buffer));
  // Escapes shrink the text: 9 raw bytes decode to exactly 3.
  EXPECT_EQ(percent_decode("%41%42%43", buffer), std::optional<std::string_view>("ABC"));
  EXPECT_FALSE(percent_decode("%41%42%43%44", buffer));
}

TEST(DecodedEquals, ComparesAfterDecoding) {
  EXPECT_TRUE(decoded_equals("a%2Fb", "a/b"));
  EXPECT_TRUE(decoded_equals("a+b", "a b"));
  EXPECT_TRUE(decoded_equals("plain", "plain"));
  EXPECT_TRUE(decoded_equals("", ""));
  EXPECT_TRUE(decoded_equals("%zz", "%zz"));
  EXPECT_FALSE(decoded_equals("a+b", "a+b"));
  EXPECT_FALSE(decoded_equals("a%2Fb", "a%2Fb"));
  EXPECT_FALSE(decoded_equals("a%2Fb", "a/"));
  EXPECT_FALSE(decoded_equals("a%2F", "a/b"));
  EXPECT_FALSE(decoded_equals("ab", "abc"));
  EXPECT_FALSE(decoded_equals("Name", "name"));  // names are case-sensitive
}

TEST(DecodedEquals, HasNoLengthLimit) {
  const std::string expected(10000, ' ');
  const std::string raw(10000, '+');
  EXPECT_TRUE(decoded_equals(raw, expected));
}

}  // namespace
}  // namespace portico::router
