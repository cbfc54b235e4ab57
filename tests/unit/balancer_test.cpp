#include "upstream/Balancer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "upstream/HashKey.h"

namespace portico::upstream {
namespace {

constexpr int kPicks = 100'000;
// Allowed distance between a measured share and the expected one, in percentage points
// (absolute: 0.02 of all picks).
constexpr double kTolerancePoints = 2.0;

class FakeView final : public EndpointView {
 public:
  explicit FakeView(size_t n) : usable_(n, 1), load_(n, 0) {}
  size_t size() const override { return usable_.size(); }
  bool usable(size_t i) const override { return usable_.at(i) != 0; }
  uint32_t load(size_t i) const override { return load_.at(i); }

  std::vector<char> usable_;
  std::vector<uint32_t> load_;
};

// Endpoints with stable keys ("10.0.0.<i>:8080"), which the hash balancers place by.
struct Pool {
  explicit Pool(std::vector<uint32_t> weights, size_t first_id = 0) {
    for (size_t i = 0; i < weights.size(); ++i) keys.push_back(key_for(first_id + i));
    for (size_t i = 0; i < weights.size(); ++i) endpoints.push_back({keys[i], weights[i]});
  }
  static std::string key_for(size_t id) {
    return "10.0." + std::to_string(id / 256) + "." + std::to_string(id % 256) + ":8080";
  }
  Pool without(size_t removed) const {
    Pool p({});
    for (size_t i = 0; i < keys.size(); ++i)
      if (i != removed) p.keys.push_back(keys[i]);
    for (size_t i = 0, j = 0; i < keys.size(); ++i)
      if (i != removed) p.endpoints.push_back({p.keys[j++], endpoints[i].weight});
    return p;
  }
  std::vector<std::string> keys;
  std::vector<BalancerEndpoint> endpoints;
};

bool is_hash_kind(std::string_view kind) {
  return balancer_uses_hash(kind);
}

// Random request keys, the same sequence in every run.
std::vector<uint64_t> random_keys(size_t count, uint64_t seed = 7) {
  std::mt19937_64 gen(seed);
  std::vector<uint64_t> keys(count);
  for (auto& k : keys) k = gen();
  return keys;
}

std::vector<int> count_picks(Balancer& b, const FakeView& view, std::string_view kind) {
  std::vector<int> counts(view.size(), 0);
  std::vector<uint64_t> keys = is_hash_kind(kind) ? random_keys(kPicks) : std::vector<uint64_t>();
  for (int i = 0; i < kPicks; ++i) {
    std::optional<uint64_t> key;
    if (!keys.empty()) key = keys[size_t(i)];
    int e = b.pick(view, key);
    EXPECT_GE(e, 0);
    if (e < 0) return counts;
    ++counts[size_t(e)];
  }
  return counts;
}

// Largest |measured - expected| share, in percentage points. `expected` are relative
// weights; endpoints with expected weight 0 must get no picks at all.
double max_deviation(const std::vector<int>& counts, const std::vector<double>& expected) {
  double sum = 0, total = 0, worst = 0;
  for (double e : expected) sum += e;
  for (int c : counts) total += c;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (expected[i] == 0) {
      EXPECT_EQ(counts[i], 0) << "endpoint " << i;
    }
    worst = std::max(worst, std::abs(100.0 * counts[i] / total - 100.0 * expected[i] / sum));
  }
  return worst;
}

std::vector<double> as_doubles(const std::vector<uint32_t>& w) {
  return {w.begin(), w.end()};
}

const std::vector<std::string_view> kAllKinds = {
    "round_robin", "weighted_round_robin", "least_request", "p2c", "random", "ring_hash", "maglev"};

TEST(Balancer, KindsAreKnown) {
  EXPECT_EQ(std::vector<std::string_view>(balancer_kinds().begin(), balancer_kinds().end()),
            kAllKinds);
  for (auto kind : kAllKinds) {
    EXPECT_TRUE(is_balancer_kind(kind));
    EXPECT_NE(make_balancer(kind, Pool({1}).endpoints, 1), nullptr) << kind;
  }
  EXPECT_FALSE(is_balancer_kind("least_conn"));
  EXPECT_EQ(make_balancer("least_conn", Pool({1}).endpoints, 1), nullptr);
  EXPECT_EQ(make_balancer_plan("", Pool({1}).endpoints), nullptr);
  EXPECT_TRUE(balancer_uses_hash("ring_hash"));
  EXPECT_TRUE(balancer_uses_hash("maglev"));
  EXPECT_FALSE(balancer_uses_hash("round_robin"));
}

TEST(Balancer, EmptyPoolAndSingleEndpoint) {
  for (auto kind : kAllKinds) {
    FakeView none(0);
    auto b = make_balancer(kind, {}, 1);
    EXPECT_EQ(b->pick(none, std::nullopt), -1) << kind;
    EXPECT_EQ(b->pick(none, 42), -1) << kind;

    Pool one({3});
    FakeView view(1);
    auto c = make_balancer(kind, one.endpoints, 1);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(c->pick(view, uint64_t(i)), 0) << kind;
    EXPECT_EQ(c->pick(view, std::nullopt), 0) << kind;
    view.usable_[0] = 0;
    EXPECT_EQ(c->pick(view, 5), -1) << kind;
    EXPECT_EQ(c->pick(view, std::nullopt), -1) << kind;
  }
}

// Shares with every endpoint usable and idle. Every kind honours weights except
// round_robin, which gives equal shares. (least_request sees equal load 0, so ties are
// broken by weight; p2c's tie goes to the first endpoint drawn, which is drawn by weight.)
TEST(Balancer, SharesFollowWeights) {
  for (auto kind : kAllKinds) {
    for (std::vector<uint32_t> weights : {std::vector<uint32_t>{1, 1, 1},
                                          {1, 2, 3, 4},
                                          {5, 1},
                                          {100, 100, 100, 100, 100, 100, 100},
                                          {7, 1, 1, 1, 1, 1, 1, 1, 1, 3}}) {
      Pool pool(weights);
      FakeView view(weights.size());
      auto b = make_balancer(kind, pool.endpoints, 12345);
      std::vector<double> expected = as_doubles(weights);
      if (kind == "round_robin") expected.assign(weights.size(), 1.0);
      double dev = max_deviation(count_picks(*b, view, kind), expected);
      EXPECT_LE(dev, kTolerancePoints) << kind << " weights[0]=" << weights[0];
      RecordProperty(std::string(kind) + "_" + std::to_string(weights.size()), std::to_string(dev));
    }
  }
}

TEST(Balancer, UnusableEndpointsAreNeverPickedAndTheRestShareByWeight) {
  std::vector<uint32_t> weights = {1, 2, 3, 4, 2};
  for (auto kind : kAllKinds) {
    Pool pool(weights);
    FakeView view(weights.size());
    view.usable_[2] = 0;
    view.usable_[4] = 0;
    auto b = make_balancer(kind, pool.endpoints, 99);
    std::vector<double> expected = {1, 2, 0, 4, 0};
    if (kind == "round_robin") expected = {1, 1, 0, 1, 0};
    double dev = max_deviation(count_picks(*b, view, kind), expected);
    EXPECT_LE(dev, kTolerancePoints) << kind;
    RecordProperty(std::string(kind), std::to_string(dev));

    std::fill(view.usable_.begin(), view.usable_.end(), 0);
    EXPECT_EQ(b->pick(view, std::nullopt), -1) << kind;
    EXPECT_EQ(b->pick(view, 77), -1) << kind;
    view.usable_[3] = 1;
    for (uint64_t k = 0; k < 100; ++k) EXPECT_EQ(b->pick(view, k), 3) << kind;
  }
}

TEST(Balancer, RoundRobinTakesTurnsAndSkipsTheUnusable) {
  FakeView view(4);
  auto b = make_balancer("round_robin", Pool({9, 1, 1, 1}).endpoints, 3);
  int first = b->pick(view, std::nullopt);
  for (int i = 1; i < 12; ++i) EXPECT_EQ(b->pick(view, std::nullopt), (first + i) % 4);
  view.usable_[1] = 0;
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 300; ++i) ++counts[size_t(b->pick(view, std::nullopt))];
  EXPECT_EQ(counts, (std::vector<int>{100, 0, 100, 100}));  // no double turn for 2
}

TEST(Balancer, RoundRobinWorkersStartAtDifferentEndpoints) {
  Pool pool({1, 1, 1, 1, 1, 1, 1, 1});
  FakeView view(8);
  std::vector<int> firsts(8, 0);
  for (uint64_t seed = 0; seed < 64; ++seed)
    ++firsts[size_t(make_balancer("round_robin", pool.endpoints, seed)->pick(view, std::nullopt))];
  EXPECT_GE(std::count_if(firsts.begin(), firsts.end(), [](int c) { return c > 0; }), 6);
}

int longest_run(const std::vector<int>& seq, int endpoint) {
  int best = 0, run = 0;
  for (int e : seq) {
    run = e == endpoint ? run + 1 : 0;
    best = std::max(best, run);
  }
  return best;
}

TEST(Balancer, SmoothWeightedRoundRobinSpreadsTheHeavyEndpoint) {
  FakeView view(3);
  auto b = make_balancer("weighted_round_robin", Pool({5, 1, 1}).endpoints, 0);
  std::vector<int> seq;
  for (int i = 0; i < 70; ++i) seq.push_back(b->pick(view, std::nullopt));
  // nginx's smooth order a a b a c a a, from wherever this worker's cursor started.
  const std::vector<int> cycle = {0, 0, 1, 0, 2, 0, 0};
  size_t start = 0;
  auto is_rotation = [&](size_t s) {
    for (size_t i = 0; i < cycle.size(); ++i)
      if (seq[i] != cycle[(s + i) % cycle.size()]) return false;
    return true;
  };
  while (start < cycle.size() && !is_rotation(start)) ++start;
  ASSERT_LT(start, cycle.size());
  for (size_t i = 0; i < seq.size(); ++i)
    EXPECT_EQ(seq[i], cycle[(start + i) % cycle.size()]) << "pick " << i;
  // b and c never come together, and a never has a burst of five (the cycle's two last
  // and the next cycle's two first make four).
  EXPECT_LT(longest_run(seq, 0), 5);
  EXPECT_EQ(longest_run(seq, 1), 1);

  // Larger weights: each window of one cycle holds exactly each endpoint's weight.
  Pool big({3, 7, 1, 5});
  FakeView view4(4);
  auto c = make_balancer("weighted_round_robin", big.endpoints, 17);
  std::vector<int> s;
  for (int i = 0; i < 16 * 10; ++i) s.push_back(c->pick(view4, std::nullopt));
  for (size_t at = 0; at + 16 <= s.size(); ++at) {
    std::vector<int> in_window(4, 0);
    for (size_t i = at; i < at + 16; ++i) ++in_window[size_t(s[i])];
    ASSERT_EQ(in_window, (std::vector<int>{3, 7, 1, 5})) << "window at " << at;
  }
  EXPECT_LE(longest_run(s, 1), 3);
}

TEST(Balancer, SmoothWeightedRoundRobinWithTheHeavyEndpointDown) {
  FakeView view(3);
  view.usable_[0] = 0;
  auto b = make_balancer("weighted_round_robin", Pool({1000, 1, 1}).endpoints, 5);
  std::vector<int> counts(3, 0);
  for (int i = 0; i < 10'000; ++i) {
    int e = b->pick(view, std::nullopt);
    ASSERT_TRUE(e == 1 || e == 2);
    ++counts[size_t(e)];
  }
  EXPECT_NEAR(counts[1], 5000, 200);
}

TEST(Balancer, SmoothWeightedRoundRobinLongCyclesAreScaled) {
  // Weights summing far past the precomputed cycle's limit still share correctly.
  std::vector<uint32_t> weights;
  for (int i = 0; i < 100; ++i) weights.push_back(i % 2 ? 1000 : 997);
  Pool pool(weights);
  FakeView view(weights.size());
  auto b = make_balancer("weighted_round_robin", pool.endpoints, 1);
  EXPECT_LE(max_deviation(count_picks(*b, view, "weighted_round_robin"), as_doubles(weights)), 0.1);
}

TEST(Balancer, LeastRequestPrefersFewerOutstanding) {
  Pool pool({1, 1, 1, 1});
  FakeView view(4);
  view.load_ = {3, 1, 2, 9};
  auto b = make_balancer("least_request", pool.endpoints, 1);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(b->pick(view, std::nullopt), 1);
  view.usable_[1] = 0;
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(b->pick(view, std::nullopt), 2);

  // Ties are shared.
  view.usable_[1] = 1;
  view.load_ = {5, 0, 0, 7};
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 10'000; ++i) ++counts[size_t(b->pick(view, std::nullopt))];
  EXPECT_EQ(counts[0] + counts[3], 0);
  EXPECT_NEAR(counts[1], 5000, 300);
}

TEST(Balancer, LeastRequestComparesLoadPerWeight) {
  Pool pool({1, 3});
  FakeView view(2);
  auto b = make_balancer("least_request", pool.endpoints, 1);
  view.load_ = {1, 2};  // 1/1 against 2/3
  for (int i = 0; i < 100; ++i) ASSERT_EQ(b->pick(view, std::nullopt), 1);
  view.load_ = {1, 4};  // 1/1 against 4/3
  for (int i = 0; i < 100; ++i) ASSERT_EQ(b->pick(view, std::nullopt), 0);
}

// A closed loop: 64 requests always in flight, each pick followed by the completion of
// a request chosen at random (equally fast endpoints). Load follows weight, and so does
// traffic.
TEST(Balancer, LeastRequestUnderLoadSharesByWeight) {
  std::vector<uint32_t> weights = {1, 2, 3, 4};
  Pool pool(weights);
  FakeView view(weights.size());
  auto b = make_balancer("least_request", pool.endpoints, 4);
  std::mt19937_64 gen(1);
  std::vector<int> counts(weights.size(), 0);
  constexpr uint32_t kInFlight = 64;
  for (uint32_t i = 0; i < kInFlight; ++i) ++view.load_[size_t(b->pick(view, std::nullopt))];
  for (int i = 0; i < kPicks; ++i) {
    int e = b->pick(view, std::nullopt);
    ++counts[size_t(e)];
    ++view.load_[size_t(e)];
    uint64_t done = std::uniform_int_distribution<uint64_t>(0, kInFlight)(gen);
    for (size_t j = 0;; ++j) {
      if (done < view.load_[j]) {
        --view.load_[j];
        break;
      }
      done -= view.load_[j];
    }
  }
  double dev = max_deviation(counts, as_doubles(weights));
  EXPECT_LE(dev, kTolerancePoints);
  RecordProperty("deviation", std::to_string(dev));
}

TEST(Balancer, LeastRequestLargePoolsCompareASample) {
  std::vector<uint32_t> weights(40, 1);
  FakeView view(weights.size());
  std::fill(view.load_.begin(), view.load_.end(), 10);
  view.load_[17] = 0;
  auto b = make_balancer("least_request", Pool(weights).endpoints, 8);
  std::vector<int> counts = count_picks(*b, view, "least_request");
  // The idle endpoint wins whenever it is among the 16 compared: 16 picks in 40.
  EXPECT_NEAR(100.0 * counts[17] / kPicks, 40.0, kTolerancePoints);
  // The others share the remaining picks (about 1.5% each, 2.5% for the ones whose
  // windows never reach endpoint 17).
  for (size_t i = 0; i < counts.size(); ++i)
    if (i != 17) {
      EXPECT_LT(counts[i], kPicks * 3 / 100);
    }

  // An idle large pool is shared evenly.
  std::fill(view.load_.begin(), view.load_.end(), 0);
  EXPECT_LE(max_deviation(count_picks(*b, view, "least_request"), as_doubles(weights)),
            kTolerancePoints);
}

TEST(Balancer, PowerOfTwoChoicesAvoidsTheLoaded) {
  Pool pool({1, 1, 1, 1});
  FakeView view(4);
  auto b = make_balancer("p2c", pool.endpoints, 21);
  // Two distinct endpoints per pick, the less loaded wins: the lowest load wins the 3 of 6
  // pairs it is in, the next 2, the next 1, the highest none.
  view.load_ = {0, 1, 2, 3};
  EXPECT_LE(max_deviation(count_picks(*b, view, "p2c"), {3, 2, 1, 0}), kTolerancePoints);
  // A much more loaded endpoint gets nothing while others are usable.
  view.load_ = {5, 6, 5, 100};
  std::vector<int> counts = count_picks(*b, view, "p2c");
  EXPECT_EQ(counts[3], 0);
  EXPECT_GT(counts[0], kPicks / 4);
}

TEST(Balancer, PowerOfTwoChoicesSkewedWeights) {
  // With one endpoint holding most of the weight, distinct second draws still work.
  Pool pool({1000, 1, 1});
  FakeView view(3);
  view.load_ = {50, 0, 0};
  auto b = make_balancer("p2c", pool.endpoints, 2);
  std::vector<int> counts = count_picks(*b, view, "p2c");
  EXPECT_LT(counts[0], kPicks / 100);
}

TEST(Balancer, InstancesShareOnePlan) {
  Pool pool({1, 2, 3});
  auto plan = make_balancer_plan("maglev", pool.endpoints);
  auto a = plan->instantiate(1);
  auto b = plan->instantiate(2);
  plan.reset();  // the balancers keep it alive
  FakeView view(3);
  for (uint64_t key : random_keys(1000)) ASSERT_EQ(a->pick(view, key), b->pick(view, key));
}

TEST(Balancer, WeightZeroCountsAsOne) {
  Pool pool({0, 1});
  FakeView view(2);
  for (auto kind : kAllKinds) {
    auto b = make_balancer(kind, pool.endpoints, 3);
    EXPECT_LE(max_deviation(count_picks(*b, view, kind), {1, 1}), kTolerancePoints) << kind;
  }
}

// ---- consistent hashing ----

const std::vector<std::string_view> kHashKinds = {"ring_hash", "maglev"};

std::vector<int> map_keys(Balancer& b, const FakeView& view, const std::vector<uint64_t>& keys) {
  std::vector<int> out;
  out.reserve(keys.size());
  for (uint64_t k : keys) out.push_back(b.pick(view, k));
  return out;
}

TEST(Balancer, HashSameKeySameEndpointAcrossInstancesSeedsAndOrder) {
  std::vector<uint64_t> keys = random_keys(kPicks);
  for (auto kind : kHashKinds) {
    Pool pool({1, 2, 3, 4, 1});
    FakeView view(5);
    auto a = make_balancer(kind, pool.endpoints, 1);
    auto b = make_balancer(kind, pool.endpoints, 999);
    EXPECT_EQ(map_keys(*a, view, keys), map_keys(*b, view, keys)) << kind;

    // The same endpoints listed in another order: the same key reaches the same address.
    Pool reversed({});
    reversed.keys.assign(pool.keys.rbegin(), pool.keys.rend());
    for (size_t i = 0; i < 5; ++i)
      reversed.endpoints.push_back({reversed.keys[i], pool.endpoints[4 - i].weight});
    auto r = make_balancer(kind, reversed.endpoints, 3);
    std::vector<int> ma = map_keys(*a, view, keys), mr = map_keys(*r, view, keys);
    for (size_t i = 0; i < keys.size(); ++i) ASSERT_EQ(ma[i], 4 - mr[i]) << kind;
  }
}

TEST(Balancer, HashMappingIsPinned) {
  // Fleet consistency: every Portico computes the same mapping, release after release.
  // If this fails the ring or table construction changed, and sticky keys would move.
  Pool pool({1, 1, 2, 1, 3});
  FakeView view(5);
  const std::vector<std::string> requests = {"user-1", "user-2", "user-3", "user-4",
                                             "user-5", "user-6", "user-7", "user-8",
                                             "/a",     "/b",     "/c",     "10.1.1.1"};
  for (auto kind : kHashKinds) {
    auto b = make_balancer(kind, pool.endpoints, 0);
    std::vector<int> got;
    for (const auto& r : requests) got.push_back(b->pick(view, hash_bytes(r)));
    std::vector<int> pinned = kind == "ring_hash"
                                  ? std::vector<int>{0, 4, 4, 4, 1, 2, 0, 4, 2, 2, 2, 3}
                                  : std::vector<int>{0, 4, 3, 2, 2, 0, 2, 3, 1, 4, 2, 4};
    EXPECT_EQ(got, pinned) << kind;
  }
}

TEST(Balancer, HashRemovingAnEndpointMovesFewKeys) {
  std::vector<uint64_t> keys = random_keys(kPicks, 11);
  for (auto kind : kHashKinds) {
    for (size_t n : {3, 5, 10}) {
      Pool pool(std::vector<uint32_t>(n, 1));
      size_t removed = n / 2;
      Pool smaller = pool.without(removed);
      FakeView view(n), smaller_view(n - 1);
      auto before = make_balancer(kind, pool.endpoints, 1);
      auto after = make_balancer(kind, smaller.endpoints, 2);
      int moved = 0, moved_from_present = 0;
      for (uint64_t k : keys) {
        int was = before->pick(view, k);
        int now = after->pick(smaller_view, k);
        ASSERT_GE(now, 0);
        // Index `now` in the smaller pool is this endpoint in the full one:
        int now_full = now >= int(removed) ? now + 1 : now;
        if (now_full == was) continue;
        ++moved;
        if (was != int(removed)) ++moved_from_present;
      }
      double moved_pct = 100.0 * moved / kPicks;
      double from_present_pct = 100.0 * moved_from_present / kPicks;
      EXPECT_LE(moved_pct, 100.0 / double(n) + kTolerancePoints) << kind << " n=" << n;
      EXPECT_LE(from_present_pct, kTolerancePoints) << kind << " n=" << n;
      if (kind == "ring_hash") {
        EXPECT_EQ(moved_from_present, 0) << n;
      }
      RecordProperty(std::string(kind) + "_n" + std::to_string(n),
                     std::to_string(moved_pct) + "/" + std::to_string(from_present_pct));
    }
  }
}

TEST(Balancer, HashUnusableEndpointMovesOnlyItsKeys) {
  std::vector<uint64_t> keys = random_keys(kPicks, 5);
  for (auto kind : kHashKinds) {
    Pool pool({2, 1, 1, 3, 1, 1});
    FakeView view(6);
    auto b = make_balancer(kind, pool.endpoints, 1);
    std::vector<int> before = map_keys(*b, view, keys);
    view.usable_[3] = 0;
    std::vector<int> during = map_keys(*b, view, keys);
    // Another worker's balancer sends them to the same place.
    auto other = make_balancer(kind, pool.endpoints, 2);
    EXPECT_EQ(map_keys(*other, view, keys), during) << kind;
    for (size_t i = 0; i < keys.size(); ++i) {
      ASSERT_NE(during[i], 3) << kind;
      if (before[i] != 3) {
        ASSERT_EQ(during[i], before[i]) << kind;
      }
    }
    view.usable_[3] = 1;
    EXPECT_EQ(map_keys(*b, view, keys), before) << kind;  // and come back when it does
  }
}

TEST(Balancer, HashWithoutAKeyPicksAtRandomByWeight) {
  for (auto kind : kHashKinds) {
    Pool pool({1, 2, 3, 4});
    FakeView view(4);
    view.usable_[1] = 0;
    auto b = make_balancer(kind, pool.endpoints, 3);
    std::vector<int> counts(4, 0);
    for (int i = 0; i < kPicks; ++i) ++counts[size_t(b->pick(view, std::nullopt))];
    EXPECT_LE(max_deviation(counts, {1, 0, 3, 4}), kTolerancePoints) << kind;
  }
}

TEST(Balancer, HashMostlyDownPool) {
  for (auto kind : kHashKinds) {
    std::vector<uint32_t> weights(50, 1);
    FakeView view(50);
    std::fill(view.usable_.begin(), view.usable_.end(), 0);
    view.usable_[31] = 1;
    auto b = make_balancer(kind, Pool(weights).endpoints, 3);
    for (uint64_t k : random_keys(2000)) ASSERT_EQ(b->pick(view, k), 31) << kind;
  }
}

}  // namespace
}  // namespace portico::upstream
