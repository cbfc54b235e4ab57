// The bytes of an HTTP health probe and the statuses that count as healthy.
#include "health/HttpProbe.h"

#include <gtest/gtest.h>

namespace portico::health {
namespace {

config::Endpoint endpoint(std::string host, uint16_t port) {
  config::Endpoint e;
  e.host = std::move(host);
  e.port = port;
  return e;
}

TEST(HttpProbe, DefaultRequest) {
  config::HealthCheck hc;
  EXPECT_EQ(probe_request(hc, endpoint("10.0.0.1", 8080)),
            "GET / HTTP/1.1\r\n"
            "Host: 10.0.0.1:8080\r\n"
            "User-Agent: portico-health-check\r\n"
            "Connection: close\r\n\r\n");
}

TEST(HttpProbe, MethodPathAndHostFromTheCheck) {
  config::HealthCheck hc;
  hc.method = "HEAD";
  hc.path = "/healthz?deep=1";
  hc.host = "api.internal";
  EXPECT_EQ(probe_request(hc, endpoint("10.0.0.1", 8080)),
            "HEAD /healthz?deep=1 HTTP/1.1\r\n"
            "Host: api.internal\r\n"
            "User-Agent: portico-health-check\r\n"
            "Connection: close\r\n\r\n");
}

TEST(HttpProbe, NamedEndpointKeepsItsName) {
  config::HealthCheck hc;
  EXPECT_NE(
      probe_request(hc, endpoint("api.internal", 9000)).find("\r\nHost: api.internal:9000\r\n"),
      std::string::npos);
}

TEST(HttpProbe, Ipv6EndpointGetsBrackets) {
  config::HealthCheck hc;
  EXPECT_NE(probe_request(hc, endpoint("::1", 9000)).find("\r\nHost: [::1]:9000\r\n"),
            std::string::npos);
}

TEST(HttpProbe, StatusRangesAreInclusive) {
  std::vector<std::pair<int, int>> ranges{{200, 299}, {304, 304}};
  EXPECT_TRUE(status_expected(ranges, 200));
  EXPECT_TRUE(status_expected(ranges, 250));
  EXPECT_TRUE(status_expected(ranges, 299));
  EXPECT_TRUE(status_expected(ranges, 304));
  EXPECT_FALSE(status_expected(ranges, 199));
  EXPECT_FALSE(status_expected(ranges, 300));
  EXPECT_FALSE(status_expected(ranges, 303));
  EXPECT_FALSE(status_expected(ranges, 305));
  EXPECT_FALSE(status_expected(ranges, 500));
}

TEST(HttpProbe, DefaultExpectationIs200To399) {
  config::HealthCheck hc;
  EXPECT_TRUE(status_expected(hc.expected_statuses, 200));
  EXPECT_TRUE(status_expected(hc.expected_statuses, 399));
  EXPECT_FALSE(status_expected(hc.expected_statuses, 400));
  EXPECT_FALSE(status_expected(hc.expected_statuses, 503));
  EXPECT_FALSE(status_expected({}, 200)) << "no ranges: nothing is healthy";
}

}  // namespace
}  // namespace portico::health
