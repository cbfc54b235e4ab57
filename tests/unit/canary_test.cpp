// The canary split: the hash layout (stable, fleet-consistent, monotonic when ramped),
// the live state (overrides, rollback), the config's mistakes, and state across reloads.
#include <gtest/gtest.h>

#include <string>

#include "config/ConfigLoader.h"
#include "core/Runtime.h"
#include "filters/canary/CanaryState.h"
#include "filters/canary/SplitPlan.h"
#include "upstream/HashKey.h"

namespace portico::filters {
namespace {

constexpr size_t kKeys = 100'000;

SplitShares shares(std::initializer_list<double> weights) {
  std::vector<double> w(weights);
  return shares_from_weights(w);
}

size_t target_of(size_t key, std::string_view route, SplitShares s, uint32_t rolled_back = 0) {
  std::string text = "user-" + std::to_string(key);
  uint64_t point = split_point(upstream::hash_bytes(text), upstream::hash_bytes(route));
  return split_target(s, split_bucket(point), rolled_back);
}

TEST(CanarySplit, SharesFromWeights) {
  EXPECT_EQ(shares({95, 5}).share(0), 500u);
  EXPECT_EQ(shares({95, 5}).total(), 500u);
  EXPECT_EQ(shares({1, 1}).share(0), 5000u);
  SplitShares three = shares({1, 1, 1});
  EXPECT_EQ(three.share(0), 3333u);
  EXPECT_EQ(three.share(1), 3333u);
  EXPECT_EQ(shares({0, 7}).share(0), 10000u);  // everything on the canary
  EXPECT_EQ(shares({7, 0}).total(), 0u);
  EXPECT_EQ(shares({95, 5}).without(1).total(), 0u);
  // Decimal weights whose binary fractions fall just short are not rounded down a step.
  EXPECT_EQ(shares({0.949, 0.051}).share(0), 510u);
  EXPECT_EQ(shares({0.7, 0.1, 0.2}).share(1), 2000u);
}

TEST(CanarySplit, ARolledBackCanarysUsersGoToStableAndNobodyElseMoves) {
  SplitShares s = shares({80, 10, 10});
  size_t moved = 0;
  for (size_t k = 0; k < kKeys; ++k) {
    size_t before = target_of(k, "api", s);
    size_t after = target_of(k, "api", s, /*rolled_back=*/1);  // canary 0
    if (before == 1)
      ASSERT_EQ(after, 0u) << k;
    else
      ASSERT_EQ(after, before) << k;
    moved += before != after;
  }
  EXPECT_NEAR(100.0 * double(moved) / kKeys, 10.0, 1.0);
}

TEST(CanarySplit, BucketsAreLaidOutFromTheTop) {
  SplitShares s = shares({90, 5, 5});  // canary 0 owns [9500, 10000), canary 1 [9000, 9500)
  EXPECT_EQ(split_target(s, 0), 0u);
  EXPECT_EQ(split_target(s, 8999), 0u);
  EXPECT_EQ(split_target(s, 9000), 2u);
  EXPECT_EQ(split_target(s, 9499), 2u);
  EXPECT_EQ(split_target(s, 9500), 1u);
  EXPECT_EQ(split_target(s, 9999), 1u);
  EXPECT_EQ(split_bucket(0), 0u);
  EXPECT_EQ(split_bucket(~uint64_t(0)), 9999u);
}

// The hash is part of Portico's behaviour: instances of different versions in one fleet
// must agree. These values pin it (computed by a separate Python rendering of the
// documented hash, which checks the documentation too).
TEST(CanarySplit, PointsArePinned) {
  uint64_t route = upstream::hash_bytes("api");
  EXPECT_EQ(split_bucket(split_point(upstream::hash_bytes("alice"), route)), 815u);
  EXPECT_EQ(split_bucket(split_point(upstream::hash_bytes("bob"), route)), 7967u);
  EXPECT_EQ(split_bucket(split_point(upstream::hash_bytes("alice"), upstream::hash_bytes("web"))),
            8990u);
}

TEST(CanarySplit, WithinOnePercentOver100kKeys) {
  for (auto [stable, canary] :
       {std::pair{95.0, 5.0}, std::pair{90.0, 10.0}, std::pair{50.0, 50.0}, std::pair{99.0, 1.0}}) {
    SplitShares s = shares({stable, canary});
    size_t on_canary = 0;
    for (size_t k = 0; k < kKeys; ++k) on_canary += target_of(k, "api", s) == 1;
    double percent = 100.0 * double(on_canary) / kKeys;
    EXPECT_NEAR(percent, canary, 1.0) << stable << "/" << canary;
  }
  // Three ways.
  SplitShares s = shares({80, 15, 5});
  size_t counts[3] = {};
  for (size_t k = 0; k < kKeys; ++k) ++counts[target_of(k, "api", s)];
  EXPECT_NEAR(100.0 * double(counts[0]) / kKeys, 80, 1.0);
  EXPECT_NEAR(100.0 * double(counts[1]) / kKeys, 15, 1.0);
  EXPECT_NEAR(100.0 * double(counts[2]) / kKeys, 5, 1.0);
}

TEST(CanarySplit, RaisingTheCanaryMovesOnlyStableUsersToIt) {
  SplitShares before = shares({95, 5});
  SplitShares after = shares({90, 10});
  size_t moved = 0;
  for (size_t k = 0; k < kKeys; ++k) {
    size_t was = target_of(k, "api", before);
    size_t is = target_of(k, "api", after);
    ASSERT_FALSE(was == 1 && is == 0) << "user-" << k << " left the canary";
    moved += was != is;
  }
  EXPECT_NEAR(100.0 * double(moved) / kKeys, 5.0, 1.0);
  // Every step of a ramp, 1% at a time.
  for (int percent = 1; percent < 100; ++percent) {
    SplitShares lo = shares({100.0 - percent, double(percent)});
    SplitShares hi = shares({99.0 - percent, percent + 1.0});
    for (size_t k = 0; k < 2'000; ++k)
      ASSERT_FALSE(target_of(k, "api", lo) == 1 && target_of(k, "api", hi) == 0) << percent;
  }
}

TEST(CanarySplit, EachRouteShufflesUsersOnItsOwn) {
  SplitShares s = shares({50, 50});
  size_t both = 0;
  for (size_t k = 0; k < kKeys; ++k)
    both += target_of(k, "api", s) == 1 && target_of(k, "web", s) == 1;
  EXPECT_NEAR(100.0 * double(both) / kKeys, 25.0, 1.0);  // independent, not the same half
}

TEST(CanaryState, OverrideAndClear) {
  CanaryState state(shares({95, 5}), 1, std::nullopt);
  EXPECT_FALSE(state.overridden());
  state.set_override(shares({80, 20}));
  EXPECT_TRUE(state.overridden());
  EXPECT_EQ(state.effective().share(0), 2000u);
  EXPECT_EQ(state.file_shares().share(0), 500u);
  state.clear_override();
  EXPECT_FALSE(state.overridden());
  EXPECT_EQ(state.effective().share(0), 500u);
}

TEST(CanaryState, RollsBackWhenTheCanaryFailsMoreThanStableByTheMargin) {
  RollbackPolicy policy;
  policy.margin = 0.2;
  policy.min_requests = 10;
  policy.window = std::chrono::milliseconds(10'000);
  CanaryState state(shares({80, 10, 10}), 2, policy);
  uint64_t now = 1'000'000;
  for (int i = 0; i < 100; ++i)
    EXPECT_FALSE(state.record(0, i % 10 == 0, now).has_value());  // stable: 10%
  // Canary 0 fails every time, but below min_requests nothing happens.
  for (int i = 0; i < 9; ++i) EXPECT_FALSE(state.record(1, true, now).has_value());
  EXPECT_EQ(state.rolled_back(), 0u);
  // Canary 1 at 25% failures: within 10% + 0.2.
  for (int i = 0; i < 40; ++i) EXPECT_FALSE(state.record(2, i % 4 == 3, now).has_value());
  // The tenth failure of canary 0: 100% against 10%.
  EXPECT_TRUE(state.record(1, true, now).has_value());
  EXPECT_FALSE(state.record(1, true, now).has_value());  // reported once
  EXPECT_EQ(state.rolled_back(), 1u);
  EXPECT_EQ(state.effective().share(0), 0u);
  EXPECT_EQ(state.effective().share(1), 1000u);
  EXPECT_EQ(state.configured().share(0), 1000u);
  RollbackRecord r = state.rollback_record(0);
  EXPECT_GT(r.unix_ms, 0u);
  EXPECT_EQ(r.canary.requests, 10u);
  EXPECT_EQ(r.canary.failures, 10u);
  EXPECT_EQ(r.stable.requests, 100u);
  EXPECT_EQ(r.stable.failures, 10u);
  EXPECT_EQ(state.rollbacks_total(0), 1u);
  EXPECT_EQ(state.rollback_record(1).unix_ms, 0u);

  // Until an operator resets it; the old failures do not count again.
  state.reset_rollback();
  EXPECT_EQ(state.rolled_back(), 0u);
  EXPECT_EQ(state.effective().share(0), 1000u);
  EXPECT_EQ(state.window_counts(1, now).requests, 0u);
  EXPECT_FALSE(state.record(1, true, now).has_value());
  EXPECT_EQ(state.rolled_back(), 0u);
}

TEST(CanaryState, OldOutcomesAgeOut) {
  RollbackPolicy policy;
  policy.margin = 0.1;
  policy.min_requests = 5;
  policy.window = std::chrono::milliseconds(1'000);
  CanaryState state(shares({90, 10}), 1, policy);
  for (int i = 0; i < 4; ++i) state.record(1, true, 10'000);
  // Two windows later those four are gone: four more are still below min_requests.
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(state.record(1, true, 12'000).has_value());
  EXPECT_TRUE(state.record(1, true, 12'000).has_value());
}

// ---- config ----

std::string config_with(std::string_view canary, std::string_view route_upstream = "v1") {
  return "listeners:\n"
         "  - name: l\n"
         "    address: 127.0.0.1:8080\n"
         "    routes:\n"
         "      - name: api\n"
         "        upstream: " +
         std::string(route_upstream) +
         "\n"
         "        filters:\n"
         "          - canary: " +
         std::string(canary) +
         "\n"
         "upstreams:\n"
         "  - { name: v1, endpoints: [ { address: 127.0.0.1:9001 } ] }\n"
         "  - { name: v2, endpoints: [ { address: 127.0.0.1:9002 } ] }\n"
         "  - { name: v3, endpoints: [ { address: 127.0.0.1:9003 } ] }\n";
}

std::string only_error(std::string_view canary) {
  config::LoadResult r = config::load_config_string(config_with(canary), "test.yaml");
  EXPECT_FALSE(r.config.has_value());
  EXPECT_EQ(r.errors.size(), 1u);
  return r.errors.empty() ? "" : r.errors.front().to_string();
}

std::shared_ptr<const core::Runtime> build(std::string_view canary,
                                           const core::Runtime* previous = nullptr) {
  config::LoadResult r = config::load_config_string(config_with(canary), "test.yaml");
  EXPECT_TRUE(r.config.has_value()) << (r.errors.empty() ? "" : r.errors[0].to_string());
  return core::Runtime::build(std::move(*r.config), previous);
}

TEST(CanaryConfig, Mistakes) {
  const std::string at = "listeners[0].routes[0].filters[0].canary";
  EXPECT_EQ(only_error("{ sticky: client_ip }"),
            "test.yaml:8:21: " + at + ".split: missing required key 'split'");
  EXPECT_EQ(only_error("{ split: { v1: 100 } }"),
            "test.yaml:8:30: " + at +
                ".split: a split names from 2 to 5 upstreams (the route's own and its canaries), "
                "got 1");
  EXPECT_EQ(only_error("{ split: { v1: 0, v2: 0 } }"),
            "test.yaml:8:30: " + at + ".split: a split needs a weight above 0");
  EXPECT_EQ(only_error("{ split: { v1: 95, v2: -5 } }"),
            "test.yaml:8:44: " + at +
                ".split.v2: must be a weight from 0 to 1000000, such as 5, got '-5'");
  EXPECT_EQ(only_error("{ split: { v1: 95, v9: 5 } }"),
            "test.yaml:8:40: " + at + ".split.v9: undefined upstream 'v9' (defined: v1, v2, v3)");
  EXPECT_EQ(only_error("{ split: { v1: 95, v2: 5 }, sticky: body }"),
            "test.yaml:8:57: " + at +
                ".sticky: invalid sticky 'body' (expected header:NAME, cookie:NAME, client_ip or "
                "path)");
  EXPECT_EQ(only_error("{ split: { v1: 95, v2: 5 }, force_from: [10.0.0.0/8] }"),
            "test.yaml:8:49: " + at +
                ".force_from: 'force_from' limits who may force a pool: add 'force_header' or "
                "'force_cookie'");
  EXPECT_EQ(only_error("{ split: { v1: 95, v2: 5 }, force_header: x-c, force_from: [10.0.0.1/8] }"),
            "test.yaml:8:81: " + at +
                ".force_from[0]: '10.0.0.1/8' has bits set beyond its /8 "
                "prefix");
  EXPECT_EQ(only_error("{ split: { v1: 95, v2: 5 }, rollback: { margin: 2 } }"),
            "test.yaml:8:69: " + at +
                ".rollback.margin: must be a ratio from 0 to 1, such as 0.1, got '2'");
  EXPECT_EQ(only_error("{ split: { v1: 95, v2: 5 }, rollback: { window: 5ms } }"),
            "test.yaml:8:69: " + at + ".rollback.window: must be at least 100ms");
}

TEST(CanaryConfig, MarginBelowOne) {
  EXPECT_EQ(only_error("{ split: { v1: 95, v2: 5 }, rollback: { margin: 1 } }"),
            "test.yaml:8:69: listeners[0].routes[0].filters[0].canary.rollback.margin: must be "
            "below 1 (a canary cannot fail more than 100% above stable)");
}

// A canary picks the pool; the filters after it act on that pool.
TEST(CanaryConfig, ComesBeforeABreakerAndOnlyOnce) {
  auto errors = [](std::string_view filters) {
    std::string yaml = config_with("{ split: { v1: 95, v2: 5 } }");
    yaml.replace(yaml.find("          - canary:"),
                 yaml.find("\nupstreams:") - yaml.find("          - canary:"),
                 std::string(filters));
    config::LoadResult r = config::load_config_string(yaml, "test.yaml");
    EXPECT_FALSE(r.config.has_value());
    std::vector<std::string> lines;
    for (const auto& e : r.errors) lines.push_back(e.to_string());
    return lines;
  };
  EXPECT_EQ(errors("          - circuit_breaker: { max_requests: 10 }\n"
                   "          - canary: { split: { v1: 95, v2: 5 } }"),
            std::vector<std::string>{
                "test.yaml:9:13: listeners[0].routes[0].filters[1].canary: 'canary' must come "
                "before 'circuit_breaker': the breaker guards the pool the canary picks"});
  EXPECT_EQ(errors("          - canary: { split: { v1: 95, v2: 5 } }\n"
                   "          - canary: { split: { v1: 90, v3: 10 } }"),
            std::vector<std::string>{"test.yaml:9:13: listeners[0].routes[0].filters[1].canary: "
                                     "one canary per route (a second would overrule the first)"});
}

TEST(CanaryConfig, ForcingWithoutForceFromIsWarnedAbout) {
  config::LoadResult r = config::load_config_string(
      config_with("{ split: { v1: 95, v2: 5 }, force_header: x-canary }"), "test.yaml");
  ASSERT_TRUE(r.config);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_EQ(r.warnings[0].to_string(),
            "test.yaml:8:21: listeners[0].routes[0].filters[0].canary: warning: any client can "
            "pick a pool with force_header or force_cookie: add force_from with your testers' "
            "addresses");
  r = config::load_config_string(
      config_with("{ split: { v1: 95, v2: 5 }, force_header: x-canary, force_from: [::1] }"),
      "test.yaml");
  ASSERT_TRUE(r.config);
  EXPECT_TRUE(r.warnings.empty());
}

TEST(CanaryConfig, TheSplitMustIncludeTheRoutesUpstream) {
  config::LoadResult r =
      config::load_config_string(config_with("{ split: { v2: 95, v3: 5 } }"), "test.yaml");
  ASSERT_TRUE(r.config);
  try {
    core::Runtime::build(std::move(*r.config));
    FAIL() << "built";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "route 'api': filter 'canary': the split must include the route's upstream 'v1' "
                 "(the stable pool, which takes what the canaries do not)");
  }
}

TEST(CanaryConfig, TargetsAreStableThenCanariesByName) {
  auto rt = build("{ split: { v3: 5, v1: 90, v2: 5 } }");
  ASSERT_EQ(rt->canary_routes().size(), 1u);
  const CanaryRoute& c = rt->canary_routes()[0];
  EXPECT_EQ(c.listener, "l");
  EXPECT_EQ(c.route, "api");
  EXPECT_EQ(c.targets, (std::vector<std::string>{"v1", "v2", "v3"}));
  EXPECT_EQ(c.state->file_shares().share(0), 500u);
  EXPECT_EQ(c.state->file_shares().share(1), 500u);
}

TEST(CanaryConfig, AReloadKeepsTheLiveStateUnlessTheSplitChanged) {
  auto first = build("{ split: { v1: 95, v2: 5 }, sticky: client_ip }");
  auto state = first->canary_routes()[0].state;
  state->set_override(shares({50, 50}));
  // Another key changed, the split did not: the override stays.
  auto second = build("{ split: { v2: 5, v1: 95 }, sticky: header:x-user }", first.get());
  EXPECT_EQ(second->canary_routes()[0].state, state);
  EXPECT_TRUE(state->overridden());
  // The same shares written with other weights: still the same split.
  auto same = build("{ split: { v1: 19, v2: 1 } }", second.get());
  EXPECT_EQ(same->canary_routes()[0].state, state);
  EXPECT_TRUE(state->overridden());
  second = same;
  // The file's split changed: the file wins.
  auto third = build("{ split: { v1: 90, v2: 10 } }", second.get());
  EXPECT_NE(third->canary_routes()[0].state, state);
  EXPECT_FALSE(third->canary_routes()[0].state->overridden());
  EXPECT_EQ(third->canary_routes()[0].state->effective().share(0), 1000u);
}

}  // namespace
}  // namespace portico::filters
