// The admin API's JSON: commas and nesting placed by the writer, strings escaped so any
// byte sequence a caller hands in comes out as valid JSON text.
#include "admin/JsonWriter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace portico::admin {
namespace {

std::string json_string(std::string_view s) {
  JsonWriter w;
  w.value(s);
  return w.take();
}

TEST(JsonWriter, EmptyContainers) {
  EXPECT_EQ(JsonWriter().begin_object().end_object().str(), "{}");
  EXPECT_EQ(JsonWriter().begin_array().end_array().str(), "[]");
}

TEST(JsonWriter, ObjectMembersAreSeparatedByCommas) {
  JsonWriter w;
  w.begin_object();
  w.key("a");
  w.value(1);
  w.key("b");
  w.value("two");
  w.key("c");
  w.value(true);
  w.end_object();
  EXPECT_EQ(w.str(), R"({"a":1,"b":"two","c":true})");
}

TEST(JsonWriter, NestedContainers) {
  JsonWriter w;
  w.begin_object()
      .key("list")
      .begin_array()
      .value(1)
      .begin_object()
      .end_object()
      .begin_array()
      .value(nullptr)
      .value(false)
      .end_array()
      .end_array()
      .key("inner")
      .begin_object()
      .member("x", -3)
      .end_object()
      .member("after", "end")
      .end_object();
  EXPECT_EQ(w.str(), R"({"list":[1,{},[null,false]],"inner":{"x":-3},"after":"end"})");
}

TEST(JsonWriter, TopLevelScalar) {
  EXPECT_EQ(JsonWriter().value(42).str(), "42");
  EXPECT_EQ(JsonWriter().value(nullptr).str(), "null");
}

TEST(JsonWriter, Integers) {
  JsonWriter w;
  w.begin_array()
      .value(0)
      .value(-1)
      .value(std::numeric_limits<int64_t>::min())
      .value(std::numeric_limits<uint64_t>::max())
      .value(uint16_t{65535})
      .value(size_t{7})
      .end_array();
  EXPECT_EQ(w.str(), "[0,-1,-9223372036854775808,18446744073709551615,65535,7]");
}

TEST(JsonWriter, Doubles) {
  JsonWriter w;
  w.begin_array().value(0.5).value(-2.25).value(1.0).value(0.1).value(1e300).end_array();
  EXPECT_EQ(w.str(), "[0.5,-2.25,1,0.1,1e+300]");
}

TEST(JsonWriter, NonFiniteDoublesAreNull) {
  JsonWriter w;
  w.begin_array()
      .value(std::nan(""))
      .value(std::numeric_limits<double>::infinity())
      .value(-std::numeric_limits<double>::infinity())
      .end_array();
  EXPECT_EQ(w.str(), "[null,null,null]");
}

TEST(JsonWriter, StringLiteralIsAStringNotABool) {
  EXPECT_EQ(JsonWriter().value("text").str(), R"("text")");
  EXPECT_EQ(JsonWriter().value(true).str(), "true");
  EXPECT_EQ(JsonWriter().value(std::string("s")).str(), R"("s")");
}

TEST(JsonWriter, EscapesQuotesAndBackslashes) {
  EXPECT_EQ(json_string(R"(say "hi" \ bye)"), R"("say \"hi\" \\ bye")");
}

TEST(JsonWriter, EscapesControlCharacters) {
  EXPECT_EQ(json_string("a\nb\rc\td\be\ff"), R"("a\nb\rc\td\be\ff")");
  EXPECT_EQ(json_string(std::string_view("\0\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(json_string("\x7f"), "\"\x7f\"") << "DEL needs no escape in JSON";
}

TEST(JsonWriter, NonAsciiPassesThroughAsUtf8) {
  EXPECT_EQ(json_string("gr\xC3\xBC\xC3\x9F \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "\"gr\xC3\xBC\xC3\x9F \xE2\x82\xAC \xF0\x9F\x98\x80\"");
}

TEST(JsonWriter, KeysAreEscapedToo) {
  JsonWriter w;
  w.begin_object().member("a\"b\n", 1).end_object();
  EXPECT_EQ(w.str(), R"({"a\"b\n":1})");
}

TEST(JsonWriter, EveryByteGivesValidText) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  std::string out = json_string(all);
  ASSERT_GE(out.size(), 2u);
  EXPECT_EQ(out.front(), '"');
  EXPECT_EQ(out.back(), '"');
  for (size_t i = 1; i + 1 < out.size(); ++i) {
    auto c = static_cast<unsigned char>(out[i]);
    EXPECT_GE(c, 0x20) << "raw control character at " << i;
    if (c == '"') {
      EXPECT_EQ(out[i - 1], '\\') << "unescaped quote at " << i;
    }
  }
}

TEST(JsonWriter, TakeLeavesTheText) {
  JsonWriter w;
  w.begin_object().member("k", "v").end_object();
  std::string text = w.take();
  EXPECT_EQ(text, R"({"k":"v"})");
}

}  // namespace
}  // namespace portico::admin
