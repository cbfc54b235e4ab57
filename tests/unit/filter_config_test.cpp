// `filters:` in the config: the list's shape, filter names, and the rate_limit filter's
// own keys, each mistake reported with file:line:col and the key path.
#include <gtest/gtest.h>

#include <string>

#include "config/ConfigLoader.h"
#include "filters/rate_limit/RateLimitConfig.h"

namespace portico::config {
namespace {

// The route's filters start at line 7.
std::string with_filters(std::string_view filters) {
  return "listeners:\n"
         "  - name: l\n"
         "    address: 127.0.0.1:8080\n"
         "    routes:\n"
         "      - name: r\n"
         "        respond: { status: 200 }\n"
         "        filters:\n" +
         std::string(filters);
}

std::vector<std::string> errors_of(std::string_view yaml) {
  LoadResult result = load_config_string(yaml, "test.yaml");
  EXPECT_FALSE(result.config.has_value());
  std::vector<std::string> lines;
  for (const ConfigError& e : result.errors) lines.push_back(e.to_string());
  return lines;
}

std::string only_error(std::string_view yaml) {
  auto lines = errors_of(yaml);
  EXPECT_EQ(lines.size(), 1u) << ::testing::PrintToString(lines);
  return lines.empty() ? "" : lines.front();
}

TEST(FilterConfig, ARateLimitLoadsWithItsIdentity) {
  LoadResult r = load_config_string(
      with_filters("          - rate_limit: { key: client_ip, rate: 100/s, burst: 200 }\n"),
      "test.yaml");
  ASSERT_TRUE(r.config) << (r.errors.empty() ? "" : r.errors.front().to_string());
  const Route& route = r.config->listeners[0].routes[0];
  ASSERT_TRUE(route.filters);
  ASSERT_EQ(route.filters->size(), 1u);
  EXPECT_EQ(route.filters->front().name, "rate_limit");
  EXPECT_EQ(route.filters->front().mark.line, 8);
  EXPECT_EQ(route.filters->front().identity,
            "rate_limit {\"burst\":\"200\",\"key\":\"client_ip\",\"rate\":\"100/s\"}");
  EXPECT_TRUE(r.config->listeners[0].filters.empty());
}

TEST(FilterConfig, TheSameSettingsWrittenDifferentlyHaveTheSameIdentity) {
  auto identity = [](std::string_view filter) {
    LoadResult r = load_config_string(with_filters(filter), "test.yaml");
    return r.config ? r.config->listeners[0].routes[0].filters->front().identity : "";
  };
  EXPECT_EQ(identity("          - rate_limit: { key: client_ip,   rate: 100/s }  # note\n"),
            identity("          - rate_limit:\n"
                     "              key: client_ip\n"
                     "              rate: 100/s\n"));
  EXPECT_EQ(
      identity("          - rate_limit: { rate: 100/s, burst: 5, key: [route, client_ip] }\n"),
      identity("          - rate_limit: { key: [route, client_ip], burst: 5, rate: 100/s }\n"));
  EXPECT_NE(identity("          - rate_limit: { key: [route, client_ip], rate: 100/s }\n"),
            identity("          - rate_limit: { key: [client_ip, route], rate: 100/s }\n"));
  EXPECT_NE(identity("          - rate_limit: { rate: 100/s }\n"),
            identity("          - rate_limit: { rate: 101/s }\n"));
}

TEST(FilterConfig, UnknownFilterNamesTheKnownOnes) {
  EXPECT_EQ(only_error(with_filters("          - rate_limiter: { rate: 1/s }\n")),
            "test.yaml:8:13: listeners[0].routes[0].filters[0].rate_limiter: unknown filter "
            "'rate_limiter' (expected one of: rate_limit, circuit_breaker, canary, cache)");
}

TEST(FilterConfig, EachEntryIsAOneKeyMapping) {
  EXPECT_EQ(only_error(with_filters("          - rate_limit: { rate: 1/s }\n"
                                    "            other: 1\n")),
            "test.yaml:8:13: listeners[0].routes[0].filters[0]: each filter is a mapping with one "
            "key, its name (e.g. '- rate_limit: {...}'), got 2 keys");
  EXPECT_EQ(only_error(with_filters("          - rate_limit\n")),
            "test.yaml:8:13: listeners[0].routes[0].filters[0]: expected a mapping, got "
            "'rate_limit'");
}

TEST(FilterConfig, AtMostEightFiltersPerRoute) {
  std::string nine;
  for (int i = 0; i < 9; ++i) nine += "          - rate_limit: { rate: 1/s }\n";
  EXPECT_EQ(only_error(with_filters(nine)),
            "test.yaml:8:11: listeners[0].routes[0].filters: at most 8 filters per route, got 9");
}

TEST(FilterConfig, RateLimitMistakes) {
  EXPECT_EQ(only_error(with_filters("          - rate_limit: { burst: 5 }\n")),
            "test.yaml:8:25: listeners[0].routes[0].filters[0].rate_limit.rate: missing required "
            "key 'rate'");
  EXPECT_EQ(only_error(with_filters("          - rate_limit: { rate: 100/day }\n")),
            "test.yaml:8:33: listeners[0].routes[0].filters[0].rate_limit.rate: unknown rate unit "
            "'day' in '100/day' (expected s, min or h)");
  EXPECT_EQ(only_error(with_filters("          - rate_limit: { rate: fast }\n")),
            "test.yaml:8:33: listeners[0].routes[0].filters[0].rate_limit.rate: expected a rate "
            "such as '100/s' or '6000/min' (a count from 1 to 1000000000, then /s, /min or /h), "
            "got 'fast'");
  EXPECT_EQ(only_error(with_filters("          - rate_limit: { rate: 0/s }\n")),
            "test.yaml:8:33: listeners[0].routes[0].filters[0].rate_limit.rate: expected a rate "
            "such as '100/s' or '6000/min' (a count from 1 to 1000000000, then /s, /min or /h), "
            "got '0/s'");
  EXPECT_EQ(
      only_error(with_filters("          - rate_limit: { rate: 1/s, key: [client_ip, ip] }\n")),
      "test.yaml:8:55: listeners[0].routes[0].filters[0].rate_limit.key[1]: unknown key "
      "'ip' (expected client_ip, route, header:NAME or cookie:NAME)");
  EXPECT_EQ(only_error(with_filters("          - rate_limit: { rate: 1/s, key: \"header:\" }\n")),
            "test.yaml:8:43: listeners[0].routes[0].filters[0].rate_limit.key: 'header:' needs a "
            "name made of token characters, got ''");
  EXPECT_EQ(only_error(with_filters("          - rate_limit: { rate: 1/s, burst: 0 }\n")),
            "test.yaml:8:45: listeners[0].routes[0].filters[0].rate_limit.burst: must be an "
            "integer from 1 to 1000000000, got 0");
  EXPECT_EQ(only_error(with_filters("          - rate_limit: { rate: 1/s, brust: 5 }\n")),
            "test.yaml:8:38: listeners[0].routes[0].filters[0].rate_limit.brust: unknown key "
            "'brust' (expected one of: key, rate, burst, max_keys, response_headers, policy_name, "
            "backend, redis)");
  EXPECT_EQ(only_error(with_filters("          - rate_limit: { rate: 1/s, backend: redis }\n")),
            "test.yaml:8:47: listeners[0].routes[0].filters[0].rate_limit.backend: backend "
            "'redis' needs a 'redis:' section with at least 'address'");
  EXPECT_EQ(only_error(with_filters(
                "          - rate_limit: { rate: 1/s, redis: { address: 127.0.0.1:6379 } }\n")),
            "test.yaml:8:38: listeners[0].routes[0].filters[0].rate_limit.redis: 'redis' needs "
            "'backend: redis'");
  EXPECT_EQ(only_error(with_filters("          - rate_limit: { rate: 1/s, backend: redis, redis: "
                                    "{ address: 127.0.0.1:6379, fail: maybe } }\n")),
            "test.yaml:8:94: listeners[0].routes[0].filters[0].rate_limit.redis.fail: expected "
            "'open' (allow requests while Redis cannot answer) or 'closed' (deny them), got "
            "'maybe'");
}

TEST(FilterConfig, CircuitBreakerMistakes) {
  EXPECT_EQ(only_error(with_filters("          - circuit_breaker: { min_requests: 5 }\n")),
            "test.yaml:8:32: listeners[0].routes[0].filters[0].circuit_breaker.min_requests: "
            "'min_requests' belongs to the error-ratio breaker: add 'failure_ratio'");
  EXPECT_EQ(only_error(with_filters("          - circuit_breaker: { failure_ratio: 1.5 }\n")),
            "test.yaml:8:47: listeners[0].routes[0].filters[0].circuit_breaker.failure_ratio: "
            "must be a ratio greater than 0 and at most 1, such as 0.5, got 1.5");
  EXPECT_EQ(only_error(with_filters(
                "          - circuit_breaker: { failure_ratio: 0.5, failure_on: [5xx, 42] }\n")),
            "test.yaml:8:70: listeners[0].routes[0].filters[0].circuit_breaker.failure_on[1]: "
            "unknown failure '42' (expected 5xx, gateway, a status such as 503, a range such as "
            "500-504, connect_failure, timeout or reset)");
  EXPECT_EQ(only_error(with_filters("          - circuit_breaker: { max_pending: 0 }\n")),
            "test.yaml:8:45: listeners[0].routes[0].filters[0].circuit_breaker.max_pending: must "
            "be an integer from 1 to 10000000, got 0");
  EXPECT_EQ(only_error(with_filters("          - circuit_breaker: { failure_ratio: 0.5, fallback: "
                                    "{ upstream: nowhere } }\n")),
            "test.yaml:8:74: listeners[0].routes[0].filters[0].circuit_breaker.fallback.upstream: "
            "undefined upstream 'nowhere' (no upstreams are defined)");
}

TEST(FilterConfig, EveryMistakeInOneRunIsReported) {
  auto lines =
      errors_of(with_filters("          - rate_limit: { rate: 1/x }\n"
                             "          - nope: {}\n"
                             "          - rate_limit: { rate: 1/s, burst: -1 }\n"));
  EXPECT_EQ(lines.size(), 3u) << ::testing::PrintToString(lines);
}

TEST(FilterConfig, ARateLimitOnTheListenerIsTheDefault) {
  LoadResult r = load_config_string(
      "listeners:\n"
      "  - name: l\n"
      "    address: 127.0.0.1:8080\n"
      "    filters: [ { rate_limit: { rate: 10/min } } ]\n"
      "    routes:\n"
      "      - name: a\n"
      "        respond: { status: 200 }\n"
      "      - name: b\n"
      "        filters: []\n"
      "        respond: { status: 200 }\n",
      "test.yaml");
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->listeners[0].filters.size(), 1u);
  EXPECT_FALSE(r.config->listeners[0].routes[0].filters.has_value());
  ASSERT_TRUE(r.config->listeners[0].routes[1].filters.has_value());
  EXPECT_TRUE(r.config->listeners[0].routes[1].filters->empty());
}

}  // namespace
}  // namespace portico::config
