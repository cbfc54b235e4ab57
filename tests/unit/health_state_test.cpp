// The thresholds of active health checks: consecutive results, not totals, decide.
#include "health/HealthState.h"

#include <gtest/gtest.h>

namespace portico::health {
namespace {

using Change = HealthState::Change;

TEST(HealthState, StartsHealthy) {
  HealthState s(2, 3);
  EXPECT_TRUE(s.healthy());
  EXPECT_EQ(s.record(true), Change::None);
  EXPECT_TRUE(s.healthy());
}

TEST(HealthState, UnhealthyAfterThresholdConsecutiveFailures) {
  HealthState s(2, 3);
  EXPECT_EQ(s.record(false), Change::None);
  EXPECT_EQ(s.record(false), Change::None);
  EXPECT_TRUE(s.healthy());
  EXPECT_EQ(s.record(false), Change::BecameUnhealthy);
  EXPECT_FALSE(s.healthy());
  EXPECT_EQ(s.consecutive_failures(), 3u);
  // The transition is reported once, not on every further failure.
  EXPECT_EQ(s.record(false), Change::None);
  EXPECT_EQ(s.record(false), Change::None);
  EXPECT_FALSE(s.healthy());
}

TEST(HealthState, ASuccessResetsTheFailureRun) {
  HealthState s(2, 3);
  for (int round = 0; round < 5; ++round) {
    EXPECT_EQ(s.record(false), Change::None);
    EXPECT_EQ(s.record(false), Change::None);
    EXPECT_EQ(s.record(true), Change::None);
  }
  EXPECT_TRUE(s.healthy()) << "10 failures, never 3 in a row";
}

TEST(HealthState, HealthyAgainAfterThresholdConsecutiveSuccesses) {
  HealthState s(2, 1);
  EXPECT_EQ(s.record(false), Change::BecameUnhealthy);
  EXPECT_EQ(s.record(true), Change::None);
  EXPECT_EQ(s.record(false), Change::None) << "a failure breaks the run of successes";
  EXPECT_EQ(s.record(true), Change::None);
  EXPECT_FALSE(s.healthy());
  EXPECT_EQ(s.record(true), Change::BecameHealthy);
  EXPECT_TRUE(s.healthy());
  EXPECT_EQ(s.consecutive_successes(), 2u);
  EXPECT_EQ(s.record(true), Change::None);
}

TEST(HealthState, ThresholdsOfOneFlipOnEveryChange) {
  HealthState s(1, 1);
  EXPECT_EQ(s.record(false), Change::BecameUnhealthy);
  EXPECT_EQ(s.record(true), Change::BecameHealthy);
  EXPECT_EQ(s.record(false), Change::BecameUnhealthy);
}

TEST(HealthState, ZeroThresholdsActAsOne) {
  HealthState s(0, 0);
  EXPECT_EQ(s.record(true), Change::None);
  EXPECT_EQ(s.record(false), Change::BecameUnhealthy);
  EXPECT_EQ(s.record(true), Change::BecameHealthy);
}

// A reload's new prober starts from the verdict the endpoint had.
TEST(HealthState, StartsFromAnInheritedUnhealthyVerdict) {
  HealthState s(2, 3, false);
  EXPECT_FALSE(s.healthy());
  EXPECT_EQ(s.record(false), Change::None);
  EXPECT_EQ(s.record(true), Change::None);
  EXPECT_EQ(s.record(true), Change::BecameHealthy);
}

}  // namespace
}  // namespace portico::health
