#include <gtest/gtest.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "cache/CachedResponse.h"

namespace portico::cache {
namespace {

using http::Header;

CachedResponse varying(std::initializer_list<VaryField> fields, bool any = false) {
  CachedResponse r;
  r.vary = fields;
  r.vary_any = any;
  return r;
}

TEST(NormalizedField, AbsentIsNullopt) {
  std::vector<Header> h{{"Accept", "text/html"}};
  EXPECT_EQ(normalized_field(h, "accept-encoding"), std::nullopt);
  EXPECT_EQ(normalized_field({}, "accept"), std::nullopt);
}

TEST(NormalizedField, EmptyLineIsPresentAndEmpty) {
  std::vector<Header> h{{"Accept-Encoding", ""}};
  EXPECT_EQ(normalized_field(h, "accept-encoding"), std::optional<std::string>(""));
  std::vector<Header> blanks{{"Accept-Encoding", " \t "}};
  EXPECT_EQ(normalized_field(blanks, "accept-encoding"), std::optional<std::string>(""));
}

TEST(NormalizedField, NamesAreCaseInsensitive) {
  std::vector<Header> h{{"ACCEPT-encoding", "gzip"}};
  EXPECT_EQ(normalized_field(h, "Accept-Encoding"), "gzip");
}

TEST(NormalizedField, TrimsSpacesAndTabsOnly) {
  std::vector<Header> h{{"Accept", " \ttext/html ;q=1 \t"}};
  EXPECT_EQ(normalized_field(h, "accept"), "text/html ;q=1");
}

TEST(NormalizedField, JoinsEveryLineInOrder) {
  std::vector<Header> h{{"Accept", " a "}, {"Host", "x"}, {"accept", "b, c"}, {"ACCEPT", "\td"}};
  EXPECT_EQ(normalized_field(h, "accept"), "a, b, c, d");
}

TEST(VaryMatches, NoVaryMatchesAnything) {
  CachedResponse r;
  EXPECT_TRUE(vary_matches(r, {}));
  std::vector<Header> h{{"Accept", "x"}};
  EXPECT_TRUE(vary_matches(r, h));
}

TEST(VaryMatches, VaryStarNeverMatches) {
  CachedResponse r = varying({}, true);
  EXPECT_FALSE(vary_matches(r, {}));
  std::vector<Header> h{{"Accept", "x"}};
  EXPECT_FALSE(vary_matches(r, h));
}

TEST(VaryMatches, ComparesNormalisedValues) {
  CachedResponse r = varying({{"accept-encoding", "gzip, br"}});
  std::vector<Header> one_line{{"Accept-Encoding", "gzip, br"}};
  std::vector<Header> two_lines{
      {"accept-encoding", " gzip "}, {"X", "y"}, {"ACCEPT-ENCODING", "br"}};
  std::vector<Header> other{{"Accept-Encoding", "gzip"}};
  std::vector<Header> longer{{"Accept-Encoding", "gzip, br, zstd"}};
  std::vector<Header> extra_line{{"Accept-Encoding", "gzip, br"}, {"Accept-Encoding", ""}};
  std::vector<Header> inner_space{{"Accept-Encoding", "gzip,  br"}};
  EXPECT_TRUE(vary_matches(r, one_line));
  EXPECT_TRUE(vary_matches(r, two_lines));
  EXPECT_FALSE(vary_matches(r, other));
  EXPECT_FALSE(vary_matches(r, longer));
  EXPECT_FALSE(vary_matches(r, extra_line));
  EXPECT_FALSE(vary_matches(r, inner_space));
  EXPECT_FALSE(vary_matches(r, {}));
}

TEST(VaryMatches, AbsentAndEmptyDiffer) {
  CachedResponse absent = varying({{"cookie", std::nullopt}});
  CachedResponse empty = varying({{"cookie", ""}});
  std::vector<Header> none{{"Accept", "x"}};
  std::vector<Header> blank{{"Cookie", "  "}};
  EXPECT_TRUE(vary_matches(absent, none));
  EXPECT_FALSE(vary_matches(absent, blank));
  EXPECT_TRUE(vary_matches(empty, blank));
  EXPECT_FALSE(vary_matches(empty, none));
}

TEST(VaryMatches, EveryFieldMustMatch) {
  CachedResponse r = varying({{"accept", "a"}, {"accept-language", "en"}});
  std::vector<Header> both{{"Accept-Language", "en"}, {"Accept", "a"}};
  std::vector<Header> one{{"Accept", "a"}};
  std::vector<Header> wrong{{"Accept", "a"}, {"Accept-Language", "fr"}};
  EXPECT_TRUE(vary_matches(r, both));
  EXPECT_FALSE(vary_matches(r, one));
  EXPECT_FALSE(vary_matches(r, wrong));
}

// vary_matches compares in place; it must agree with comparing normalized_field's result.
TEST(VaryMatches, AgreesWithNormalizedField) {
  const std::vector<std::vector<Header>> requests{
      {},
      {{"A", ""}},
      {{"a", "x"}},
      {{"A", " x "}, {"a", "y"}},
      {{"A", "x, y"}},
      {{"A", "x"}, {"A", ""}},
      {{"A", ""}, {"A", "x"}},
      {{"A", "x,"}, {"A", "y"}},
      {{"A", "x"}, {"A", " ,y"}},
  };
  for (const auto& stored_req : requests) {
    CachedResponse r = varying({{"a", normalized_field(stored_req, "a")}});
    for (const auto& req : requests)
      EXPECT_EQ(vary_matches(r, req), normalized_field(req, "a") == r.vary[0].value);
  }
}

TEST(SameVariant, ComparesNamesValuesAndStar) {
  CachedResponse none;
  CachedResponse enc_gzip = varying({{"accept-encoding", "gzip"}});
  CachedResponse enc_gzip2 = varying({{"accept-encoding", "gzip"}});
  CachedResponse enc_br = varying({{"accept-encoding", "br"}});
  CachedResponse enc_absent = varying({{"accept-encoding", std::nullopt}});
  CachedResponse enc_empty = varying({{"accept-encoding", ""}});
  CachedResponse two = varying({{"accept-encoding", "gzip"}, {"accept", "a"}});
  CachedResponse two_swapped = varying({{"accept", "a"}, {"accept-encoding", "gzip"}});
  CachedResponse star = varying({}, true);
  CachedResponse star2 = varying({}, true);
  EXPECT_TRUE(same_variant(none, CachedResponse{}));
  EXPECT_TRUE(same_variant(enc_gzip, enc_gzip2));
  EXPECT_FALSE(same_variant(enc_gzip, enc_br));
  EXPECT_FALSE(same_variant(enc_absent, enc_empty));
  EXPECT_FALSE(same_variant(none, enc_absent));
  EXPECT_FALSE(same_variant(enc_gzip, two));
  EXPECT_FALSE(same_variant(two, two_swapped));  // order as stored
  EXPECT_TRUE(same_variant(star, star2));
  EXPECT_FALSE(same_variant(star, none));
}

TEST(CachedResponseSize, CountsFieldsBodyAndBookkeeping) {
  CachedResponse r;
  const uint64_t base = r.size();
  EXPECT_GE(base, sizeof(CachedResponse));
  r.fields = std::string(100, 'f');
  EXPECT_EQ(r.size(), base + 100);
  r.headers.resize(2);
  EXPECT_GE(r.size(), base + 100 + 2 * sizeof(Header));
  const uint64_t before_body = r.size();
  r.body = std::make_shared<const std::string>(1000, 'b');
  EXPECT_GE(r.size(), before_body + 1000);
  const uint64_t before_vary = r.size();
  r.vary.push_back({"accept", "text/html"});
  EXPECT_GE(r.size(), before_vary + 6 + 9);
}

}  // namespace
}  // namespace portico::cache
