#include "http/RequestId.h"

#include <gtest/gtest.h>

#include <array>
#include <bitset>
#include <string>
#include <unordered_set>

namespace portico::http {
namespace {

bool is_lower_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int hex_value(char c) {
  return c <= '9' ? c - '0' : c - 'a' + 10;
}

// 8-4-4-4-12 lowercase hex, version nibble 4, variant 10xx.
::testing::AssertionResult is_uuid_v4(std::string_view id) {
  if (id.size() != 36) return ::testing::AssertionFailure() << "length " << id.size();
  for (size_t i = 0; i < id.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? id[i] != '-' : !is_lower_hex(id[i]))
      return ::testing::AssertionFailure() << "bad char at " << i << " in " << id;
  }
  if (id[14] != '4') return ::testing::AssertionFailure() << "version nibble in " << id;
  if (id[19] != '8' && id[19] != '9' && id[19] != 'a' && id[19] != 'b')
    return ::testing::AssertionFailure() << "variant nibble in " << id;
  return ::testing::AssertionSuccess();
}

TEST(RequestId, ReturnsAViewOfTheCallersArray) {
  RequestIdGenerator gen;
  std::array<char, 36> out{};
  std::string_view id = gen.next(out);
  EXPECT_EQ(id.data(), out.data());
  EXPECT_EQ(id.size(), 36u);
  EXPECT_TRUE(is_uuid_v4(id));
}

TEST(RequestId, TenThousandIdsAreWellFormedAndDistinct) {
  RequestIdGenerator gen;
  std::unordered_set<std::string> seen;
  std::array<char, 36> out{};
  // Which hex digits were seen at each position: the random positions must take every
  // value, the variant position exactly 8..b.
  std::array<std::bitset<16>, 36> digits{};
  for (int i = 0; i < 10000; ++i) {
    std::string_view id = gen.next(out);
    ASSERT_TRUE(is_uuid_v4(id));
    ASSERT_TRUE(seen.emplace(id).second) << "duplicate " << id;
    for (size_t p = 0; p < id.size(); ++p)
      if (id[p] != '-') digits[p].set(size_t(hex_value(id[p])));
  }
  EXPECT_EQ(seen.size(), 10000u);
  for (size_t p = 0; p < 36; ++p) {
    if (p == 8 || p == 13 || p == 18 || p == 23) continue;
    if (p == 14)
      EXPECT_EQ(digits[p].to_ulong(), 1ul << 4) << "position " << p;
    else if (p == 19)
      EXPECT_EQ(digits[p].to_ulong(), 0xFul << 8) << "position " << p;
    else
      EXPECT_TRUE(digits[p].all()) << "position " << p << " " << digits[p];
  }
}

TEST(RequestId, TwoGeneratorsAreSeededIndependently) {
  RequestIdGenerator a, b;
  std::array<char, 36> oa{}, ob{};
  std::string first_a(a.next(oa)), first_b(b.next(ob));
  EXPECT_NE(first_a, first_b);
}

}  // namespace
}  // namespace portico::http
