#include "cache/CacheControl.h"

#include <gtest/gtest.h>

#include <vector>

namespace portico::cache {
namespace {

using http::Header;

CacheControl cc(std::string_view value) {
  const std::vector<Header> h = {{"Cache-Control", value}};
  return parse_cache_control(h);
}

CacheControl cc_lines(const std::vector<Header>& h) {
  return parse_cache_control(h);
}

TEST(CacheControl, NothingWithoutTheField) {
  const CacheControl c = cc_lines({{"Pragma", "no-cache"}, {"X-Cache-Control", "no-store"}});
  EXPECT_EQ(c.max_age, CacheControl::kAbsent);
  EXPECT_EQ(c.s_maxage, CacheControl::kAbsent);
  EXPECT_EQ(c.min_fresh, CacheControl::kAbsent);
  EXPECT_EQ(c.max_stale, CacheControl::kAbsent);
  EXPECT_EQ(c.stale_while_revalidate, CacheControl::kAbsent);
  EXPECT_EQ(c.stale_if_error, CacheControl::kAbsent);
  EXPECT_FALSE(c.no_store || c.no_cache || c.private_ || c.public_ || c.must_revalidate ||
               c.proxy_revalidate || c.must_understand || c.no_transform || c.only_if_cached ||
               c.immutable);
}

TEST(CacheControl, EveryBooleanDirective) {
  EXPECT_TRUE(cc("no-store").no_store);
  EXPECT_TRUE(cc("no-cache").no_cache);
  EXPECT_TRUE(cc("private").private_);
  EXPECT_TRUE(cc("public").public_);
  EXPECT_TRUE(cc("must-revalidate").must_revalidate);
  EXPECT_TRUE(cc("proxy-revalidate").proxy_revalidate);
  EXPECT_TRUE(cc("must-understand").must_understand);
  EXPECT_TRUE(cc("no-transform").no_transform);
  EXPECT_TRUE(cc("only-if-cached").only_if_cached);
  EXPECT_TRUE(cc("immutable").immutable);
  // One does not set another.
  const CacheControl c = cc("no-store");
  EXPECT_FALSE(c.no_cache || c.private_ || c.public_ || c.must_revalidate || c.immutable);
}

TEST(CacheControl, EveryDeltaSecondsDirective) {
  const CacheControl c =
      cc("max-age=1, s-maxage=2, min-fresh=3, max-stale=4, stale-while-revalidate=5, "
         "stale-if-error=6");
  EXPECT_EQ(c.max_age, 1);
  EXPECT_EQ(c.s_maxage, 2);
  EXPECT_EQ(c.min_fresh, 3);
  EXPECT_EQ(c.max_stale, 4);
  EXPECT_EQ(c.stale_while_revalidate, 5);
  EXPECT_EQ(c.stale_if_error, 6);
  EXPECT_EQ(cc("max-age=0").max_age, 0);
  EXPECT_EQ(cc("max-age=0000120").max_age, 120);
}

TEST(CacheControl, NamesAreCaseInsensitiveFieldAndDirective) {
  const CacheControl c =
      cc_lines({{"CACHE-CONTROL", "Max-Age=60, NO-STORE"}, {"cache-control", "Public"}});
  EXPECT_EQ(c.max_age, 60);
  EXPECT_TRUE(c.no_store);
  EXPECT_TRUE(c.public_);
  EXPECT_EQ(cc("S-MAXAGE=7").s_maxage, 7);
  EXPECT_EQ(cc("Stale-While-Revalidate=9").stale_while_revalidate, 9);
}

TEST(CacheControl, EveryLineOfTheFieldCounts) {
  const CacheControl c = cc_lines({{"Cache-Control", "public"},
                                   {"Content-Type", "text/plain"},
                                   {"Cache-Control", "max-age=30"},
                                   {"Cache-Control", ""},
                                   {"Cache-Control", "must-revalidate"}});
  EXPECT_TRUE(c.public_);
  EXPECT_EQ(c.max_age, 30);
  EXPECT_TRUE(c.must_revalidate);
}

TEST(CacheControl, WhitespaceAndEmptyElements) {
  const CacheControl c = cc(" ,, \tmax-age=10 ,\tno-cache,,public  ,");
  EXPECT_EQ(c.max_age, 10);
  EXPECT_TRUE(c.no_cache);
  EXPECT_TRUE(c.public_);
  // Space around '=' is outside the grammar but unambiguous.
  EXPECT_EQ(cc("max-age = 5").max_age, 5);
  EXPECT_TRUE(cc("").max_age == CacheControl::kAbsent);
  EXPECT_TRUE(cc(" , , ").max_age == CacheControl::kAbsent);
}

TEST(CacheControl, QuotedArguments) {
  // The quoted form of delta-seconds is not to be sent but means the same.
  EXPECT_EQ(cc("max-age=\"60\"").max_age, 60);
  EXPECT_EQ(cc("s-maxage=\"6\\0\"").s_maxage, 60);
  // A quoted string may hold commas and directive names; they are not directives.
  const CacheControl c = cc("no-cache=\"set-cookie, no-store, max-age=5\", max-age=7");
  EXPECT_TRUE(c.no_cache);
  EXPECT_FALSE(c.no_store);
  EXPECT_EQ(c.max_age, 7);
  // An escaped quote does not end the string.
  const CacheControl e = cc("private=\"a\\\", no-store\", s-maxage=3");
  EXPECT_TRUE(e.private_);
  EXPECT_FALSE(e.no_store);
  EXPECT_EQ(e.s_maxage, 3);
}

TEST(CacheControl, QualifiedNoCacheAndPrivateAreThePlainDirective) {
  EXPECT_TRUE(cc("no-cache=\"set-cookie\"").no_cache);
  EXPECT_TRUE(cc("no-cache=set-cookie").no_cache);
  EXPECT_TRUE(cc("private=\"x, y\"").private_);
  EXPECT_TRUE(cc("private=x").private_);
}

TEST(CacheControl, DeltaSecondsOverflowIsTwoToTheThirtyFirst) {
  EXPECT_EQ(cc("max-age=2147483647").max_age, 2147483647);
  EXPECT_EQ(cc("max-age=2147483648").max_age, 2147483648);
  EXPECT_EQ(cc("max-age=2147483649").max_age, 2147483648);
  EXPECT_EQ(cc("max-age=99999999999999999999999999999999").max_age, 2147483648);
  EXPECT_EQ(cc("s-maxage=18446744073709551616").s_maxage, 2147483648);
  EXPECT_EQ(cc("max-stale=99999999999999999999").max_stale, 2147483648);
  EXPECT_EQ(cc("min-fresh=99999999999999999999").min_fresh, 2147483648);
  EXPECT_EQ(cc("stale-if-error=99999999999999999999").stale_if_error, 2147483648);
}

TEST(CacheControl, InvalidMaxAgeAndSMaxageAreZero) {
  for (const char* v :
       {"max-age", "max-age=", "max-age=-1", "max-age=1.5", "max-age=abc", "max-age=\"\"",
        "max-age=10s", "max-age=\"1 0\"", "max-age=\"10", "max-age=10 20", "max-age=+5"}) {
    EXPECT_EQ(cc(v).max_age, 0) << v;
  }
  EXPECT_EQ(cc("s-maxage=x").s_maxage, 0);
  EXPECT_EQ(cc("s-maxage").s_maxage, 0);
}

TEST(CacheControl, InvalidRequestAndExtensionValuesAreAbsent) {
  EXPECT_EQ(cc("min-fresh=x").min_fresh, CacheControl::kAbsent);
  EXPECT_EQ(cc("min-fresh").min_fresh, CacheControl::kAbsent);
  EXPECT_EQ(cc("max-stale=x").max_stale, CacheControl::kAbsent);
  EXPECT_EQ(cc("stale-while-revalidate").stale_while_revalidate, CacheControl::kAbsent);
  EXPECT_EQ(cc("stale-while-revalidate=-3").stale_while_revalidate, CacheControl::kAbsent);
  EXPECT_EQ(cc("stale-if-error=soon").stale_if_error, CacheControl::kAbsent);
}

TEST(CacheControl, MaxStaleWithoutAValueIsAnyStaleness) {
  EXPECT_EQ(cc("max-stale").max_stale, CacheControl::kAnyStale);
  EXPECT_EQ(cc("max-stale, max-age=5").max_stale, CacheControl::kAnyStale);
  EXPECT_EQ(cc("max-stale=0").max_stale, 0);
  EXPECT_EQ(cc("max-stale=120").max_stale, 120);
  // Trailing junk is not a bare max-stale.
  EXPECT_EQ(cc("max-stale junk").max_stale, CacheControl::kAbsent);
}

TEST(CacheControl, TheFirstOccurrenceWins) {
  EXPECT_EQ(cc("max-age=10, max-age=20").max_age, 10);
  EXPECT_EQ(cc_lines({{"Cache-Control", "s-maxage=1"}, {"Cache-Control", "s-maxage=2"}}).s_maxage,
            1);
  EXPECT_EQ(cc("max-age=x, max-age=20").max_age, 0);
  EXPECT_EQ(cc("max-stale, max-stale=5").max_stale, CacheControl::kAnyStale);
  EXPECT_EQ(cc("max-stale=5, max-stale").max_stale, 5);
  EXPECT_EQ(cc("min-fresh=5, min-fresh=9").min_fresh, 5);
  EXPECT_EQ(cc("stale-while-revalidate=1, stale-while-revalidate=2").stale_while_revalidate, 1);
  EXPECT_EQ(cc("stale-if-error=3, stale-if-error=4").stale_if_error, 3);
}

TEST(CacheControl, UnknownDirectivesAreIgnored) {
  const CacheControl c = cc("foo, bar=baz, qux=\"a,b\", max-age=9, community=\"UCI\"");
  EXPECT_EQ(c.max_age, 9);
  EXPECT_FALSE(c.public_ || c.no_store || c.no_cache);
  // Prefixes and extensions of known names are other names.
  EXPECT_FALSE(cc("no-stores").no_store);
  EXPECT_FALSE(cc("no-stor").no_store);
  EXPECT_EQ(cc("max-ages=5").max_age, CacheControl::kAbsent);
  EXPECT_FALSE(cc("publicity").public_);
}

TEST(CacheControl, MalformedElements) {
  // An element that does not start with a token is skipped, the rest still count.
  EXPECT_EQ(cc("=5, max-age=3").max_age, 3);
  EXPECT_EQ(cc("\"quoted\", max-age=3").max_age, 3);
  EXPECT_EQ(cc("@@@, no-store").no_store, true);
  // Text after a directive: restricting directives still apply, loosening ones do not.
  EXPECT_TRUE(cc("no-store please").no_store);
  EXPECT_FALSE(cc("public please").public_);
  EXPECT_FALSE(cc("public=yes").public_);
  EXPECT_FALSE(cc("immutable=1").immutable);
  EXPECT_TRUE(cc("must-revalidate=1").must_revalidate);
  // An unterminated quote runs to the end of the line, hiding what follows.
  const CacheControl u = cc("foo=\"abc, no-store");
  EXPECT_FALSE(u.no_store);
  const CacheControl v = cc_lines({{"Cache-Control", "foo=\"abc"}, {"Cache-Control", "no-store"}});
  EXPECT_TRUE(v.no_store);
  // A backslash at the very end does not read past the value.
  EXPECT_EQ(cc("max-age=\"1\\").max_age, 0);
}

TEST(CacheControl, TypicalFields) {
  const CacheControl a = cc("public, max-age=31536000, immutable");
  EXPECT_TRUE(a.public_);
  EXPECT_EQ(a.max_age, 31536000);
  EXPECT_TRUE(a.immutable);
  const CacheControl b = cc("private, no-cache, no-store, must-revalidate, max-age=0");
  EXPECT_TRUE(b.private_ && b.no_cache && b.no_store && b.must_revalidate);
  EXPECT_EQ(b.max_age, 0);
  const CacheControl d = cc("max-age=600, stale-while-revalidate=30, stale-if-error=86400");
  EXPECT_EQ(d.max_age, 600);
  EXPECT_EQ(d.stale_while_revalidate, 30);
  EXPECT_EQ(d.stale_if_error, 86400);
  const CacheControl e = cc("no-store, must-understand");
  EXPECT_TRUE(e.no_store && e.must_understand);
}

TEST(Pragma, NoCacheOnAnyLine) {
  EXPECT_TRUE(pragma_no_cache(std::vector<Header>{{"Pragma", "no-cache"}}));
  EXPECT_TRUE(pragma_no_cache(std::vector<Header>{{"pragma", "NO-CACHE"}}));
  EXPECT_TRUE(pragma_no_cache(std::vector<Header>{{"Pragma", "foo, no-cache"}}));
  EXPECT_TRUE(pragma_no_cache(std::vector<Header>{{"Pragma", " x=\"no-cache\" ,no-cache "}}));
  EXPECT_TRUE(pragma_no_cache(
      std::vector<Header>{{"Pragma", "foo"}, {"Host", "a"}, {"Pragma", "no-cache"}}));
}

TEST(Pragma, OnlyTheToken) {
  EXPECT_FALSE(pragma_no_cache(std::vector<Header>{}));
  EXPECT_FALSE(pragma_no_cache(std::vector<Header>{{"Pragma", ""}}));
  EXPECT_FALSE(pragma_no_cache(std::vector<Header>{{"Pragma", "no-cache-please"}}));
  EXPECT_FALSE(pragma_no_cache(std::vector<Header>{{"Pragma", "x=\"no-cache\""}}));
  EXPECT_FALSE(pragma_no_cache(std::vector<Header>{{"Pragma", "no-cache=1"}}));
  EXPECT_FALSE(pragma_no_cache(std::vector<Header>{{"Cache-Control", "no-cache"}}));
  EXPECT_FALSE(pragma_no_cache(std::vector<Header>{{"X-Pragma", "no-cache"}}));
}

}  // namespace
}  // namespace portico::cache
