#include "stats/PrometheusText.h"

#include <gtest/gtest.h>

#include "stats/Counter.h"
#include "stats/WorkerStats.h"

namespace portico::stats {
namespace {

TEST(PrometheusText, FamiliesAndSamplesInTheExpositionFormat) {
  PrometheusText t;
  t.family("portico_x_total", "counter", "Things.");
  t.sample("portico_x_total", {{"route", "api"}, {"code", "2xx"}}, uint64_t(7));
  t.sample("portico_x_total", {}, uint64_t(0));
  EXPECT_EQ(t.text(),
            "# HELP portico_x_total Things.\n"
            "# TYPE portico_x_total counter\n"
            "portico_x_total{route=\"api\",code=\"2xx\"} 7\n"
            "portico_x_total 0\n");
}

TEST(PrometheusText, LabelValuesAreEscaped) {
  PrometheusText t;
  t.sample("m", {{"v", "a\"b\\c\nd"}}, uint64_t(1));
  EXPECT_EQ(t.text(), "m{v=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(PrometheusText, HistogramBucketsAreCumulativeInSeconds) {
  constexpr std::array<uint64_t, 3> kBounds{1'000, 5'000, 250'000};
  Histogram<3> h(kBounds);
  h.record(500);        // <= 1ms
  h.record(1'000);      // <= 1ms (bounds are inclusive)
  h.record(4'000);      // <= 5ms
  h.record(9'000'000);  // +Inf
  PrometheusText t;
  t.histogram("d", {{"route", "r"}}, h);
  EXPECT_EQ(t.text(),
            "d_bucket{route=\"r\",le=\"0.001\"} 2\n"
            "d_bucket{route=\"r\",le=\"0.005\"} 3\n"
            "d_bucket{route=\"r\",le=\"0.25\"} 3\n"
            "d_bucket{route=\"r\",le=\"+Inf\"} 4\n"
            "d_sum{route=\"r\"} 9.0055\n"
            "d_count{route=\"r\"} 4\n");
}

TEST(WorkerStats, EntriesAreKeptByNameSoAReloadContinuesThem) {
  WorkerStats s;
  RouteStats& a = s.route("public", "api");
  a.record(204, 10);
  a.record(503, 10);
  EXPECT_EQ(&s.route("public", "api"), &a);
  EXPECT_NE(&s.route("public", "web"), &a);
  EXPECT_NE(&s.route("admin", "api"), &a);
  EXPECT_EQ(a.responses[1].value(), 1u);
  EXPECT_EQ(a.responses[4].value(), 1u);
  size_t n = 0;
  s.each_route([&](const std::string&, const std::string&, const RouteStats&) { ++n; });
  EXPECT_EQ(n, 3u);
}

TEST(Counter, GaugesGoUpAndDown) {
  Counter c;
  c.add();
  c.add(3);
  c.sub();
  EXPECT_EQ(c.value(), 3u);
}

}  // namespace
}  // namespace portico::stats
