#include "http/TraceContext.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "http/ConnectionTokens.h"
#include "http/HeadWriter.h"

namespace portico::http {
namespace {

constexpr std::string_view kTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr std::string_view kParentId = "00f067aa0ba902b7";
const std::string kValid = "00-" + std::string(kTraceId) + "-" + std::string(kParentId) + "-01";

bool valid(std::string_view v) {
  IncomingTraceparent tp;
  return parse_traceparent(v, tp);
}

// Checks the shape of a traceparent Portico writes: version 00, lower-case hex, no zero ids.
void expect_well_formed(std::string_view tp) {
  ASSERT_EQ(tp.size(), kTraceparentSize) << tp;
  EXPECT_EQ(tp.substr(0, 3), "00-") << tp;
  EXPECT_EQ(tp[35], '-') << tp;
  EXPECT_EQ(tp[52], '-') << tp;
  for (size_t i : {3, 36, 53}) {
    size_t n = i == 3 ? 32 : i == 36 ? 16 : 2;
    for (size_t k = i; k < i + n; ++k)
      EXPECT_TRUE((tp[k] >= '0' && tp[k] <= '9') || (tp[k] >= 'a' && tp[k] <= 'f'))
          << tp << " at " << k;
  }
  EXPECT_NE(tp.substr(3, 32), std::string(32, '0')) << tp;
  EXPECT_NE(tp.substr(36, 16), std::string(16, '0')) << tp;
  IncomingTraceparent back;
  EXPECT_TRUE(parse_traceparent(tp, back)) << tp;
}

std::string written(const IncomingTraceparent* parent, RandomIdBits& ids) {
  Traceparent out;
  return std::string(write_traceparent(out, parent, ids));
}

// ---- parsing --------------------------------------------------------------------------

TEST(TraceparentParse, ValidVersion00) {
  IncomingTraceparent tp;
  ASSERT_TRUE(parse_traceparent(kValid, tp));
  EXPECT_EQ(tp.trace_id, kTraceId);
  EXPECT_EQ(tp.parent_id, kParentId);
  EXPECT_EQ(tp.flags, 0x01);
}

TEST(TraceparentParse, FlagsAsReceived) {
  for (auto [text, value] : std::vector<std::pair<std::string, int>>{
           {"00", 0x00}, {"01", 0x01}, {"02", 0x02}, {"03", 0x03}, {"09", 0x09}, {"ff", 0xff}}) {
    IncomingTraceparent tp;
    std::string v = kValid.substr(0, 53) + text;
    ASSERT_TRUE(parse_traceparent(v, tp)) << v;
    EXPECT_EQ(tp.flags, value) << v;
  }
}

TEST(TraceparentParse, SurroundingWhitespaceIgnored) {
  EXPECT_TRUE(valid(" " + kValid));
  EXPECT_TRUE(valid(kValid + " \t"));
  EXPECT_FALSE(valid(kValid.substr(0, 10) + " " + kValid.substr(11)));
}

TEST(TraceparentParse, UpperCaseHexIsInvalid) {
  std::string upper_trace = kValid;
  upper_trace[3] = 'A';  // "4" -> "A"
  EXPECT_FALSE(valid(upper_trace));
  std::string upper_parent = kValid;
  upper_parent[40] = 'F';
  EXPECT_FALSE(valid(upper_parent));
  EXPECT_FALSE(valid(kValid.substr(0, 53) + "0A"));
  EXPECT_FALSE(valid("0A" + kValid.substr(2)));
}

TEST(TraceparentParse, NonHexIsInvalid) {
  for (size_t at : {0, 1, 3, 20, 34, 36, 51, 53, 54}) {
    std::string v = kValid;
    v[at] = 'g';
    EXPECT_FALSE(valid(v)) << v;
  }
}

TEST(TraceparentParse, WrongLengthsAreInvalid) {
  EXPECT_FALSE(valid(""));
  EXPECT_FALSE(valid("00"));
  EXPECT_FALSE(valid(kValid.substr(0, 54)));  // one flag digit
  EXPECT_FALSE(valid(kValid + "0"));          // version 00 is exactly 55 characters
  EXPECT_FALSE(valid(kValid + "-"));
  EXPECT_FALSE(valid(kValid + "-extra"));  // version 00 has no further fields
  // A field one character short or long, the total length kept.
  EXPECT_FALSE(
      valid("00-" + std::string(kTraceId.substr(1)) + "-0" + std::string(kParentId) + "-01"));
  EXPECT_FALSE(
      valid("00-" + std::string(kTraceId) + "0-" + std::string(kParentId.substr(1)) + "-01"));
  EXPECT_FALSE(valid("00-" + std::string(kTraceId) + "-" + std::string(kParentId) + "0-1"));
  // Separators in the wrong places.
  std::string v = kValid;
  v[2] = '_';
  EXPECT_FALSE(valid(v));
  v = kValid;
  v[35] = '.';
  EXPECT_FALSE(valid(v));
  v = kValid;
  v[52] = ' ';
  EXPECT_FALSE(valid(v));
  // Two values in one line.
  EXPECT_FALSE(valid(kValid + "," + kValid));
}

TEST(TraceparentParse, ZeroIdsAreInvalid) {
  EXPECT_FALSE(valid("00-" + std::string(32, '0') + "-" + std::string(kParentId) + "-01"));
  EXPECT_FALSE(valid("00-" + std::string(kTraceId) + "-" + std::string(16, '0') + "-01"));
  // One non-zero digit anywhere is enough.
  EXPECT_TRUE(valid("00-" + std::string(31, '0') + "1-" + std::string(kParentId) + "-01"));
  EXPECT_TRUE(valid("00-" + std::string(kTraceId) + "-1" + std::string(15, '0') + "-01"));
}

TEST(TraceparentParse, VersionFfIsInvalid) {
  EXPECT_FALSE(valid("ff" + kValid.substr(2)));
  EXPECT_FALSE(valid("ff" + kValid.substr(2) + "-extra"));
}

TEST(TraceparentParse, FutureVersionReadByItsFirstFourFields) {
  IncomingTraceparent tp;
  // Exactly the version-00 length.
  // (IncomingTraceparent holds views: the values must outlive it.)
  const std::string same_length = "01" + kValid.substr(2);
  ASSERT_TRUE(parse_traceparent(same_length, tp));
  EXPECT_EQ(tp.trace_id, kTraceId);
  EXPECT_EQ(tp.parent_id, kParentId);
  EXPECT_EQ(tp.flags, 0x01);
  // More fields after a '-'.
  const std::string longer = "cc" + kValid.substr(2, 50) + "-09-what-ever";
  ASSERT_TRUE(parse_traceparent(longer, tp));
  EXPECT_EQ(tp.trace_id, kTraceId);
  EXPECT_EQ(tp.flags, 0x09);
  EXPECT_TRUE(valid("fe" + kValid.substr(2) + "-"));
  // Too short, or the flags not followed by '-'.
  EXPECT_FALSE(valid("01" + kValid.substr(2, 52)));
  EXPECT_FALSE(valid("01" + kValid.substr(2) + "0"));
  EXPECT_FALSE(valid("01" + kValid.substr(2) + "x-y"));
  // The first fields are still checked.
  EXPECT_FALSE(valid("01-" + std::string(32, '0') + "-" + std::string(kParentId) + "-01-x"));
  std::string upper = "01" + kValid.substr(2) + "-x";
  upper[10] = 'B';
  EXPECT_FALSE(valid(upper));
}

// ---- writing --------------------------------------------------------------------------

TEST(TraceparentWrite, ContinuesTheTraceWithANewParentId) {
  RandomIdBits ids;
  IncomingTraceparent in;
  ASSERT_TRUE(parse_traceparent(kValid, in));
  std::set<std::string> parents;
  for (int i = 0; i < 100; ++i) {
    std::string out = written(&in, ids);
    expect_well_formed(out);
    EXPECT_EQ(out.substr(3, 32), kTraceId);
    EXPECT_NE(out.substr(36, 16), kParentId);
    EXPECT_EQ(out.substr(53), "01");
    parents.insert(out.substr(36, 16));
  }
  EXPECT_EQ(parents.size(), 100u) << "parent ids must be random, not repeated";
}

TEST(TraceparentWrite, KeepsSampledAndRandomFlagsClearsReservedOnes) {
  RandomIdBits ids;
  for (auto [in_flags, out_flags] :
       std::vector<std::pair<std::string, std::string>>{{"00", "00"},
                                                        {"01", "01"},
                                                        {"02", "02"},
                                                        {"03", "03"},
                                                        {"ff", "03"},
                                                        {"fc", "00"},
                                                        {"05", "01"}}) {
    IncomingTraceparent in;
    const std::string value = kValid.substr(0, 53) + in_flags;
    ASSERT_TRUE(parse_traceparent(value, in));
    std::string out = written(&in, ids);
    expect_well_formed(out);
    EXPECT_EQ(out.substr(53), out_flags) << "incoming flags " << in_flags;
  }
}

TEST(TraceparentWrite, FutureVersionIsSentAsVersion00) {
  RandomIdBits ids;
  IncomingTraceparent in;
  const std::string value = "42" + kValid.substr(2) + "-more";
  ASSERT_TRUE(parse_traceparent(value, in));
  std::string out = written(&in, ids);
  expect_well_formed(out);
  EXPECT_EQ(out.substr(0, 35), "00-" + std::string(kTraceId));
}

TEST(TraceparentWrite, NewTraceIsRandomAndSampled) {
  RandomIdBits ids;
  std::set<std::string> traces, parents;
  for (int i = 0; i < 1000; ++i) {
    std::string out = written(nullptr, ids);
    expect_well_formed(out);
    EXPECT_EQ(out.substr(53), "01");
    traces.insert(out.substr(3, 32));
    parents.insert(out.substr(36, 16));
  }
  EXPECT_EQ(traces.size(), 1000u);
  EXPECT_EQ(parents.size(), 1000u);
}

TEST(TraceparentWrite, GeneratorsAreSeededIndependently) {
  // Two workers' generators must not produce the same sequence.
  RandomIdBits a, b;
  EXPECT_NE(written(nullptr, a), written(nullptr, b));
}

TEST(TraceparentWrite, TraceIdOf) {
  RandomIdBits ids;
  IncomingTraceparent in;
  ASSERT_TRUE(parse_traceparent(kValid, in));
  Traceparent out;
  write_traceparent(out, &in, ids);
  EXPECT_EQ(trace_id_of(out), kTraceId);
}

// ---- the upstream head ------------------------------------------------------------------

std::string upstream_head(std::string_view traceparent, bool drop_tracestate,
                          const std::vector<Header>& headers) {
  UpstreamRequest req;
  req.method = "GET";
  req.target = "/";
  req.host = "b";
  req.client_ip = "192.0.2.1";
  req.traceparent = traceparent;
  req.drop_tracestate = drop_tracestate;
  ConnectionTokens conn;
  conn.parse(headers);
  std::string out;
  write_upstream_request_head(out, req, headers, conn);
  return out;
}

const std::string kOurs =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01";  // what Portico writes

TEST(TraceparentHead, AddedWhenTheClientSentNone) {
  EXPECT_EQ(upstream_head(kOurs, true, {{"Host", "h"}, {"X-A", "1"}}),
            "GET / HTTP/1.1\r\n"
            "Host: b\r\n"
            "X-A: 1\r\n"
            "X-Forwarded-For: 192.0.2.1\r\n"
            "X-Forwarded-Proto: http\r\n"
            "traceparent: " +
                kOurs + "\r\n\r\n");
}

TEST(TraceparentHead, ClientsReplacedAndTracestateKept) {
  EXPECT_EQ(upstream_head(kOurs, false,
                          {{"Host", "h"},
                           {"traceparent", kValid},
                           {"tracestate", "congo=t61rcWkgMzE"},
                           {"X-A", "1"},
                           {"TraceState", "rojo=00f067aa0ba902b7"}}),
            "GET / HTTP/1.1\r\n"
            "Host: b\r\n"
            "tracestate: congo=t61rcWkgMzE\r\n"
            "X-A: 1\r\n"
            "TraceState: rojo=00f067aa0ba902b7\r\n"
            "X-Forwarded-For: 192.0.2.1\r\n"
            "X-Forwarded-Proto: http\r\n"
            "traceparent: " +
                kOurs + "\r\n\r\n");
}

TEST(TraceparentHead, ExactlyOneEvenWhenTheClientSentSeveral) {
  std::string out = upstream_head(kOurs, true,
                                  {{"Host", "h"},
                                   {"TRACEPARENT", kValid},
                                   {"tracestate", "congo=t61rcWkgMzE"},
                                   {"Traceparent", "00-bad"},
                                   {"X-A", "1"}});
  EXPECT_EQ(out,
            "GET / HTTP/1.1\r\n"
            "Host: b\r\n"
            "X-A: 1\r\n"
            "X-Forwarded-For: 192.0.2.1\r\n"
            "X-Forwarded-Proto: http\r\n"
            "traceparent: " +
                kOurs + "\r\n\r\n");
}

TEST(TraceparentHead, NoneGivenLeavesTheClientsFieldsAlone) {
  std::string out =
      upstream_head("", true, {{"Host", "h"}, {"traceparent", kValid}, {"tracestate", "a=b"}});
  EXPECT_EQ(out,
            "GET / HTTP/1.1\r\n"
            "Host: b\r\n"
            "traceparent: " +
                kValid +
                "\r\n"
                "tracestate: a=b\r\n"
                "X-Forwarded-For: 192.0.2.1\r\n"
                "X-Forwarded-Proto: http\r\n\r\n");
}

}  // namespace
}  // namespace portico::http
