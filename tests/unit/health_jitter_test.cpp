// Jittered probe intervals stay within interval × (1 ± jitter) and cover that range.
#include "health/Jitter.h"

#include <gtest/gtest.h>

#include <chrono>

#include "upstream/balancers/Rng.h"

namespace portico::health {
namespace {

using std::chrono::milliseconds;

TEST(Jitter, EndsOfTheRange) {
  EXPECT_EQ(jittered_interval(milliseconds(1000), 0.1, 0.0), milliseconds(900));
  EXPECT_EQ(jittered_interval(milliseconds(1000), 0.1, 0.5), milliseconds(1000));
  EXPECT_EQ(jittered_interval(milliseconds(1000), 0.1, 1.0), milliseconds(1100));
  EXPECT_EQ(jittered_interval(milliseconds(200), 0.5, 0.0), milliseconds(100));
  EXPECT_EQ(jittered_interval(milliseconds(200), 0.5, 1.0), milliseconds(300));
}

TEST(Jitter, NoJitterIsTheInterval) {
  for (double u : {0.0, 0.3, 1.0}) {
    EXPECT_EQ(jittered_interval(milliseconds(5000), 0.0, u), milliseconds(5000));
  }
}

TEST(Jitter, OutOfRangeInputsAreClamped) {
  EXPECT_EQ(jittered_interval(milliseconds(1000), 0.1, -3.0), milliseconds(900));
  EXPECT_EQ(jittered_interval(milliseconds(1000), 0.1, 7.0), milliseconds(1100));
  EXPECT_EQ(jittered_interval(milliseconds(1000), 2.0, 0.0), milliseconds(0));
  EXPECT_EQ(jittered_interval(milliseconds(1000), -1.0, 1.0), milliseconds(1000));
}

TEST(Jitter, UnitFromBitsCoversZeroToOneExclusive) {
  EXPECT_EQ(unit_from_bits(0), 0.0);
  EXPECT_LT(unit_from_bits(~uint64_t(0)), 1.0);
  EXPECT_GT(unit_from_bits(~uint64_t(0)), 0.999999);
  EXPECT_EQ(unit_from_bits(uint64_t(1) << 63), 0.5);
}

TEST(Jitter, RandomDrawsStayInBoundsAndSpreadOverThem) {
  upstream::balancers::Rng rng(42);
  milliseconds lo(10'000), hi(0);
  for (int i = 0; i < 10'000; ++i) {
    milliseconds d = jittered_interval(milliseconds(2000), 0.1, unit_from_bits(rng.next()));
    ASSERT_GE(d, milliseconds(1800));
    ASSERT_LE(d, milliseconds(2200));
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_LE(lo, milliseconds(1810)) << "the low end is never drawn";
  EXPECT_GE(hi, milliseconds(2190)) << "the high end is never drawn";
}

}  // namespace
}  // namespace portico::health
