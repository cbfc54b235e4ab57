// The upstream pool keys (balancers, hash keys, timeouts, limits, health checks, outlier
// detection, retries) and the parsers they use. The older upstream keys (name, endpoints,
// keepalive) are covered in config_loader_test.cpp.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/ConfigLoader.h"
#include "config/ValueParsers.h"
#include "upstream/Balancer.h"

namespace portico::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

std::vector<std::string> lines_of(const std::vector<ConfigError>& list) {
  std::vector<std::string> lines;
  for (const ConfigError& e : list) lines.push_back(e.to_string());
  return lines;
}

// Lines 1-7: a listener whose one route proxies to `u`; line 8 `upstreams:`, line 9
// `  - name: u`; `body` starts at line 10 and is indented by 4 spaces.
std::string with_upstream(std::string_view body) {
  return R"(listeners:
  - name: l
    address: 127.0.0.1:8080
    routes:
      - name: r
        upstream: u

upstreams:
  - name: u
)" + std::string(body);
}

LoadResult load(std::string_view yaml) {
  return load_config_string(yaml, "test.yaml");
}

// The one error a config produces, as `portico --validate` prints it.
std::string only_error(std::string_view yaml) {
  LoadResult result = load(yaml);
  EXPECT_FALSE(result.config.has_value());
  EXPECT_EQ(result.errors.size(), 1u) << ::testing::PrintToString(lines_of(result.errors));
  return result.errors.empty() ? "" : result.errors.front().to_string();
}

std::string upstream_error(std::string_view body) {
  return only_error(with_upstream(body));
}

const Upstream& loaded_upstream(const LoadResult& result) {
  EXPECT_TRUE(result.errors.empty()) << ::testing::PrintToString(lines_of(result.errors));
  static const Upstream kNone;
  if (!result.config || result.config->upstreams.empty()) return kNone;
  return result.config->upstreams.front();
}

uint16_t port_of(const SocketAddress& a) {
  if (a.storage.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&a.storage)->sin_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&a.storage)->sin6_port);
}

// ---- parse_percent ----

TEST(ParsePercent, WithOrWithoutTheSign) {
  EXPECT_EQ(*parse_percent("10%"), 10u);
  EXPECT_EQ(*parse_percent("10"), 10u);
  EXPECT_EQ(*parse_percent("0"), 0u);
  EXPECT_EQ(*parse_percent("0%"), 0u);
  EXPECT_EQ(*parse_percent("100%"), 100u);
  EXPECT_EQ(*parse_percent("007%"), 7u);
  // No upper bound here: each key checks its own range and says so.
  EXPECT_EQ(*parse_percent("250%"), 250u);
  EXPECT_EQ(*parse_percent("4294967295"), 4294967295u);
}

TEST(ParsePercent, RejectsGarbage) {
  for (const char* text : {"", "%", "abc", "10 %", " 10%", "10% ", "%10", "10%%", "+5", "1e2",
                           "0x10", "ten%", "10.%", ".5%"}) {
    auto r = parse_percent(text);
    EXPECT_FALSE(r) << "accepted '" << text << "'";
    EXPECT_FALSE(r.error.empty()) << text;
  }
  EXPECT_EQ(parse_percent("").error, "empty percentage (expected e.g. '10%')");
  EXPECT_EQ(parse_percent("abc").error,
            "'abc' is not a valid percentage: expected a whole number, optionally followed by "
            "'%', e.g. '10%'");
}

TEST(ParsePercent, NegativeFractionalAndHuge) {
  EXPECT_EQ(parse_percent("-5%").error,
            "'-5%' is not a valid percentage: percentages cannot be negative");
  EXPECT_EQ(parse_percent("12.5%").error,
            "'12.5%' is not a valid percentage: percentages are whole numbers");
  EXPECT_EQ(parse_percent("4294967296%").error,
            "'4294967296%' is not a valid percentage: too large");
  EXPECT_FALSE(parse_percent("99999999999999999999999"));
}

// ---- parse_host_port / parse_endpoint_address ----

TEST(ParseHostPort, SplitsWithoutResolving) {
  auto v4 = parse_host_port("10.0.0.1:8080");
  ASSERT_TRUE(v4) << v4.error;
  EXPECT_EQ(v4->host, "10.0.0.1");
  EXPECT_EQ(v4->port, 8080);
  EXPECT_FALSE(v4->bracketed);

  auto v6 = parse_host_port("[2001:db8::1]:443");
  ASSERT_TRUE(v6) << v6.error;
  EXPECT_EQ(v6->host, "2001:db8::1");  // without the brackets
  EXPECT_EQ(v6->port, 443);
  EXPECT_TRUE(v6->bracketed);

  auto name = parse_host_port("no-such-host.invalid:80");
  ASSERT_TRUE(name) << name.error;
  EXPECT_EQ(name->host, "no-such-host.invalid");

  EXPECT_EQ(parse_host_port("api.internal").error,
            "'api.internal' is not a valid address: missing ':PORT'");
  EXPECT_EQ(parse_host_port("api:0").error,
            "'api:0' is not a valid address: port must be a number from 1 to 65535");
}

TEST(ParseEndpointAddress, LiteralsNeedNoResolver) {
  auto v4 = parse_endpoint_address("127.0.0.1:9001");
  ASSERT_TRUE(v4) << v4.error;
  EXPECT_EQ(v4->address.text, "127.0.0.1:9001");
  EXPECT_EQ(v4->address.length, sizeof(sockaddr_in));
  EXPECT_EQ(port_of(v4->address), 9001);
  EXPECT_TRUE(v4->resolve_error.empty());

  auto v6 = parse_endpoint_address("[::1]:9002");
  ASSERT_TRUE(v6) << v6.error;
  EXPECT_EQ(v6->host_port.host, "::1");
  EXPECT_EQ(v6->address.length, sizeof(sockaddr_in6));
  EXPECT_EQ(port_of(v6->address), 9002);
}

TEST(ParseEndpointAddress, UnresolvableNameIsNotAFailure) {
  // .invalid is reserved (RFC 2606) and never resolves.
  auto r = parse_endpoint_address("no-such-host.invalid:80");
  ASSERT_TRUE(r) << r.error;
  EXPECT_EQ(r->address.length, 0u);
  EXPECT_EQ(r->address.text, "no-such-host.invalid:80");
  EXPECT_EQ(r->host_port.host, "no-such-host.invalid");
  EXPECT_EQ(r->host_port.port, 80);
  EXPECT_EQ(r->resolve_error.rfind("cannot resolve 'no-such-host.invalid': ", 0), 0u)
      << r->resolve_error;

  auto local = parse_endpoint_address("localhost:9000");
  ASSERT_TRUE(local) << local.error;
  EXPECT_TRUE(local->resolve_error.empty()) << local->resolve_error;
  EXPECT_GT(local->address.length, 0u);
  EXPECT_EQ(port_of(local->address), 9000);
}

TEST(ParseEndpointAddress, MalformedHostsAreStillErrors) {
  // These could never resolve; a warning would let a typo through.
  for (const char* text : {"10.0.0.256:80", "127.1:80", "api .internal:80", "api..internal:80",
                           ".api:80", "api/v1:80", "a%b:80", "[nonsense]:80", "[127.0.0.1]:80"}) {
    auto r = parse_endpoint_address(text);
    EXPECT_FALSE(r) << "accepted '" << text << "'";
  }
  EXPECT_EQ(parse_endpoint_address("10.0.0.256:80").error,
            "'10.0.0.256:80' is not a valid address: '10.0.0.256' is not a valid IPv4 address");
  EXPECT_EQ(parse_endpoint_address("api .internal:80").error,
            "'api .internal:80' is not a valid address: 'api .internal' is not a valid host name "
            "(letters, digits, '-' and '_' in labels of 1 to 63 characters separated by '.')");
  EXPECT_FALSE(parse_endpoint_address(std::string(64, 'a') + ".internal:80"));
  EXPECT_TRUE(parse_endpoint_address(std::string(63, 'a') + ".invalid:80"));
  // A fully qualified name's trailing dot is fine.
  EXPECT_TRUE(parse_endpoint_address("no-such-host.invalid.:80"));
}

TEST(ConfigError, WarningFormat) {
  ConfigError w{"a.yaml", 3, 7, "upstreams[0].endpoints[1]", "cannot resolve 'x'", true};
  EXPECT_EQ(w.to_string(), "a.yaml:3:7: upstreams[0].endpoints[1]: warning: cannot resolve 'x'");
}

// ---- the whole block ----

TEST(ConfigUpstream, FullBlockRoundTrips) {
  LoadResult result = load(with_upstream(R"(    balance: ring_hash
    hash_key: header:X-User-Id
    endpoints: [ 127.0.0.1:9001, { address: "[::1]:9002", weight: 3 }, localhost:9003 ]
    timeouts: { connect: 250ms, response: 20s, per_try: 5s, total: 1m, queue: 2s }
    keepalive: { max_idle: 16, idle_timeout: 30s }
    limits: { max_connections: 100, max_pending: 1000 }
    panic_threshold: 50%
    dns_refresh: 45s
    health_check:
      type: http
      method: head
      path: /healthz?full=1
      host: api.internal
      expect: [200-299, 304, "418"]
      interval: 2s
      jitter: 20%
      timeout: 1500ms
      healthy: 4
      unhealthy: 5
    outlier: { consecutive_5xx: 7, consecutive_gateway_failures: 0, base_ejection_time: 10s, max_ejection_time: 2m, max_ejection_percent: 25% }
    retries: { attempts: 3, on: [connect_failure, timeout, 503, "504"], budget: 30, min_retry_concurrency: 5 }
)"));
  ASSERT_TRUE(result.config.has_value()) << ::testing::PrintToString(lines_of(result.errors));
  EXPECT_TRUE(result.warnings.empty()) << ::testing::PrintToString(lines_of(result.warnings));
  const Upstream& u = loaded_upstream(result);
  EXPECT_EQ(u.name, "u");
  EXPECT_EQ(u.balance, "ring_hash");
  EXPECT_EQ(u.hash_key.kind, HashKey::Kind::Header);
  EXPECT_EQ(u.hash_key.name, "x-user-id");  // header names are stored lower-cased

  ASSERT_EQ(u.endpoints.size(), 3u);
  EXPECT_EQ(u.endpoints[0].host, "127.0.0.1");
  EXPECT_EQ(u.endpoints[0].port, 9001);
  EXPECT_EQ(u.endpoints[0].weight, 1u);
  EXPECT_EQ(u.endpoints[0].address.storage.ss_family, AF_INET);
  EXPECT_EQ(u.endpoints[1].host, "::1");
  EXPECT_EQ(u.endpoints[1].port, 9002);
  EXPECT_EQ(u.endpoints[1].weight, 3u);
  EXPECT_EQ(u.endpoints[1].address.text, "[::1]:9002");
  EXPECT_EQ(u.endpoints[1].address.storage.ss_family, AF_INET6);
  EXPECT_EQ(u.endpoints[2].host, "localhost");
  EXPECT_EQ(u.endpoints[2].port, 9003);
  EXPECT_GT(u.endpoints[2].address.length, 0u);
  EXPECT_EQ(port_of(u.endpoints[2].address), 9003);

  EXPECT_EQ(u.connect_timeout, milliseconds(250));
  EXPECT_EQ(u.response_timeout, seconds(20));
  EXPECT_EQ(u.per_try_timeout, seconds(5));
  EXPECT_EQ(u.total_timeout, minutes(1));
  EXPECT_EQ(u.queue_timeout, seconds(2));
  EXPECT_EQ(u.max_idle, 16u);
  EXPECT_EQ(u.idle_timeout, seconds(30));
  EXPECT_EQ(u.max_connections, 100u);
  EXPECT_EQ(u.max_pending, 1000u);
  EXPECT_EQ(u.panic_threshold, 50u);
  EXPECT_EQ(u.dns_refresh, seconds(45));

  const HealthCheck& hc = u.health_check;
  EXPECT_TRUE(hc.enabled);
  EXPECT_EQ(hc.type, HealthCheck::Type::Http);
  EXPECT_EQ(hc.method, "HEAD");
  EXPECT_EQ(hc.path, "/healthz?full=1");
  EXPECT_EQ(hc.host, "api.internal");
  EXPECT_EQ(hc.expected_statuses,
            (std::vector<std::pair<int, int>>{{200, 299}, {304, 304}, {418, 418}}));
  EXPECT_EQ(hc.interval, seconds(2));
  EXPECT_DOUBLE_EQ(hc.jitter, 0.2);
  EXPECT_EQ(hc.timeout, milliseconds(1500));
  EXPECT_EQ(hc.healthy_threshold, 4u);
  EXPECT_EQ(hc.unhealthy_threshold, 5u);

  const Outlier& o = u.outlier;
  EXPECT_TRUE(o.enabled);
  EXPECT_EQ(o.consecutive_5xx, 7u);
  EXPECT_EQ(o.consecutive_gateway_failures, 0u);
  EXPECT_EQ(o.base_ejection_time, seconds(10));
  EXPECT_EQ(o.max_ejection_time, minutes(2));
  EXPECT_EQ(o.max_ejection_percent, 25u);

  const Retries& r = u.retries;
  EXPECT_EQ(r.attempts, 3u);
  EXPECT_EQ(r.on, Retries::kConnectFailure | Retries::kTimeout | Retries::k503 | Retries::k504);
  EXPECT_EQ(r.budget_percent, 30u);
  EXPECT_EQ(r.min_retry_concurrency, 5u);
}

TEST(ConfigUpstream, DefaultsWhenAbsent) {
  LoadResult result = load(with_upstream("    endpoints: [ 127.0.0.1:9000 ]\n"));
  ASSERT_TRUE(result.config.has_value()) << ::testing::PrintToString(lines_of(result.errors));
  const Upstream& u = loaded_upstream(result);
  EXPECT_EQ(u.balance, "round_robin");
  EXPECT_EQ(u.hash_key.kind, HashKey::Kind::None);
  EXPECT_EQ(u.endpoints.at(0).host, "127.0.0.1");
  EXPECT_EQ(u.endpoints.at(0).port, 9000);
  EXPECT_EQ(u.connect_timeout, seconds(1));
  EXPECT_EQ(u.response_timeout, seconds(15));
  EXPECT_EQ(u.per_try_timeout, milliseconds(0));
  EXPECT_EQ(u.total_timeout, milliseconds(0));
  EXPECT_EQ(u.queue_timeout, seconds(1));
  EXPECT_EQ(u.max_idle, 100000u);
  EXPECT_EQ(u.idle_timeout, seconds(60));
  EXPECT_EQ(u.max_connections, 0u);
  EXPECT_EQ(u.max_pending, 1024u);
  EXPECT_EQ(u.panic_threshold, 0u);
  EXPECT_EQ(u.dns_refresh, seconds(30));

  EXPECT_FALSE(u.health_check.enabled);
  EXPECT_FALSE(u.outlier.enabled);
  EXPECT_EQ(u.retries.attempts, 1u);
  EXPECT_EQ(u.retries.on, Retries::kConnectFailure | Retries::kReset);
  EXPECT_EQ(u.retries.budget_percent, 20u);
  EXPECT_EQ(u.retries.min_retry_concurrency, 3u);
}

TEST(ConfigUpstream, EmptyMappingsEnableWithDefaults) {
  LoadResult result = load(with_upstream(R"(    endpoints: [ 127.0.0.1:9000 ]
    health_check: {}
    outlier: {}
    retries: {}
    limits: {}
    timeouts: {}
)"));
  ASSERT_TRUE(result.config.has_value()) << ::testing::PrintToString(lines_of(result.errors));
  const Upstream& u = loaded_upstream(result);
  const HealthCheck& hc = u.health_check;
  EXPECT_TRUE(hc.enabled);
  EXPECT_EQ(hc.type, HealthCheck::Type::Http);
  EXPECT_EQ(hc.method, "GET");
  EXPECT_EQ(hc.path, "/");
  EXPECT_EQ(hc.host, "");
  EXPECT_EQ(hc.expected_statuses, (std::vector<std::pair<int, int>>{{200, 399}}));
  EXPECT_EQ(hc.interval, seconds(5));
  EXPECT_DOUBLE_EQ(hc.jitter, 0.1);
  EXPECT_EQ(hc.timeout, seconds(1));
  EXPECT_EQ(hc.healthy_threshold, 2u);
  EXPECT_EQ(hc.unhealthy_threshold, 3u);

  const Outlier& o = u.outlier;
  EXPECT_TRUE(o.enabled);
  EXPECT_EQ(o.consecutive_5xx, 5u);
  EXPECT_EQ(o.consecutive_gateway_failures, 5u);
  EXPECT_EQ(o.base_ejection_time, seconds(30));
  EXPECT_EQ(o.max_ejection_time, minutes(5));
  EXPECT_EQ(o.max_ejection_percent, 10u);
  EXPECT_EQ(u.retries.attempts, 1u);
}

TEST(ConfigUpstream, EveryBalancerIsAccepted) {
  for (const char* balance :
       {"round_robin", "weighted_round_robin", "least_request", "p2c", "random"}) {
    LoadResult result = load(with_upstream("    balance: " + std::string(balance) +
                                           "\n    endpoints: [ 127.0.0.1:9000 ]\n"));
    EXPECT_EQ(loaded_upstream(result).balance, balance);
  }
  for (const char* balance : {"ring_hash", "maglev"}) {
    LoadResult result = load(with_upstream("    balance: " + std::string(balance) +
                                           "\n    hash_key: client_ip\n"
                                           "    endpoints: [ 127.0.0.1:9000 ]\n"));
    EXPECT_EQ(loaded_upstream(result).balance, balance);
    EXPECT_EQ(loaded_upstream(result).hash_key.kind, HashKey::Kind::ClientIp);
  }
}

// The loader keeps its own list (config does not depend on upstream/); this keeps the two
// from drifting apart: every kind the runtime builds is accepted, with a hash_key exactly
// when the runtime hashes.
TEST(ConfigUpstream, BalancersMatchTheRuntime) {
  for (std::string_view kind : upstream::balancer_kinds()) {
    const std::string hash = upstream::balancer_uses_hash(kind) ? "    hash_key: path\n" : "";
    LoadResult result = load(with_upstream("    balance: " + std::string(kind) + "\n" + hash +
                                           "    endpoints: [ 127.0.0.1:9000 ]\n"));
    EXPECT_EQ(loaded_upstream(result).balance, kind);
  }
  EXPECT_EQ(upstream::balancer_kinds().size(), 7u);
}

TEST(ConfigUpstream, HashKeyForms) {
  auto key_of = [](const std::string& text) {
    LoadResult result = load(with_upstream("    balance: maglev\n    hash_key: " + text +
                                           "\n    endpoints: [ 127.0.0.1:9000 ]\n"));
    return loaded_upstream(result).hash_key;
  };
  EXPECT_EQ(key_of("client_ip").kind, HashKey::Kind::ClientIp);
  EXPECT_EQ(key_of("path").kind, HashKey::Kind::Path);
  HashKey header = key_of("header:x-user-id");
  EXPECT_EQ(header.kind, HashKey::Kind::Header);
  EXPECT_EQ(header.name, "x-user-id");
  HashKey cookie = key_of("cookie:SessionId");
  EXPECT_EQ(cookie.kind, HashKey::Kind::Cookie);
  EXPECT_EQ(cookie.name, "SessionId");  // cookie names are case-sensitive
}

// ---- validation: each rule, with its position and key path ----

TEST(ConfigUpstream, UnknownKeysInsideTheNewMappings) {
  EXPECT_EQ(upstream_error(
                "    endpoints: [ 127.0.0.1:1 ]\n    health_check: { path: /, intervl: 2s }\n"),
            "test.yaml:11:30: upstreams[0].health_check.intervl: unknown key 'intervl' (expected "
            "one of: type, method, path, host, expect, interval, jitter, timeout, healthy, "
            "unhealthy)");
  EXPECT_EQ(
      upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    outlier: { eject_for: 30s }\n"),
      "test.yaml:11:16: upstreams[0].outlier.eject_for: unknown key 'eject_for' (expected one "
      "of: consecutive_5xx, consecutive_gateway_failures, base_ejection_time, "
      "max_ejection_time, max_ejection_percent)");
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    retries: { tries: 2 }\n"),
            "test.yaml:11:16: upstreams[0].retries.tries: unknown key 'tries' (expected one of: "
            "attempts, on, budget, min_retry_concurrency)");
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    timeouts: { idle: 60s }\n"),
            "test.yaml:11:17: upstreams[0].timeouts.idle: unknown key 'idle' (expected one of: "
            "connect, response, per_try, total, queue)");
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    limits: { max_requests: 5 }\n"),
            "test.yaml:11:15: upstreams[0].limits.max_requests: unknown key 'max_requests' "
            "(expected one of: max_connections, max_pending)");
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    circuit_breaker: {}\n"),
            "test.yaml:11:5: upstreams[0].circuit_breaker: unknown key 'circuit_breaker' "
            "(expected one of: name, balance, hash_key, endpoints, timeouts, keepalive, limits, "
            "panic_threshold, dns_refresh, health_check, outlier, retries, tls)");
}

TEST(ConfigUpstream, HashKeyRequiredForConsistentHashing) {
  EXPECT_EQ(upstream_error("    balance: ring_hash\n    endpoints: [ 127.0.0.1:1 ]\n"),
            "test.yaml:9:5: upstreams[0].hash_key: missing required key 'hash_key' (balance "
            "'ring_hash' needs one: header:NAME, cookie:NAME, client_ip or path)");
  EXPECT_EQ(upstream_error("    balance: maglev\n    endpoints: [ 127.0.0.1:1 ]\n"),
            "test.yaml:9:5: upstreams[0].hash_key: missing required key 'hash_key' (balance "
            "'maglev' needs one: header:NAME, cookie:NAME, client_ip or path)");
}

TEST(ConfigUpstream, HashKeyRefusedForOtherBalancers) {
  EXPECT_EQ(upstream_error("    balance: round_robin\n    hash_key: client_ip\n"
                           "    endpoints: [ 127.0.0.1:1 ]\n"),
            "test.yaml:11:5: upstreams[0].hash_key: 'hash_key' applies only to balance ring_hash "
            "or maglev, not 'round_robin'");
  // The default balance counts too.
  EXPECT_EQ(upstream_error("    hash_key: path\n    endpoints: [ 127.0.0.1:1 ]\n"),
            "test.yaml:10:5: upstreams[0].hash_key: 'hash_key' applies only to balance ring_hash "
            "or maglev, not 'round_robin'");
  // With an unknown balance only that is reported: either hash_key answer could be wrong.
  EXPECT_EQ(upstream_error("    balance: sticky\n    hash_key: path\n"
                           "    endpoints: [ 127.0.0.1:1 ]\n"),
            "test.yaml:10:14: upstreams[0].balance: unknown balance 'sticky' (expected one of: "
            "round_robin, weighted_round_robin, least_request, p2c, random, ring_hash, maglev)");
}

TEST(ConfigUpstream, BadHashKeyForms) {
  auto hash_error = [](const std::string& text) {
    return upstream_error("    balance: ring_hash\n    hash_key: " + text +
                          "\n    endpoints: [ 127.0.0.1:1 ]\n");
  };
  EXPECT_EQ(hash_error("user"),
            "test.yaml:11:15: upstreams[0].hash_key: invalid hash_key 'user' (expected "
            "header:NAME, cookie:NAME, client_ip or path)");
  EXPECT_EQ(hash_error("Header:x-user"),
            "test.yaml:11:15: upstreams[0].hash_key: invalid hash_key 'Header:x-user' (expected "
            "header:NAME, cookie:NAME, client_ip or path)");
  EXPECT_EQ(hash_error("\"header:\""),
            "test.yaml:11:15: upstreams[0].hash_key: hash_key 'header:' needs a header name, e.g. "
            "'header:x-user-id'");
  EXPECT_EQ(hash_error("\"cookie:\""),
            "test.yaml:11:15: upstreams[0].hash_key: hash_key 'cookie:' needs a cookie name, e.g. "
            "'cookie:x-user-id'");
  EXPECT_EQ(hash_error("\"header:x user\""),
            "test.yaml:11:15: upstreams[0].hash_key: invalid header name 'x user' in hash_key");
  EXPECT_EQ(hash_error("[client_ip]"),
            "test.yaml:11:15: upstreams[0].hash_key: expected a string, got a list");
}

TEST(ConfigUpstream, PerTryTimeout) {
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n"
                           "    timeouts: { response: 10s, per_try: 11s }\n"),
            "test.yaml:11:41: upstreams[0].timeouts.per_try: must not be longer than the response "
            "timeout (10s), got 11s");
  // Against the default response timeout.
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    timeouts: { per_try: 1m }\n"),
            "test.yaml:11:26: upstreams[0].timeouts.per_try: must not be longer than the response "
            "timeout (15s), got 1m");
  // Equal is fine, and 0 means "the same as response".
  LoadResult equal =
      load(with_upstream("    endpoints: [ 127.0.0.1:1 ]\n"
                         "    timeouts: { response: 10s, per_try: 10s }\n"));
  EXPECT_EQ(loaded_upstream(equal).per_try_timeout, seconds(10));
  LoadResult zero =
      load(with_upstream("    endpoints: [ 127.0.0.1:1 ]\n    timeouts: { per_try: 0 }\n"));
  EXPECT_EQ(loaded_upstream(zero).per_try_timeout, milliseconds(0));
  // A broken response timeout is reported alone, not compared with.
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n"
                           "    timeouts: { response: 0, per_try: 20s }\n"),
            "test.yaml:11:27: upstreams[0].timeouts.response: must be greater than 0");
}

TEST(ConfigUpstream, QueueTimeoutFollowsConnectUnlessSet) {
  LoadResult follows =
      load(with_upstream("    endpoints: [ 127.0.0.1:1 ]\n    timeouts: { connect: 300ms }\n"));
  EXPECT_EQ(loaded_upstream(follows).queue_timeout, milliseconds(300));
  LoadResult own = load(with_upstream(
      "    endpoints: [ 127.0.0.1:1 ]\n    timeouts: { connect: 300ms, queue: 5s }\n"));
  EXPECT_EQ(loaded_upstream(own).queue_timeout, seconds(5));
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    timeouts: { queue: 0 }\n"),
            "test.yaml:11:24: upstreams[0].timeouts.queue: must be greater than 0");
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    timeouts: { totl: 1s }\n"),
            "test.yaml:11:17: upstreams[0].timeouts.totl: unknown key 'totl' (expected one of: "
            "connect, response, per_try, total, queue)");
}

TEST(ConfigUpstream, ExpectedStatuses) {
  auto expect_error = [](const std::string& expect) {
    return upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    health_check: { expect: " + expect +
                          " }\n");
  };
  EXPECT_EQ(expect_error("[200, 299-200]"),
            "test.yaml:11:35: upstreams[0].health_check.expect[1]: range '299-200' is backwards "
            "(write the lower status first)");
  EXPECT_EQ(expect_error("[200-600]"),
            "test.yaml:11:30: upstreams[0].health_check.expect[0]: status codes are from 100 to "
            "599, got 600");
  EXPECT_EQ(expect_error("[99]"),
            "test.yaml:11:30: upstreams[0].health_check.expect[0]: status codes are from 100 to "
            "599, got 99");
  EXPECT_EQ(expect_error("[2xx]"),
            "test.yaml:11:30: upstreams[0].health_check.expect[0]: expected a status such as 200 "
            "or a range such as 200-299, got '2xx'");
  EXPECT_EQ(expect_error("[200-]"),
            "test.yaml:11:30: upstreams[0].health_check.expect[0]: expected a status such as 200 "
            "or a range such as 200-299, got '200-'");
  EXPECT_EQ(expect_error("[]"),
            "test.yaml:11:29: upstreams[0].health_check.expect: must not be empty");
  EXPECT_EQ(expect_error("{ a: 1 }"),
            "test.yaml:11:29: upstreams[0].health_check.expect: expected a status, a range such "
            "as 200-299, or a list of them, got a mapping");
  // A single status without the list.
  LoadResult one =
      load(with_upstream("    endpoints: [ 127.0.0.1:1 ]\n    health_check: { expect: 204 }\n"));
  EXPECT_EQ(loaded_upstream(one).health_check.expected_statuses,
            (std::vector<std::pair<int, int>>{{204, 204}}));
}

TEST(ConfigUpstream, HealthCheckTimeoutBelowInterval) {
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n"
                           "    health_check: { interval: 2s, timeout: 2s }\n"),
            "test.yaml:11:44: upstreams[0].health_check.timeout: must be shorter than the interval "
            "(2s), got 2s");
  // Against the default interval (5s).
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    health_check: { timeout: 6s }\n"),
            "test.yaml:11:30: upstreams[0].health_check.timeout: must be shorter than the interval "
            "(5s), got 6s");
  // A short interval against the default timeout (1s) names the interval, which is what the
  // user wrote.
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n"
                           "    health_check: { interval: 500ms }\n"),
            "test.yaml:11:31: upstreams[0].health_check.interval: must be longer than the timeout "
            "(1s by default; set a shorter timeout), got 500ms");
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    health_check: { interval: 0 }\n"),
            "test.yaml:11:31: upstreams[0].health_check.interval: must be greater than 0");
}

TEST(ConfigUpstream, TcpHealthCheckRefusesHttpKeys) {
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n"
                           "    health_check: { type: tcp, path: /healthz }\n"),
            "test.yaml:11:32: upstreams[0].health_check.path: 'path' applies only to http health "
            "checks (this one is type tcp)");
  LoadResult result =
      load(with_upstream("    endpoints: [ 127.0.0.1:1 ]\n"
                         "    health_check:\n"
                         "      type: tcp\n"
                         "      method: GET\n"
                         "      host: a\n"
                         "      expect: [200]\n"));
  EXPECT_EQ(lines_of(result.errors),
            (std::vector<std::string>{
                "test.yaml:13:7: upstreams[0].health_check.method: 'method' applies only to http "
                "health checks (this one is type tcp)",
                "test.yaml:14:7: upstreams[0].health_check.host: 'host' applies only to http "
                "health checks (this one is type tcp)",
                "test.yaml:15:7: upstreams[0].health_check.expect: 'expect' applies only to http "
                "health checks (this one is type tcp)",
            }));
  LoadResult ok =
      load(with_upstream("    endpoints: [ 127.0.0.1:1 ]\n"
                         "    health_check: { type: tcp, interval: 3s }\n"));
  EXPECT_EQ(loaded_upstream(ok).health_check.type, HealthCheck::Type::Tcp);
  EXPECT_EQ(loaded_upstream(ok).health_check.interval, seconds(3));
}

TEST(ConfigUpstream, OtherHealthCheckValues) {
  auto hc_error = [](const std::string& inner) {
    return upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    health_check: { " + inner + " }\n");
  };
  EXPECT_EQ(hc_error("type: grpc"),
            "test.yaml:11:27: upstreams[0].health_check.type: unknown health check type 'grpc' "
            "(expected http or tcp)");
  EXPECT_EQ(hc_error("path: healthz"),
            "test.yaml:11:27: upstreams[0].health_check.path: must start with '/', got 'healthz'");
  EXPECT_EQ(hc_error("path: \"/a b\""),
            "test.yaml:11:27: upstreams[0].health_check.path: must not contain spaces or control "
            "characters");
  EXPECT_EQ(hc_error("method: \"G T\""),
            "test.yaml:11:29: upstreams[0].health_check.method: invalid HTTP method 'G T'");
  EXPECT_EQ(hc_error("healthy: 0"),
            "test.yaml:11:30: upstreams[0].health_check.healthy: must be an integer from 1 to 100, "
            "got 0");
  EXPECT_EQ(hc_error("unhealthy: 101"),
            "test.yaml:11:32: upstreams[0].health_check.unhealthy: must be an integer from 1 to "
            "100, got 101");
  EXPECT_EQ(hc_error("jitter: 60%"),
            "test.yaml:11:29: upstreams[0].health_check.jitter: must be a percentage from 0% to "
            "50%, got 60%");
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    health_check:\n"),
            "test.yaml:11:5: upstreams[0].health_check: expected a mapping, got nothing (null)");
}

TEST(ConfigUpstream, OutlierValues) {
  auto outlier_error = [](const std::string& inner) {
    return upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    outlier: { " + inner + " }\n");
  };
  EXPECT_EQ(outlier_error("consecutive_5xx: 1001"),
            "test.yaml:11:33: upstreams[0].outlier.consecutive_5xx: must be an integer from 0 to "
            "1000, got 1001");
  EXPECT_EQ(outlier_error("base_ejection_time: 10m"),
            "test.yaml:11:36: upstreams[0].outlier.base_ejection_time: must not be longer than "
            "max_ejection_time (5m), got 10m");
  EXPECT_EQ(outlier_error("max_ejection_time: 10s"),
            "test.yaml:11:35: upstreams[0].outlier.max_ejection_time: must not be shorter than "
            "base_ejection_time (30s), got 10s");
  EXPECT_EQ(outlier_error("max_ejection_percent: 101%"),
            "test.yaml:11:38: upstreams[0].outlier.max_ejection_percent: must be a percentage from "
            "0% to 100%, got 101%");
}

TEST(ConfigUpstream, RetryConditions) {
  // Each bad item is reported; 500 is not retried (the server answered).
  LoadResult both =
      load(with_upstream("    endpoints: [ 127.0.0.1:1 ]\n"
                         "    retries: { attempts: 2, on: [reset, 500, refused] }\n"));
  EXPECT_FALSE(both.config.has_value());
  EXPECT_EQ(lines_of(both.errors),
            (std::vector<std::string>{
                "test.yaml:11:41: upstreams[0].retries.on[1]: unknown retry condition '500' "
                "(expected one of: connect_failure, reset, timeout, 502, 503, 504)",
                "test.yaml:11:46: upstreams[0].retries.on[2]: unknown retry condition 'refused' "
                "(expected one of: connect_failure, reset, timeout, 502, 503, 504)",
            }));
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    retries: { on: [] }\n"),
            "test.yaml:11:20: upstreams[0].retries.on: must not be empty");
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    retries: { on: reset }\n"),
            "test.yaml:11:20: upstreams[0].retries.on: expected a list, got 'reset'");
}

TEST(ConfigUpstream, RetryAttemptsAndBudget) {
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    retries: { attempts: 0 }\n"),
            "test.yaml:11:26: upstreams[0].retries.attempts: must be an integer from 1 to 10, got "
            "0");
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    retries: { attempts: 11 }\n"),
            "test.yaml:11:26: upstreams[0].retries.attempts: must be an integer from 1 to 10, got "
            "11");
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    retries: { budget: 120% }\n"),
            "test.yaml:11:24: upstreams[0].retries.budget: must be a percentage from 0% to 100%, "
            "got 120%");
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    retries: { budget: -5% }\n"),
            "test.yaml:11:24: upstreams[0].retries.budget: '-5%' is not a valid percentage: "
            "percentages cannot be negative");
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    retries: { budget: 2.5% }\n"),
            "test.yaml:11:24: upstreams[0].retries.budget: '2.5%' is not a valid percentage: "
            "percentages are whole numbers");
}

TEST(ConfigUpstream, PoolLevelValues) {
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    panic_threshold: 101\n"),
            "test.yaml:11:22: upstreams[0].panic_threshold: must be a percentage from 0% to 100%, "
            "got 101");
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    panic_threshold: [50]\n"),
            "test.yaml:11:22: upstreams[0].panic_threshold: expected a percentage from 0% to "
            "100%, got a list");
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    dns_refresh: 0\n"),
            "test.yaml:11:18: upstreams[0].dns_refresh: must be greater than 0");
  EXPECT_EQ(upstream_error("    endpoints: [ 127.0.0.1:1 ]\n    limits: { max_connections: -1 }\n"),
            "test.yaml:11:32: upstreams[0].limits.max_connections: must be an integer from 0 to "
            "1000000, got -1");
  LoadResult panic =
      load(with_upstream("    endpoints: [ 127.0.0.1:1 ]\n    panic_threshold: 30\n"));
  EXPECT_EQ(loaded_upstream(panic).panic_threshold, 30u);
}

// ---- names that do not resolve: warnings (issue 3) ----

TEST(ConfigUpstream, UnresolvableNameIsAWarning) {
  LoadResult result = load(with_upstream(R"(    endpoints:
      - 127.0.0.1:9001
      - { address: no-such-host.invalid:8080, weight: 2 }
)"));
  ASSERT_TRUE(result.config.has_value()) << ::testing::PrintToString(lines_of(result.errors));
  EXPECT_TRUE(result.errors.empty());
  ASSERT_EQ(result.warnings.size(), 1u);
  const ConfigError& w = result.warnings[0];
  EXPECT_TRUE(w.warning);
  EXPECT_EQ(w.file, "test.yaml");
  EXPECT_EQ(w.line, 12);
  EXPECT_EQ(w.column, 20);
  EXPECT_EQ(w.key, "upstreams[0].endpoints[1].address");
  EXPECT_EQ(w.message.rfind("cannot resolve 'no-such-host.invalid': ", 0), 0u) << w.message;
  EXPECT_NE(w.message.find("(the endpoint gets no traffic until the name resolves)"),
            std::string::npos)
      << w.message;

  const Upstream& u = loaded_upstream(result);
  ASSERT_EQ(u.endpoints.size(), 2u);
  const Endpoint& e = u.endpoints[1];
  EXPECT_EQ(e.address.length, 0u);
  EXPECT_EQ(e.address.text, "no-such-host.invalid:8080");
  EXPECT_EQ(e.host, "no-such-host.invalid");
  EXPECT_EQ(e.port, 8080);
  EXPECT_EQ(e.weight, 2u);
}

TEST(ConfigUpstream, PoolWithNoResolvedEndpointIsValid) {
  LoadResult result = load(
      with_upstream("    endpoints: [ a.no-such-host.invalid:80, b.no-such-host.invalid:80 ]\n"));
  ASSERT_TRUE(result.config.has_value()) << ::testing::PrintToString(lines_of(result.errors));
  ASSERT_EQ(result.warnings.size(), 2u);
  EXPECT_EQ(result.warnings[0].key, "upstreams[0].endpoints[0]");
  EXPECT_EQ(result.warnings[1].key, "upstreams[0].endpoints[1]");
  EXPECT_LT(result.warnings[0].column, result.warnings[1].column);  // file order
  for (const Endpoint& e : loaded_upstream(result).endpoints) EXPECT_EQ(e.address.length, 0u);
}

TEST(ConfigUpstream, WarningsAreKeptAlongsideErrors) {
  LoadResult result =
      load(with_upstream("    endpoints: [ no-such-host.invalid:80 ]\n    dns_refresh: never\n"));
  EXPECT_FALSE(result.config.has_value());
  EXPECT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.warnings.size(), 1u);
}

TEST(ConfigUpstream, MalformedNameIsStillAnError) {
  EXPECT_EQ(upstream_error("    endpoints: [ \"api .internal:80\" ]\n"),
            "test.yaml:10:18: upstreams[0].endpoints[0]: 'api .internal:80' is not a valid "
            "address: 'api .internal' is not a valid host name (letters, digits, '-' and '_' in "
            "labels of 1 to 63 characters separated by '.')");
  EXPECT_EQ(upstream_error("    endpoints: [ 10.0.0.300:80 ]\n"),
            "test.yaml:10:18: upstreams[0].endpoints[0]: '10.0.0.300:80' is not a valid address: "
            "'10.0.0.300' is not a valid IPv4 address");
}

}  // namespace
}  // namespace portico::config
