#include "cache/Validators.h"

#include <gtest/gtest.h>

namespace portico::cache {
namespace {

constexpr int64_t kRfcExample = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

TEST(Etag, ValidForms) {
  EXPECT_TRUE(valid_etag("\"xyzzy\""));
  EXPECT_TRUE(valid_etag("W/\"xyzzy\""));
  EXPECT_TRUE(valid_etag("\"\""));
  EXPECT_TRUE(valid_etag("W/\"\""));
  EXPECT_TRUE(valid_etag("\"a,b!#~/\""));
}

TEST(Etag, InvalidForms) {
  for (const char* bad :
       {"", "xyzzy", "\"xyzzy", "xyzzy\"", "w/\"xyzzy\"", "W/xyzzy", "W/", "W\"x\"", "\"x\"y",
        "\"x\" ", " \"x\"", "\"x\"\"y\"", "\"a\"b\"", "*", "W/W/\"x\""}) {
    EXPECT_FALSE(valid_etag(bad)) << bad;
  }
  // Control characters and DEL are outside etagc; obs-text is inside.
  EXPECT_FALSE(valid_etag("\"a\x01\""));
  EXPECT_FALSE(valid_etag("\"a\x7f\""));
  EXPECT_FALSE(valid_etag("\"a\tb\""));
  EXPECT_TRUE(valid_etag("\"caf\xc3\xa9\""));
}

TEST(Etag, SpaceIsNotAnEtagCharacter) {
  // etagc is %x21 / %x23-7E / obs-text: no SP, but a comma.
  EXPECT_FALSE(valid_etag("\"a b\""));
  EXPECT_TRUE(valid_etag("\"a,b\""));
}

TEST(Etag, StrongAndWeakComparison) {
  // The table of RFC 9110 §8.8.3.2.
  EXPECT_FALSE(strong_match("W/\"1\"", "W/\"1\""));
  EXPECT_TRUE(weak_match("W/\"1\"", "W/\"1\""));
  EXPECT_FALSE(strong_match("W/\"1\"", "W/\"2\""));
  EXPECT_FALSE(weak_match("W/\"1\"", "W/\"2\""));
  EXPECT_FALSE(strong_match("W/\"1\"", "\"1\""));
  EXPECT_TRUE(weak_match("W/\"1\"", "\"1\""));
  EXPECT_TRUE(strong_match("\"1\"", "\"1\""));
  EXPECT_TRUE(weak_match("\"1\"", "\"1\""));
}

TEST(Etag, ComparisonIsExactAndNeedsValidTags) {
  EXPECT_FALSE(strong_match("\"a\"", "\"A\""));
  EXPECT_FALSE(weak_match("\"a\"", "\"A\""));
  EXPECT_FALSE(weak_match("", ""));
  EXPECT_FALSE(strong_match("x", "x"));
  EXPECT_FALSE(weak_match("x", "x"));
  EXPECT_FALSE(weak_match("\"a\"", ""));
  EXPECT_FALSE(weak_match("w/\"a\"", "\"a\""));
}

TEST(NoneMatch, StarMatchesAnyStoredResponse) {
  EXPECT_TRUE(none_match("*", "\"a\""));
  EXPECT_TRUE(none_match(" * ", "W/\"a\""));
  EXPECT_TRUE(none_match("*", ""));
  // "*" inside a list is not the "*" form.
  EXPECT_FALSE(none_match("\"b\", *", "\"a\""));
}

TEST(NoneMatch, ListsUseWeakComparison) {
  EXPECT_TRUE(none_match("\"a\"", "\"a\""));
  EXPECT_TRUE(none_match("W/\"a\"", "\"a\""));
  EXPECT_TRUE(none_match("\"a\"", "W/\"a\""));
  EXPECT_TRUE(none_match("\"x\", \"y\" ,W/\"a\"", "\"a\""));
  EXPECT_TRUE(none_match("\"x\",\"a\"", "\"a\""));
  EXPECT_FALSE(none_match("\"x\", \"y\"", "\"a\""));
  EXPECT_FALSE(none_match("\"A\"", "\"a\""));
}

TEST(NoneMatch, CommasInsideTags) {
  EXPECT_TRUE(none_match("\"a,b\"", "\"a,b\""));
  EXPECT_FALSE(none_match("\"a,b\"", "\"a\""));
  EXPECT_FALSE(none_match("\"a,b\"", "\"b\""));
  EXPECT_TRUE(none_match("\"x\", \"a,b\"", "W/\"a,b\""));
}

TEST(NoneMatch, MalformedEntriesAreIgnored) {
  EXPECT_TRUE(none_match("junk, \"a\"", "\"a\""));
  EXPECT_TRUE(none_match("\"b\"junk, \"a\"", "\"a\""));
  EXPECT_TRUE(none_match("w/\"z\", ,, \"a\"", "\"a\""));
  EXPECT_FALSE(none_match("a", "\"a\""));
  EXPECT_FALSE(none_match("\"a", "\"a\""));
  EXPECT_FALSE(none_match("\"a\" x", "\"a\""));
  EXPECT_FALSE(none_match("", "\"a\""));
  EXPECT_FALSE(none_match(" , ", "\"a\""));
}

TEST(NoneMatch, NoStoredTagMatchesOnlyStar) {
  EXPECT_FALSE(none_match("\"a\"", ""));
  EXPECT_FALSE(none_match("\"\"", ""));
  EXPECT_FALSE(none_match("W/\"\"", ""));
}

TEST(Conditional, NoConditionalHeaders) {
  EXPECT_EQ(evaluate_conditional(std::nullopt, std::nullopt, {"\"a\"", kRfcExample, kRfcExample}),
            Precondition::None);
}

TEST(Conditional, IfNoneMatchDecides) {
  const StoredValidators s{"\"a\"", kRfcExample, kRfcExample + 10};
  EXPECT_EQ(evaluate_conditional("\"a\"", std::nullopt, s), Precondition::NotModified);
  EXPECT_EQ(evaluate_conditional("W/\"a\"", std::nullopt, s), Precondition::NotModified);
  EXPECT_EQ(evaluate_conditional("\"b\"", std::nullopt, s), Precondition::Modified);
  EXPECT_EQ(evaluate_conditional("*", std::nullopt, s), Precondition::NotModified);
  // An empty or unusable If-None-Match still takes the place of If-Modified-Since.
  EXPECT_EQ(evaluate_conditional("", std::nullopt, s), Precondition::Modified);
}

TEST(Conditional, IfNoneMatchOverridesIfModifiedSince) {
  const StoredValidators s{"\"a\"", kRfcExample, kRfcExample};
  // The date alone would say not modified; the tag says otherwise.
  EXPECT_EQ(evaluate_conditional("\"b\"", "Sun, 06 Nov 1994 08:49:37 GMT", s),
            Precondition::Modified);
  // The date alone would say modified; the tag matches.
  EXPECT_EQ(evaluate_conditional("\"a\"", "Thu, 01 Jan 1970 00:00:00 GMT", s),
            Precondition::NotModified);
}

TEST(Conditional, IfModifiedSinceAgainstLastModified) {
  const StoredValidators s{"", kRfcExample, kRfcExample + 3600};
  EXPECT_EQ(evaluate_conditional(std::nullopt, "Sun, 06 Nov 1994 08:49:37 GMT", s),
            Precondition::NotModified);  // equal: not modified
  EXPECT_EQ(evaluate_conditional(std::nullopt, "Sun, 06 Nov 1994 08:49:38 GMT", s),
            Precondition::NotModified);
  EXPECT_EQ(evaluate_conditional(std::nullopt, "Sun, 06 Nov 1994 08:49:36 GMT", s),
            Precondition::Modified);
  // Every date form.
  EXPECT_EQ(evaluate_conditional(std::nullopt, "Sunday, 06-Nov-94 08:49:37 GMT", s),
            Precondition::NotModified);
  EXPECT_EQ(evaluate_conditional(std::nullopt, "Sun Nov  6 08:49:36 1994", s),
            Precondition::Modified);
}

TEST(Conditional, IfModifiedSinceFallsBackToDate) {
  const StoredValidators s{"", std::nullopt, kRfcExample};
  EXPECT_EQ(evaluate_conditional(std::nullopt, "Sun, 06 Nov 1994 08:49:37 GMT", s),
            Precondition::NotModified);
  EXPECT_EQ(evaluate_conditional(std::nullopt, "Sun, 06 Nov 1994 08:49:36 GMT", s),
            Precondition::Modified);
}

TEST(Conditional, IfModifiedSinceWithoutAnyStoredDateIsNotEvaluated) {
  const StoredValidators s{"\"a\"", std::nullopt, std::nullopt};
  EXPECT_EQ(evaluate_conditional(std::nullopt, "Sun, 06 Nov 1994 08:49:37 GMT", s),
            Precondition::None);
}

TEST(Conditional, AnInvalidIfModifiedSinceIsIgnored) {
  const StoredValidators s{"", kRfcExample, kRfcExample};
  for (const char* bad : {"", "yesterday", "0", "Sun, 06 Nov 1994 08:49:37 GMT, Mon",
                          "Sun, 31 Nov 1994 08:49:37 GMT"}) {
    EXPECT_EQ(evaluate_conditional(std::nullopt, bad, s), Precondition::None) << bad;
  }
}

}  // namespace
}  // namespace portico::cache
