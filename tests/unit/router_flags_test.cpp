// Routes matching on feature flags: every condition must hold, flags are decided only for
// routes whose other conditions hold (and each at most once), and without decisions a
// route with flag conditions never matches.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "filters/FilterStates.h"
#include "flags/FlagDecisions.h"
#include "flags/FlagSet.h"
#include "router/MatchScratch.h"
#include "router/Router.h"

namespace portico::router {
namespace {

using config::Flag;
using config::FlagCondition;
using config::Route;

Flag flag(std::string name, uint32_t percent_bp) {
  Flag f;
  f.name = std::move(name);
  f.percent_bp = percent_bp;
  f.allow.headers = {{"x-" + f.name, "1"}};
  return f;
}

Route route(std::string name, std::vector<FlagCondition> conditions, std::string path = {}) {
  Route r;
  r.name = std::move(name);
  r.match.flags = std::move(conditions);
  if (!path.empty()) {
    r.match.path_kind = config::RouteMatch::PathKind::Exact;
    r.match.path = std::move(path);
  }
  return r;
}

class RouterFlags : public ::testing::Test {
 protected:
  RouterFlags() : set_(flags_, states_) {}

  // The route taken by a request with these headers, or "<none>"; counts per flag in on_/off_.
  std::string route_for(const std::vector<Route>& routes, std::vector<http::Header> headers,
                        std::string_view path = "/", bool with_flags = true) {
    const Router router(routes);
    flags::FlagDecisions decisions;
    decisions.start(&set_, counters_);
    decisions.bind({path, "192.0.2.1", headers});
    RequestView view{"GET", path, "", "example.com", headers, with_flags ? &decisions : nullptr};
    const Route* r = router.match(view, scratch_);
    return r ? r->name : "<none>";
  }

  // a: 0% (on only with x-a: 1); b: 100%; c: 0% (on only with x-c: 1).
  std::vector<Flag> flags_ = {flag("a", 0), flag("b", 10'000), flag("c", 0)};
  filters::FilterStates states_;
  flags::FlagSet set_;
  std::array<stats::FlagStats, 3> stats_;
  std::vector<stats::FlagStats*> counters_ = {&stats_[0], &stats_[1], &stats_[2]};
  MatchScratch scratch_;
};

TEST_F(RouterFlags, EveryConditionMustHold) {
  const std::vector<Route> routes = {
      route("a-and-not-c", {{"a", 0, true}, {"c", 2, false}}),
      route("b", {{"b", 1, true}}),
  };
  EXPECT_EQ(route_for(routes, {{"x-a", "1"}}), "a-and-not-c");
  EXPECT_EQ(route_for(routes, {{"x-a", "1"}, {"x-c", "1"}}), "b");
  EXPECT_EQ(route_for(routes, {}), "b");
}

TEST_F(RouterFlags, AFlagOffCanBeRequired) {
  const std::vector<Route> routes = {route("old", {{"a", 0, false}}), route("new", {})};
  EXPECT_EQ(route_for(routes, {}), "old");
  EXPECT_EQ(route_for(routes, {{"x-a", "1"}}), "new");
}

TEST_F(RouterFlags, FlagsAreDecidedOnlyForOtherwiseMatchingRoutesAndOnce) {
  const std::vector<Route> routes = {
      route("elsewhere", {{"c", 2, true}}, "/other"),
      route("first", {{"a", 0, true}}),
      route("second", {{"a", 0, false}, {"b", 1, true}}),
  };
  EXPECT_EQ(route_for(routes, {}), "second");
  // c's route did not match by path: c was never decided. a was decided once for two routes.
  EXPECT_EQ(stats_[2].on.value() + stats_[2].off.value(), 0u);
  EXPECT_EQ(stats_[0].off.value(), 1u);
  EXPECT_EQ(stats_[0].on.value(), 0u);
  EXPECT_EQ(stats_[1].on.value(), 1u);
}

TEST_F(RouterFlags, WithoutDecisionsAFlagRouteNeverMatches) {
  const std::vector<Route> routes = {route("flagged", {{"b", 1, true}}), route("plain", {})};
  EXPECT_EQ(route_for(routes, {}, "/", false), "plain");
}

TEST_F(RouterFlags, AnIndexBeyond63IsRefused) {
  const std::vector<Route> routes = {route("bad", {{"z", 64, true}})};
  EXPECT_THROW(Router{routes}, std::invalid_argument);
}

}  // namespace
}  // namespace portico::router
