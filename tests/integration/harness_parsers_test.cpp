// Checks the harness's readers of what the admin API writes (Prometheus text, JSON) on
// texts written here, so that a failure in the admin tests is not a reader bug: valid input
// reads back exactly, and every rule the readers enforce is broken once.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "harness/Json.h"
#include "harness/PrometheusParser.h"

namespace portico::it {
namespace {

constexpr const char* kValidExposition = R"(# A plain comment, then families of every type.
# HELP http_requests_total Requests by code; a backslash \\ and a\nline break.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{ method = "get" , code="400", } 3
# TYPE temperature gauge
temperature -3.5e1
temperature{room="a \"quoted\\\" name\nsecond line"} +Inf
temperature{room="b"} NaN
temperature{room="c"} -Inf
# TYPE latency_seconds histogram
# HELP latency_seconds Latency.
latency_seconds_bucket{path="/",le="0.05"} 24054
latency_seconds_bucket{path="/",le="0.1"} 33444
latency_seconds_bucket{path="/",le="+Inf"} 144320
latency_seconds_sum{path="/"} 53423
latency_seconds_count{path="/"} 144320
latency_seconds_bucket{path="/x",le="1"} 0
latency_seconds_bucket{path="/x",le="+Inf"} 0
latency_seconds_sum{path="/x"} 0
latency_seconds_count{path="/x"} 0

# TYPE rpc_seconds summary
rpc_seconds{quantile="0.5"} 4773
rpc_seconds{quantile="0.99"} 76656
rpc_seconds_sum 1.7560473e+07
rpc_seconds_count 2693
# TYPE plain untyped
plain	12.47
)";

TEST(PrometheusParser, ReadsAValidExpositionExactly) {
  PromExposition m = ParsePrometheusText(kValidExposition);
  EXPECT_TRUE(m.problems.empty()) << m.ProblemsText();
  ASSERT_EQ(m.families.size(), 5u);
  const PromFamily* requests = m.Family("http_requests_total");
  ASSERT_TRUE(requests);
  EXPECT_EQ(requests->type, "counter");
  EXPECT_EQ(requests->help, "Requests by code; a backslash \\ and a\nline break.");
  EXPECT_EQ(m.Family("latency_seconds")->type, "histogram");
  EXPECT_FALSE(m.Family("temperature")->help);

  ASSERT_EQ(m.Find("http_requests_total").size(), 2u);
  const PromSample* first = m.Find("http_requests_total", {{"code", "200"}}).at(0);
  EXPECT_EQ(first->value, 1027);
  EXPECT_EQ(first->timestamp_ms, 1395066363000);
  EXPECT_EQ(first->line, 4u);
  EXPECT_EQ(m.Value("http_requests_total", {{"method", "get"}}), 3);
  EXPECT_FALSE(m.Value("http_requests_total"));  // two match
  EXPECT_EQ(m.Sum("http_requests_total"), 1030);
  EXPECT_EQ(m.Sum("no_such_metric"), 0);

  EXPECT_FALSE(m.Value("temperature"));  // four samples
  std::vector<const PromSample*> quoted =
      m.Find("temperature", {{"room", "a \"quoted\\\" name\nsecond line"}});
  ASSERT_EQ(quoted.size(), 1u);
  EXPECT_TRUE(std::isinf(quoted[0]->value) && quoted[0]->value > 0);
  EXPECT_TRUE(std::isnan(*m.Value("temperature", {{"room", "b"}})));
  EXPECT_EQ(*m.Value("temperature", {{"room", "c"}}), -HUGE_VAL);
  EXPECT_EQ(m.Find("temperature").at(0)->value, -35);
  EXPECT_EQ(m.Value("latency_seconds_bucket", {{"path", "/"}, {"le", "+Inf"}}), 144320);
  EXPECT_EQ(m.Value("rpc_seconds_sum"), 1.7560473e+07);
  EXPECT_EQ(m.Value("plain"), 12.47);
}

// Each text breaks one rule; the parser must say so (in a problem containing `expected`).
struct BrokenCase {
  const char* what;
  std::string text;
  const char* expected;
};

std::vector<BrokenCase> BrokenCases() {
  const std::string counter = "# TYPE c counter\n";
  const std::string hist = "# TYPE h histogram\n";
  return {
      {"no line feed at the end", counter + "c 1", "last line"},
      {"carriage return", counter + "c 1\r\n", "carriage return"},
      {"not UTF-8", counter + "c{a=\"\xff\"} 1\n", "UTF-8"},
      {"metric name with a dash", "# TYPE a-b counter\n", "invalid metric name"},
      {"sample name starting with a digit", counter + "1c 1\n", "metric name"},
      {"label name with a dash", counter + "c{a-b=\"x\"} 1\n", "'=' expected"},
      {"label name starting with a digit", counter + "c{1a=\"x\"} 1\n", "invalid label name"},
      {"reserved label name", counter + "c{__a=\"x\"} 1\n", "reserved"},
      {"unquoted label value", counter + "c{a=x} 1\n", "not quoted"},
      {"invalid escape in a label value", counter + "c{a=\"\\t\"} 1\n", "invalid escape"},
      {"label value not closed", counter + "c{a=\"x} 1\n", "not closed"},
      {"label set not closed", counter + "c{a=\"x\" 1\n", "expected"},
      {"label twice", counter + "c{a=\"x\",a=\"y\"} 1\n", "label a twice"},
      {"invalid escape in HELP", "# HELP c a \\t tab\n" + counter + "c 1\n", "invalid escape"},
      {"no value", counter + "c{a=\"x\"}\n", "without a value"},
      {"invalid value", counter + "c 1.2.3\n", "invalid value"},
      {"hex value", counter + "c 0x10\n", "invalid value"},
      {"invalid timestamp", counter + "c 1 12.5\n", "invalid timestamp"},
      {"text after the timestamp", counter + "c 1 12 13\n", "after the timestamp"},
      {"sample without a family", "c 1\n", "no family"},
      {"sample before its TYPE", "c 1\n" + counter, "after its samples"},
      {"HELP after samples", counter + "c 1\n# HELP c late\n", "after its samples"},
      {"second TYPE", counter + "# TYPE c gauge\nc 1\n", "second TYPE"},
      {"second HELP", "# HELP c one\n# HELP c two\n" + counter + "c 1\n", "second HELP"},
      {"unknown type", "# TYPE c countr\nc 1\n", "unknown type"},
      {"TYPE with extra text", "# TYPE c counter total\nc 1\n", "more than a type"},
      {"same sample twice, labels reordered",
       counter + "c{a=\"1\",b=\"2\"} 1\nc{b=\"2\",a=\"1\"} 2\n", "appears twice"},
      {"negative counter", counter + "c -1\n", "negative"},
      {"families interleaved", counter + "# TYPE g gauge\nc 1\ng 1\n", "not in one group"},
      {"sample names of two families collide", hist + "# TYPE h_count gauge\n",
       "would belong to both"},
      {"histogram sample without a suffix", hist + "h 1\n", "no family"},
      {"bucket without le", hist + "h_bucket 1\nh_sum 0\nh_count 1\n", "without an le"},
      {"le that is no number", hist + "h_bucket{le=\"x\"} 1\nh_sum 0\nh_count 1\n",
       "le is not a number"},
      {"le on _sum", hist + "h_bucket{le=\"+Inf\"} 1\nh_sum{le=\"1\"} 0\nh_count 1\n",
       "le belongs on _bucket"},
      {"buckets not cumulative",
       hist + "h_bucket{le=\"1\"} 5\nh_bucket{le=\"2\"} 3\nh_bucket{le=\"+Inf\"} 5\nh_sum "
              "1\nh_count 5\n",
       "not cumulative"},
      {"buckets out of order but cumulative by le is fine, missing +Inf is not",
       hist + "h_bucket{le=\"2\"} 3\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 3\n", "no +Inf"},
      {"+Inf differs from _count", hist + "h_bucket{le=\"+Inf\"} 4\nh_sum 1\nh_count 5\n",
       "differs from _count"},
      {"no _count", hist + "h_bucket{le=\"+Inf\"} 4\nh_sum 1\n", "no _count"},
      {"no _sum", hist + "h_bucket{le=\"+Inf\"} 4\nh_count 4\n", "no _sum"},
      {"same le twice",
       hist + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"1.0\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum "
              "1\nh_count 1\n",
       "two buckets"},
      {"summary sample without quantile", "# TYPE s summary\ns 1\ns_sum 1\ns_count 1\n",
       "without a quantile"},
  };
}

TEST(PrometheusParser, ReportsEveryBrokenRule) {
  for (const BrokenCase& c : BrokenCases()) {
    PromExposition m = ParsePrometheusText(c.text);
    bool found = false;
    for (const std::string& p : m.problems) found |= p.find(c.expected) != std::string::npos;
    EXPECT_TRUE(found) << c.what << ": no problem mentioning '" << c.expected << "'; got:\n"
                       << m.ProblemsText() << "for:\n"
                       << c.text;
  }
}

TEST(PrometheusParser, ProblemsNameTheirLine) {
  PromExposition m = ParsePrometheusText("# TYPE c counter\nc 1\n\nc{a=\"x\" 2\n");
  ASSERT_EQ(m.problems.size(), 1u) << m.ProblemsText();
  EXPECT_EQ(m.problems[0].rfind("line 4: ", 0), 0u) << m.problems[0];
  EXPECT_EQ(m.samples.size(), 1u);  // the broken line is left out
}

TEST(Json, ReadsNestedValuesAndEscapes) {
  std::string error;
  auto j = ParseJson(
      R"( {"a": [1, -2.5e2, true, false, null, {"b": "x\"\\\/\n\u00e9\ud83d\ude00"}], "c": {}, "d": []} )",
      &error);
  ASSERT_TRUE(j) << error;
  EXPECT_TRUE(j->IsObject());
  EXPECT_EQ(j->keys(), (std::vector<std::string>{"a", "c", "d"}));
  EXPECT_EQ(j->Find("a.0")->Number(), 1);
  EXPECT_EQ(j->Find("a.1")->Number(), -250);
  EXPECT_TRUE(j->Find("a.2")->Bool());
  EXPECT_TRUE(j->Find("a.3")->IsBool());
  EXPECT_TRUE(j->Find("a.4")->IsNull());
  EXPECT_EQ(j->Find("a.5.b")->String(), "x\"\\/\n\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ(j->Find("a.6"), nullptr);
  EXPECT_EQ(j->Find("a.x"), nullptr);
  EXPECT_EQ(j->Find("c.missing"), nullptr);
  EXPECT_EQ(j->Get("d")->size(), 0u);
  auto again = ParseJson(j->Dump(), &error);
  ASSERT_TRUE(again) << error << "\n" << j->Dump();
  EXPECT_EQ(again->Dump(), j->Dump());
}

TEST(Json, RejectsWhatRfc8259Does) {
  for (const char* text :
       {"", "{", "{\"a\":1,}", "[1,]", "{\"a\":1,\"a\":2}", "01", "1.", ".5", "+1", "NaN", "'a'",
        "\"a\tb\"", "\"\\ud83d\"", "\"\\x41\"", "{} {}", "[1 2]", "{\"a\" 1}", "tru", "\"\xff\""}) {
    std::string error;
    EXPECT_FALSE(ParseJson(text, &error)) << "accepted: " << text;
  }
}

}  // namespace
}  // namespace portico::it
