// Feature flag decisions: the order of the rules (switch, allow list, share, key), the
// rollout share's size and monotonic ramp over many keys, pinned buckets (a change of the
// hash would move users in or out of every rollout), runtime overrides and their carry-over
// across configs by the file's values.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "config/Config.h"
#include "filters/FilterStates.h"
#include "flags/FlagDecisions.h"
#include "flags/FlagSet.h"
#include "flags/FlagsHeader.h"
#include "flags/Rollout.h"
#include "upstream/HashKey.h"

namespace portico::flags {
namespace {

using config::Flag;
using config::HashKey;

Flag make_flag(std::string name, uint32_t percent_bp, HashKey key = {HashKey::Kind::ClientIp, {}}) {
  Flag f;
  f.name = std::move(name);
  f.percent_bp = percent_bp;
  f.key = std::move(key);
  return f;
}

upstream::RequestKeyView request(std::string_view client_ip,
                                 const std::vector<http::Header>& headers = {}) {
  return {"/", client_ip, headers};
}

// Keys "user-0" .. "user-(n-1)" in a cookie, for share counts.
struct Users {
  std::vector<std::string> cookies;
  explicit Users(size_t n) {
    for (size_t i = 0; i < n; ++i) cookies.push_back("uid=user-" + std::to_string(i));
  }
};

TEST(FlagDecision, DisabledIsOffWhateverElse) {
  Flag f = make_flag("f", 10'000);
  f.enabled = false;
  f.allow.clients = {"127.0.0.0/8"};
  filters::FilterStates states;
  const std::vector<Flag> flags = {f};
  FlagSet set(flags, states);
  EXPECT_FALSE(set.decide(0, request("127.0.0.1")));
}

TEST(FlagDecision, AllowListsTurnItOnAtZeroPercent) {
  Flag f = make_flag("f", 0);
  f.allow.headers = {{"x-beta", "1"}};
  f.allow.cookies = {{"beta", "yes"}};
  f.allow.clients = {"10.0.0.0/8", "::1"};
  filters::FilterStates states;
  const std::vector<Flag> flags = {f};
  FlagSet set(flags, states);
  EXPECT_FALSE(set.decide(0, request("192.0.2.1")));
  // Header: name case-insensitive, value exact, any of several lines.
  EXPECT_TRUE(set.decide(0, request("192.0.2.1", {{"X-Beta", "1"}})));
  EXPECT_TRUE(set.decide(0, request("192.0.2.1", {{"x-beta", "0"}, {"x-beta", "1"}})));
  EXPECT_FALSE(set.decide(0, request("192.0.2.1", {{"x-beta", "1 "}})));
  EXPECT_FALSE(set.decide(0, request("192.0.2.1", {{"x-beta", "11"}})));
  // Cookie: among others, quotes allowed, name case-sensitive.
  EXPECT_TRUE(set.decide(0, request("192.0.2.1", {{"Cookie", "a=1; beta=yes"}})));
  EXPECT_TRUE(set.decide(0, request("192.0.2.1", {{"cookie", "beta=\"yes\""}})));
  EXPECT_FALSE(set.decide(0, request("192.0.2.1", {{"cookie", "Beta=yes"}})));
  EXPECT_FALSE(set.decide(0, request("192.0.2.1", {{"cookie", "beta=no"}})));
  // Clients: IPv4 ranges, IPv6, and IPv4-mapped IPv6 as its IPv4 address.
  EXPECT_TRUE(set.decide(0, request("10.1.2.3")));
  EXPECT_TRUE(set.decide(0, request("::ffff:10.1.2.3")));
  EXPECT_TRUE(set.decide(0, request("::1")));
  EXPECT_FALSE(set.decide(0, request("11.0.0.1")));
}

TEST(FlagDecision, HundredAndZeroPercentNeedNoKey) {
  filters::FilterStates states;
  const std::vector<Flag> flags = {make_flag("all", 10'000, {HashKey::Kind::Cookie, "uid"}),
                                   make_flag("none", 0, {HashKey::Kind::Cookie, "uid"})};
  FlagSet set(flags, states);
  EXPECT_TRUE(set.decide(0, request("127.0.0.1")));  // no uid cookie
  EXPECT_FALSE(set.decide(1, request("127.0.0.1", {{"cookie", "uid=someone"}})));
}

TEST(FlagDecision, AnAbsentOrEmptyKeyIsOff) {
  filters::FilterStates states;
  const std::vector<Flag> flags = {make_flag("f", 9'999, {HashKey::Kind::Header, "x-user"})};
  FlagSet set(flags, states);
  EXPECT_FALSE(set.decide(0, request("127.0.0.1")));
  EXPECT_FALSE(set.decide(0, request("127.0.0.1", {{"x-user", ""}})));
  EXPECT_FALSE(set.decide(0, request("127.0.0.1", {{"x-user", "  "}})));
}

TEST(FlagDecision, TheShareIsWithinOnePercentOverManyKeys) {
  filters::FilterStates states;
  const std::vector<Flag> flags = {
      make_flag("new-checkout", 1'000, {HashKey::Kind::Cookie, "uid"})};
  FlagSet set(flags, states);
  const Users users(100'000);
  size_t on = 0;
  for (const std::string& c : users.cookies)
    on += set.decide(0, request("127.0.0.1", {{"cookie", c}})) ? 1 : 0;
  EXPECT_NEAR(double(on) / double(users.cookies.size()), 0.10, 0.01) << on;
}

TEST(FlagDecision, RaisingTheShareOnlyAddsKeys) {
  Flag f = make_flag("ramp", 500, {HashKey::Kind::Cookie, "uid"});
  filters::FilterStates states;
  const std::vector<Flag> flags = {f};
  FlagSet set(flags, states);
  const Users users(100'000);
  std::vector<bool> at5;
  for (const std::string& c : users.cookies)
    at5.push_back(set.decide(0, request("127.0.0.1", {{"cookie", c}})));
  set.state(0).set_overrides(std::nullopt, 1'000);
  size_t on5 = 0, on10 = 0, lost = 0;
  for (size_t i = 0; i < users.cookies.size(); ++i) {
    bool now = set.decide(0, request("127.0.0.1", {{"cookie", users.cookies[i]}}));
    on5 += at5[i];
    on10 += now;
    lost += at5[i] && !now;
  }
  EXPECT_EQ(lost, 0u);
  EXPECT_GT(on10, on5);
  EXPECT_NEAR(double(on5) / double(users.cookies.size()), 0.05, 0.01);
}

TEST(FlagDecision, DifferentFlagsPickDifferentKeys) {
  filters::FilterStates states;
  const std::vector<Flag> flags = {make_flag("a", 5'000, {HashKey::Kind::Cookie, "uid"}),
                                   make_flag("b", 5'000, {HashKey::Kind::Cookie, "uid"})};
  FlagSet set(flags, states);
  const Users users(10'000);
  size_t agree = 0;
  for (const std::string& c : users.cookies)
    agree += set.decide(0, request("1.1.1.1", {{"cookie", c}})) ==
             set.decide(1, request("1.1.1.1", {{"cookie", c}}));
  // Independent halves agree about half the time; the same keys would agree always.
  EXPECT_NEAR(double(agree) / double(users.cookies.size()), 0.5, 0.03);
}

// The bucket of a key is part of Portico's behaviour: every instance and every release must
// put a user in the same bucket, or a rollout would reshuffle who sees a feature. (The
// values were checked against an independent implementation of the documented formula.)
TEST(FlagDecision, BucketsArePinned) {
  using upstream::hash_bytes;
  EXPECT_EQ(rollout_bucket(hash_bytes("user-1"), flag_hash("new-checkout")), 866u);
  EXPECT_EQ(rollout_bucket(hash_bytes("user-2"), flag_hash("new-checkout")), 1477u);
  EXPECT_EQ(rollout_bucket(hash_bytes("user-1"), flag_hash("old-ui")), 9002u);
  EXPECT_EQ(rollout_bucket(hash_bytes("10.0.0.1"), flag_hash("beta")), 7047u);
  EXPECT_EQ(rollout_bucket(0, 0), 0u);
  // The formula itself, on a known point.
  EXPECT_EQ(flag_hash("beta"), hash_bytes("flag:beta"));
  const uint64_t key = hash_bytes("user-1"), flag = flag_hash("new-checkout");
  EXPECT_EQ(rollout_bucket(key, flag),
            uint32_t(((upstream::mix64(key ^ flag) >> 32) * 10'000) >> 32));
}

TEST(FlagDecision, DecisionsFollowThePinnedBuckets) {
  using upstream::hash_bytes;
  const uint32_t bucket = rollout_bucket(hash_bytes("user-1"), flag_hash("new-checkout"));
  filters::FilterStates states;
  const std::vector<Flag> flags = {
      make_flag("new-checkout", bucket, {HashKey::Kind::Cookie, "uid"})};
  FlagSet set(flags, states);
  const std::vector<http::Header> user1 = {{"cookie", "uid=user-1"}};
  EXPECT_FALSE(set.decide(0, request("127.0.0.1", user1)));  // bucket < share is needed
  set.state(0).set_overrides(std::nullopt, bucket + 1);
  EXPECT_TRUE(set.decide(0, request("127.0.0.1", user1)));
}

TEST(FlagState, OverridesAndBackToTheFile) {
  FlagState s(true, 1'250);
  EXPECT_TRUE(s.values().enabled);
  EXPECT_EQ(s.values().percent_bp, 1'250u);
  EXPECT_FALSE(s.values().enabled_overridden || s.values().percent_overridden);
  s.set_overrides(std::nullopt, 10'000);
  EXPECT_TRUE(s.values().percent_overridden);
  EXPECT_FALSE(s.values().enabled_overridden);
  EXPECT_EQ(s.values().percent_bp, 10'000u);
  s.set_overrides(false, std::nullopt);
  EXPECT_FALSE(s.values().enabled);
  EXPECT_EQ(s.values().percent_bp, 10'000u);  // kept
  EXPECT_TRUE(s.values().enabled_overridden);
  s.clear_overrides();
  EXPECT_TRUE(s.values().enabled);
  EXPECT_EQ(s.values().percent_bp, 1'250u);
  EXPECT_FALSE(s.values().enabled_overridden || s.values().percent_overridden);
  EXPECT_EQ(s.file_percent_bp(), 1'250u);
  EXPECT_TRUE(s.file_enabled());
}

TEST(FlagSet, TheSameFileValuesKeepTheStateAndItsOverride) {
  std::vector<Flag> first = {make_flag("keep", 1'000), make_flag("change", 1'000)};
  filters::FilterStates old_states;
  FlagSet old_set(first, old_states);
  old_set.state(0).set_overrides(std::nullopt, 5'000);
  old_set.state(1).set_overrides(false, std::nullopt);

  std::vector<Flag> second = {make_flag("change", 2'000), make_flag("keep", 1'000)};
  second[1].key = {HashKey::Kind::Header, "x-user"};  // not part of the identity
  filters::FilterStates new_states(&old_states);
  FlagSet new_set(second, new_states);
  // Building the new set changed nothing the running one uses.
  EXPECT_EQ(old_set.state(1).values().enabled, false);
  EXPECT_EQ(&new_set.state(1), &old_set.state(0));
  EXPECT_EQ(new_set.state(1).values().percent_bp, 5'000u);
  EXPECT_TRUE(new_set.state(1).values().percent_overridden);
  EXPECT_NE(&new_set.state(0), &old_set.state(1));
  EXPECT_TRUE(new_set.state(0).values().enabled);
  EXPECT_EQ(new_set.state(0).values().percent_bp, 2'000u);
  EXPECT_FALSE(new_set.state(0).values().enabled_overridden);
}

// A file change of one value drops the override of that value only: a runtime kill switch
// survives a ramp of the file's percent.
TEST(FlagSet, AChangedFileValueDropsOnlyItsOwnOverride) {
  std::vector<Flag> first = {make_flag("kill", 1'000), make_flag("ramp", 1'000)};
  filters::FilterStates old_states;
  FlagSet old_set(first, old_states);
  old_set.state(0).set_overrides(false, 5'000);  // both overridden
  old_set.state(1).set_overrides(std::nullopt, 3'000);

  std::vector<Flag> second = {make_flag("kill", 2'000), make_flag("ramp", 1'000)};
  second[1].enabled = false;  // the file switches "ramp" off; its percent override stays
  filters::FilterStates new_states(&old_states);
  FlagSet new_set(second, new_states, &old_set);
  FlagState::Values kill = new_set.state(0).values();
  EXPECT_FALSE(kill.enabled);
  EXPECT_TRUE(kill.enabled_overridden);
  EXPECT_EQ(kill.percent_bp, 2'000u);  // the file's new percent
  EXPECT_FALSE(kill.percent_overridden);
  FlagState::Values ramp = new_set.state(1).values();
  EXPECT_FALSE(ramp.enabled);
  EXPECT_FALSE(ramp.enabled_overridden);
  EXPECT_EQ(ramp.percent_bp, 3'000u);
  EXPECT_TRUE(ramp.percent_overridden);
  // The running set is untouched.
  EXPECT_EQ(old_set.state(0).values().percent_bp, 5'000u);
  EXPECT_TRUE(old_set.state(1).values().enabled);
}

TEST(FlagSet, RefusesWhatTheLoaderRefuses) {
  filters::FilterStates states;
  Flag bad = make_flag("f", 0);
  bad.allow.clients = {"10.0.0.1/8"};
  EXPECT_THROW(FlagSet({bad}, states), std::invalid_argument);
  std::vector<Flag> many;
  for (int i = 0; i < 65; ++i) many.push_back(make_flag("f" + std::to_string(i), 0));
  EXPECT_THROW(FlagSet(many, states), std::invalid_argument);
}

TEST(FlagDecisions, EachFlagIsDecidedAndCountedOncePerRequest) {
  Flag f = make_flag("a", 10'000);
  Flag g = make_flag("b", 0);
  filters::FilterStates states;
  const std::vector<Flag> flags = {f, g};
  FlagSet set(flags, states);
  stats::FlagStats a_count, b_count;
  std::vector<stats::FlagStats*> counters = {&a_count, &b_count};
  FlagDecisions d;
  d.start(&set, counters);
  d.bind(request("127.0.0.1"));
  EXPECT_TRUE(d.on(0));
  // An override landing mid-request does not change the request's answer.
  set.state(0).set_overrides(false, std::nullopt);
  EXPECT_TRUE(d.on(0));
  EXPECT_EQ(d.all(), 1u);
  EXPECT_EQ(a_count.on.value(), 1u);
  EXPECT_EQ(a_count.off.value(), 0u);
  EXPECT_EQ(b_count.off.value(), 1u);
  // The next request decides again.
  d.start(&set, counters);
  d.bind(request("127.0.0.1"));
  EXPECT_EQ(d.all(), 0u);
  EXPECT_EQ(a_count.off.value(), 1u);
  EXPECT_EQ(b_count.off.value(), 2u);
}

TEST(FlagsHeader, NamesTheFlagsOnInConfigOrder) {
  filters::FilterStates states;
  const std::vector<Flag> flags = {make_flag("a", 0), make_flag("b", 0), make_flag("c", 0)};
  FlagSet set(flags, states);
  std::string line = "left over";
  write_flags_header(line, "x-portico-flags", set, 0b101);
  EXPECT_EQ(line, "x-portico-flags: a, c\r\n");
  write_flags_header(line, "x-portico-flags", set, 0b010);
  EXPECT_EQ(line, "x-portico-flags: b\r\n");
  write_flags_header(line, "x-portico-flags", set, 0);
  EXPECT_EQ(line, "");
}

}  // namespace
}  // namespace portico::flags
