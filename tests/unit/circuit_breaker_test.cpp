// The circuit breaker's shared state (filters/circuit_breaker): what counts as a failure,
// the rolling window, and the closed / open / half-open machine, in simulated time.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "filters/circuit_breaker/BreakerPolicy.h"
#include "filters/circuit_breaker/ErrorRatioBreaker.h"
#include "filters/circuit_breaker/FailureKinds.h"
#include "filters/circuit_breaker/RollingWindow.h"

namespace portico::filters {
namespace {

using std::chrono::milliseconds;
using Kind = Admission::Kind;

// ---- FailureKinds ----

TEST(FailureKinds, ByDefaultEvery5xxAndEveryTransportFailure) {
  FailureKinds kinds;
  EXPECT_FALSE(counts_as_failure(kinds, AttemptResult::Response, 200));
  EXPECT_FALSE(counts_as_failure(kinds, AttemptResult::Response, 404));
  EXPECT_FALSE(counts_as_failure(kinds, AttemptResult::Response, 499));
  EXPECT_TRUE(counts_as_failure(kinds, AttemptResult::Response, 500));
  EXPECT_TRUE(counts_as_failure(kinds, AttemptResult::Response, 503));
  EXPECT_TRUE(counts_as_failure(kinds, AttemptResult::Response, 599));
  EXPECT_TRUE(counts_as_failure(kinds, AttemptResult::ConnectFailure, 0));
  EXPECT_TRUE(counts_as_failure(kinds, AttemptResult::Timeout, 0));
  EXPECT_TRUE(counts_as_failure(kinds, AttemptResult::Reset, 0));
}

TEST(FailureKinds, GatewayErrorsLeaveTheApplicationsOwn500Alone) {
  FailureKinds kinds = FailureKinds::gateway_errors();
  EXPECT_FALSE(counts_as_failure(kinds, AttemptResult::Response, 500));
  EXPECT_FALSE(counts_as_failure(kinds, AttemptResult::Response, 501));
  EXPECT_TRUE(counts_as_failure(kinds, AttemptResult::Response, 502));
  EXPECT_TRUE(counts_as_failure(kinds, AttemptResult::Response, 503));
  EXPECT_TRUE(counts_as_failure(kinds, AttemptResult::Response, 504));
  EXPECT_FALSE(counts_as_failure(kinds, AttemptResult::Response, 505));
  EXPECT_TRUE(counts_as_failure(kinds, AttemptResult::Timeout, 0));
}

TEST(FailureKinds, TransportKindsCanBeTurnedOffAndStatusesAdded) {
  FailureKinds kinds;
  kinds.timeout = false;
  kinds.reset = false;
  kinds.add_statuses(429, 429);
  EXPECT_FALSE(counts_as_failure(kinds, AttemptResult::Timeout, 0));
  EXPECT_FALSE(counts_as_failure(kinds, AttemptResult::Reset, 0));
  EXPECT_TRUE(counts_as_failure(kinds, AttemptResult::ConnectFailure, 0));
  EXPECT_TRUE(counts_as_failure(kinds, AttemptResult::Response, 429));
  // The status of a transport failure is not looked at.
  EXPECT_FALSE(counts_as_failure(kinds, AttemptResult::Timeout, 503));
}

TEST(FailureKinds, StatusesOutsideTheValidRangeNeverCount) {
  FailureKinds kinds;
  kinds.add_statuses(-5, 10'000);  // clipped to 100-599
  EXPECT_TRUE(counts_as_failure(kinds, AttemptResult::Response, 100));
  EXPECT_TRUE(counts_as_failure(kinds, AttemptResult::Response, 599));
  EXPECT_FALSE(counts_as_failure(kinds, AttemptResult::Response, 0));
  EXPECT_FALSE(counts_as_failure(kinds, AttemptResult::Response, -1));
  EXPECT_FALSE(counts_as_failure(kinds, AttemptResult::Response, 600));
  EXPECT_FALSE(counts_as_failure(kinds, AttemptResult::Response, 1'000'000));
}

// ---- BreakerPolicy ----

TEST(BreakerPolicy, DefaultsAreValidAndEachLimitIsNamed) {
  EXPECT_EQ(breaker_policy_error(BreakerPolicy{}), "");
  auto error_with = [](auto change) {
    BreakerPolicy p;
    change(p);
    return breaker_policy_error(p);
  };
  EXPECT_NE(error_with([](BreakerPolicy& p) { p.failure_ratio = 0; }), "");
  EXPECT_NE(error_with([](BreakerPolicy& p) { p.failure_ratio = 1.01; }), "");
  EXPECT_NE(error_with([](BreakerPolicy& p) { p.failure_ratio = std::nan(""); }), "");
  EXPECT_EQ(error_with([](BreakerPolicy& p) { p.failure_ratio = 1; }), "");
  EXPECT_NE(error_with([](BreakerPolicy& p) { p.min_requests = 0; }), "");
  EXPECT_NE(error_with([](BreakerPolicy& p) { p.window_buckets = 0; }), "");
  EXPECT_NE(error_with([](BreakerPolicy& p) { p.window_buckets = kMaxWindowBuckets + 1; }), "");
  EXPECT_NE(error_with([](BreakerPolicy& p) { p.window = milliseconds(9); }), "");
  EXPECT_NE(error_with([](BreakerPolicy& p) { p.open_for = milliseconds(0); }), "");
  EXPECT_NE(error_with([](BreakerPolicy& p) { p.half_open_requests = 0; }), "");
  EXPECT_NE(error_with([](BreakerPolicy& p) { p.half_open_requests = kMaxHalfOpenRequests + 1; }),
            "");
}

// ---- RollingWindow ----

TEST(RollingWindow, CountsEveryOutcomeInTheWindow) {
  RollingWindow w(milliseconds(10'000), 10);
  for (uint64_t t = 0; t < 10'000; t += 100) w.add(0, t % 300 == 0, t);
  WindowCounts c = w.counts(0, 9'999);
  EXPECT_EQ(c.requests, 100u);
  EXPECT_EQ(c.failures, 34u);  // t = 0, 300, ..., 9900
}

TEST(RollingWindow, OldOutcomesAgeOutOneBucketAtATime) {
  RollingWindow w(milliseconds(10'000), 10);  // 1 s buckets
  w.add(0, true, 0);                          // bucket [0, 1000)
  w.add(0, true, 999);                        // same bucket, at its last millisecond
  w.add(0, false, 1'000);                     // the next one
  w.add(0, true, 5'500);
  EXPECT_EQ(w.counts(0, 9'999).requests, 4u);
  // At 10 000 the first bucket has left the window; the one from 1 000 has not.
  WindowCounts c = w.counts(0, 10'000);
  EXPECT_EQ(c.requests, 2u);
  EXPECT_EQ(c.failures, 1u);
  EXPECT_EQ(w.counts(0, 10'999).requests, 2u);
  EXPECT_EQ(w.counts(0, 11'000).requests, 1u);
  EXPECT_EQ(w.counts(0, 14'999).requests, 1u);  // the one at 5 500 is in bucket [5000, 6000)
  EXPECT_EQ(w.counts(0, 15'000).requests, 0u);
}

TEST(RollingWindow, ABucketReusedOnTheNextLapStartsFromZero) {
  RollingWindow w(milliseconds(1'000), 10);  // 100 ms buckets
  for (int i = 0; i < 5; ++i) w.add(0, true, 50);
  w.add(0, false, 1'050);  // same slot, one lap later
  WindowCounts c = w.counts(0, 1'050);
  EXPECT_EQ(c.requests, 1u);
  EXPECT_EQ(c.failures, 0u);
}

TEST(RollingWindow, AnOutcomeOlderThanItsBucketsLapIsDropped) {
  RollingWindow w(milliseconds(1'000), 10);
  w.add(0, false, 1'050);
  w.add(0, true, 50);  // a worker's clock a whole window behind: too old to count
  WindowCounts c = w.counts(0, 1'050);
  EXPECT_EQ(c.requests, 1u);
  EXPECT_EQ(c.failures, 0u);
}

TEST(RollingWindow, ClocksALittleApartAllCount) {
  RollingWindow w(milliseconds(1'000), 10);
  w.add(0, true, 5'000);
  w.add(0, true, 4'980);  // read a little earlier by another worker
  w.add(0, true, 5'120);  // a little later
  EXPECT_EQ(w.counts(0, 5'000).requests, 3u);
  EXPECT_EQ(w.counts(0, 5'120).requests, 3u);
}

TEST(RollingWindow, EachPeriodHasItsOwnCounts) {
  RollingWindow w(milliseconds(1'000), 10);
  w.add(3, true, 100);
  w.add(3, true, 200);
  EXPECT_EQ(w.counts(3, 200).requests, 2u);
  EXPECT_EQ(w.counts(6, 200).requests, 0u);  // a new period starts empty
  w.add(6, false, 200);
  w.add(3, true, 200);  // late, from the earlier period: dropped, not mixed in
  EXPECT_EQ(w.counts(6, 200).requests, 1u);
  EXPECT_EQ(w.counts(6, 200).failures, 0u);
  EXPECT_EQ(w.counts(3, 200).requests, 1u);  // its bucket at 100 ms is still there
}

TEST(RollingWindow, PeriodNumbersWrapAround) {
  RollingWindow w(milliseconds(1'000), 10);
  w.add(254, true, 100);
  w.add(257, false, 100);  // 257 is 1 modulo 256, and later than 254
  w.add(254, true, 100);
  EXPECT_EQ(w.counts(257, 100).requests, 1u);
  EXPECT_EQ(w.counts(257, 100).failures, 0u);
}

TEST(RollingWindow, ALongIdleTimeForgetsEverything) {
  RollingWindow w(milliseconds(10'000), 10);
  for (uint64_t t = 0; t < 10'000; t += 10) w.add(0, true, t);
  EXPECT_EQ(w.counts(0, 9'999).requests, 1'000u);
  for (uint64_t later : {20'000ull, 86'400'000ull, 3'600'000'000ull}) {
    EXPECT_EQ(w.counts(0, later).requests, 0u) << later;
  }
}

TEST(RollingWindow, ABucketStopsCountingWhenFullKeepingItsRatio) {
  RollingWindow w(milliseconds(10'000), 10);
  for (uint64_t i = 0; i < kMaxBucketRequests + 10; ++i) w.add(0, i % 2 == 0, 500);
  WindowCounts c = w.counts(0, 500);
  EXPECT_EQ(c.requests, kMaxBucketRequests);
  EXPECT_EQ(c.failures, (kMaxBucketRequests + 1) / 2);
}

TEST(RollingWindow, ConcurrentOutcomesAreNeverLost) {
  RollingWindow w(milliseconds(1'000), 10);  // 100 ms buckets
  constexpr int kThreads = 4;
  constexpr int kEach = 20'000;
  std::vector<std::thread> threads;
  for (int n = 0; n < kThreads; ++n) {
    threads.emplace_back([&w, n] {
      // Every thread walks the same 900 ms, so buckets change lap under contention.
      for (int i = 0; i < kEach; ++i) w.add(0, (i + n) % 4 == 0, 1'000 + uint64_t(i) % 900);
    });
  }
  for (auto& t : threads) t.join();
  WindowCounts c = w.counts(0, 1'900);
  EXPECT_EQ(c.requests, uint64_t(kThreads * kEach));
  EXPECT_EQ(c.failures, uint64_t(kThreads * kEach / 4));
}

// ---- ErrorRatioBreaker ----

BreakerPolicy test_policy() {
  BreakerPolicy p;
  p.failure_ratio = 0.5;
  p.min_requests = 10;
  p.window = milliseconds(10'000);
  p.window_buckets = 10;
  p.open_for = milliseconds(30'000);
  p.half_open_requests = 3;
  return p;
}

// Admits and records one request; returns how it was admitted.
Kind run(ErrorRatioBreaker& b, bool failure, uint64_t now) {
  Admission a = b.admit(now);
  Kind kind = a.kind();
  b.record(a, failure, now);
  return kind;
}

// Opens `b` at `now` with min_requests failures.
void trip(ErrorRatioBreaker& b, uint64_t now) {
  for (uint32_t i = 0; i < b.policy().min_requests; ++i) run(b, true, now);
  ASSERT_EQ(b.state(now), BreakerState::Open);
}

TEST(ErrorRatioBreaker, StartsClosedAndAdmitsEverything) {
  ErrorRatioBreaker b(test_policy());
  EXPECT_EQ(b.state(0), BreakerState::Closed);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(run(b, false, uint64_t(i)), Kind::Allowed);
  EXPECT_EQ(b.retry_after_ms(0), 0u);
  EXPECT_EQ(b.window_counts(99).requests, 100u);
}

TEST(ErrorRatioBreaker, StaysClosedBelowMinRequestsWhateverTheRatio) {
  ErrorRatioBreaker b(test_policy());
  for (int i = 0; i < 9; ++i) EXPECT_EQ(run(b, true, 1'000), Kind::Allowed);
  EXPECT_EQ(b.state(1'000), BreakerState::Closed);
  EXPECT_EQ(b.window_counts(1'000).failures, 9u);
  // The 10th failure reaches min_requests at a ratio of 1.
  run(b, true, 1'000);
  EXPECT_EQ(b.state(1'000), BreakerState::Open);
}

TEST(ErrorRatioBreaker, OpensExactlyAtTheThreshold) {
  ErrorRatioBreaker b(test_policy());
  for (int i = 0; i < 5; ++i) run(b, true, 1'000);
  for (int i = 0; i < 4; ++i) run(b, false, 1'000);
  EXPECT_EQ(b.state(1'000), BreakerState::Closed);  // 5/9, but only 9 requests
  // A success brings the window to min_requests at exactly 5/10.
  run(b, false, 1'000);
  EXPECT_EQ(b.state(1'000), BreakerState::Open);
  EXPECT_EQ(b.counters().opened_total, 1u);
}

TEST(ErrorRatioBreaker, ARatioJustUnderTheThresholdStaysClosed) {
  BreakerPolicy p = test_policy();
  p.failure_ratio = 0.3;  // not exact in binary: compared as a ratio, not a product
  p.min_requests = 100;
  ErrorRatioBreaker b(p);
  for (int i = 0; i < 29; ++i) run(b, true, 1'000);
  for (int i = 0; i < 71; ++i) run(b, false, 1'000);
  EXPECT_EQ(b.state(1'000), BreakerState::Closed);  // 29/100
  run(b, true, 1'000);
  EXPECT_EQ(b.state(1'000), BreakerState::Closed);  // 30/101
  run(b, true, 1'000);
  EXPECT_EQ(b.state(1'000), BreakerState::Open);  // 31/102

  ErrorRatioBreaker at(p);
  for (int i = 0; i < 70; ++i) run(at, false, 1'000);
  for (int i = 0; i < 29; ++i) run(at, true, 1'000);
  EXPECT_EQ(at.state(1'000), BreakerState::Closed);  // 99 requests
  run(at, true, 1'000);                              // 30/100 = 0.3
  EXPECT_EQ(at.state(1'000), BreakerState::Open);
}

TEST(ErrorRatioBreaker, OldFailuresAgeOutOfTheWindow) {
  ErrorRatioBreaker b(test_policy());
  for (int i = 0; i < 9; ++i) run(b, true, 500);  // bucket [0, 1000)
  // 9.5 s later they still count: one more failure opens.
  EXPECT_EQ(b.window_counts(9'999).failures, 9u);
  // At 10 s their bucket has left the window, so the 10th failure is alone.
  run(b, true, 10'000);
  EXPECT_EQ(b.state(10'000), BreakerState::Closed);
  EXPECT_EQ(b.window_counts(10'000).requests, 1u);
}

TEST(ErrorRatioBreaker, FailuresStraddlingBucketsCountUntilTheirOwnBucketAgesOut) {
  ErrorRatioBreaker b(test_policy());
  for (int i = 0; i < 5; ++i) run(b, true, 999);    // last ms of bucket 0
  for (int i = 0; i < 4; ++i) run(b, true, 1'000);  // first ms of bucket 1
  run(b, false, 10'500);                            // bucket 0 gone: 4 + 1 in the window
  EXPECT_EQ(b.state(10'500), BreakerState::Closed);
  EXPECT_EQ(b.window_counts(10'500).requests, 5u);
  for (int i = 0; i < 5; ++i) run(b, true, 10'600);
  EXPECT_EQ(b.state(10'600), BreakerState::Open);  // 9 failures of 10
}

TEST(ErrorRatioBreaker, OpenRejectsEverythingUntilOpenForThenTurnsHalfOpen) {
  ErrorRatioBreaker b(test_policy());
  trip(b, 5'000);
  EXPECT_EQ(b.retry_after_ms(5'000), 30'000u);
  EXPECT_EQ(b.window_counts(5'000).requests, 0u);
  for (uint64_t t = 5'000; t < 35'000; t += 1'000) EXPECT_EQ(run(b, false, t), Kind::Rejected);
  EXPECT_EQ(run(b, false, 34'999), Kind::Rejected);
  EXPECT_EQ(b.retry_after_ms(34'999), 1u);
  EXPECT_EQ(b.counters().rejected_total, 31u);
  EXPECT_EQ(b.state(34'999), BreakerState::Open);
  EXPECT_EQ(b.state(35'000), BreakerState::HalfOpen);  // before any admit moves it
  EXPECT_EQ(b.counters().half_opened_total, 0u);
  EXPECT_EQ(b.retry_after_ms(35'000), 0u);
  EXPECT_EQ(b.admit(35'000).kind(), Kind::Probe);
  EXPECT_EQ(b.counters().half_opened_total, 1u);
}

TEST(ErrorRatioBreaker, HalfOpenAdmitsExactlyHalfOpenRequestsConcurrentProbes) {
  ErrorRatioBreaker b(test_policy());
  trip(b, 0);
  std::vector<Admission> probes;
  for (int i = 0; i < 3; ++i) probes.push_back(b.admit(30'000));
  for (const Admission& a : probes) EXPECT_EQ(a.kind(), Kind::Probe);
  uint64_t rejected = b.counters().rejected_total;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(b.admit(30'001).kind(), Kind::Rejected);
  EXPECT_EQ(b.counters().rejected_total, rejected + 10);
  EXPECT_EQ(b.state(30'001), BreakerState::HalfOpen);
  EXPECT_EQ(b.retry_after_ms(30'001), 0u);
}

TEST(ErrorRatioBreaker, AllProbesSucceedingClosesWithAnEmptyWindow) {
  ErrorRatioBreaker b(test_policy());
  trip(b, 0);
  Admission p1 = b.admit(30'000), p2 = b.admit(30'000);
  b.record(p1, false, 30'010);
  // A succeeded probe keeps its slot: one more may be admitted, not two.
  Admission p3 = b.admit(30'020);
  EXPECT_EQ(p3.kind(), Kind::Probe);
  EXPECT_EQ(b.admit(30'020).kind(), Kind::Rejected);
  b.record(p2, false, 30'030);
  EXPECT_EQ(b.state(30'030), BreakerState::HalfOpen);
  b.record(p3, false, 30'040);
  EXPECT_EQ(b.state(30'040), BreakerState::Closed);
  EXPECT_EQ(b.window_counts(30'040).requests, 0u);
  // The failures that opened it (at 0, inside a window ending now) do not count again.
  for (int i = 0; i < 9; ++i) run(b, true, 30'050);
  EXPECT_EQ(b.state(30'050), BreakerState::Closed);
  BreakerCounters c = b.counters();
  EXPECT_EQ(c.opened_total, 1u);
  EXPECT_EQ(c.half_opened_total, 1u);
  EXPECT_EQ(c.closed_total, 1u);
}

TEST(ErrorRatioBreaker, OneProbeFailingReopensForOpenForFromTheFailure) {
  ErrorRatioBreaker b(test_policy());
  trip(b, 0);
  Admission p1 = b.admit(30'000), p2 = b.admit(30'000), p3 = b.admit(30'000);
  b.record(p1, false, 30'100);
  b.record(p2, true, 30'200);
  EXPECT_EQ(b.state(30'200), BreakerState::Open);
  EXPECT_EQ(b.retry_after_ms(30'200), 30'000u);
  // The last probe, from the ended half-open phase, decides nothing.
  b.record(p3, false, 30'300);
  EXPECT_EQ(b.counters().closed_total, 0u);
  EXPECT_EQ(b.state(30'300), BreakerState::Open);
  EXPECT_EQ(run(b, false, 60'199), Kind::Rejected);
  EXPECT_EQ(b.admit(60'200).kind(), Kind::Probe);
  BreakerCounters c = b.counters();
  EXPECT_EQ(c.opened_total, 2u);
  EXPECT_EQ(c.half_opened_total, 2u);
  EXPECT_EQ(c.closed_total, 0u);
}

TEST(ErrorRatioBreaker, AProbeStillRunningAfterItsPhaseEndedKeepsItsSlotButDecidesNothing) {
  ErrorRatioBreaker b(test_policy());  // 3 probes
  trip(b, 0);
  Admission slow1 = b.admit(30'000), slow2 = b.admit(30'000), failing = b.admit(30'000);
  b.record(failing, true, 30'100);  // reopens; slow1 and slow2 are still running
  EXPECT_EQ(b.state(30'100), BreakerState::Open);
  // Half-open again: the two still in flight leave room for one new probe only.
  Admission fresh = b.admit(60'100);
  EXPECT_EQ(fresh.kind(), Kind::Probe);
  EXPECT_EQ(b.admit(60'100).kind(), Kind::Rejected);
  // Their outcomes decide nothing, neither a failure nor a success...
  b.record(slow1, true, 60'200);
  EXPECT_EQ(b.state(60'200), BreakerState::HalfOpen);
  // ...but each frees its slot for a probe of this phase.
  Admission fresh2 = b.admit(60'200);
  EXPECT_EQ(fresh2.kind(), Kind::Probe);
  b.record(slow2, false, 60'300);
  Admission fresh3 = b.admit(60'300);
  EXPECT_EQ(fresh3.kind(), Kind::Probe);
  for (Admission* a : {&fresh, &fresh2, &fresh3}) b.record(*a, false, 60'400);
  EXPECT_EQ(b.state(60'400), BreakerState::Closed);
  BreakerCounters c = b.counters();
  EXPECT_EQ(c.opened_total, 2u);
  EXPECT_EQ(c.half_opened_total, 2u);
  EXPECT_EQ(c.closed_total, 1u);
}

TEST(ErrorRatioBreaker, AnAbandonedProbeGivesItsSlotBack) {
  BreakerPolicy p = test_policy();
  p.half_open_requests = 1;
  ErrorRatioBreaker b(p);
  trip(b, 0);
  Admission probe = b.admit(30'000);
  ASSERT_EQ(probe.kind(), Kind::Probe);
  EXPECT_EQ(b.admit(30'000).kind(), Kind::Rejected);
  b.abandon(probe);  // the client left
  Admission next = b.admit(30'001);
  EXPECT_EQ(next.kind(), Kind::Probe);
  // Handing the first one back again does nothing: it was left Rejected, so it cannot
  // free the slot `next` holds.
  EXPECT_EQ(probe.kind(), Kind::Rejected);
  b.abandon(probe);
  b.record(probe, false, 30'001);
  EXPECT_EQ(b.admit(30'001).kind(), Kind::Rejected);
  EXPECT_EQ(b.state(30'001), BreakerState::HalfOpen);
  b.record(next, false, 30'002);
  EXPECT_EQ(b.state(30'002), BreakerState::Closed);
}

TEST(ErrorRatioBreaker, AbandoningAnythingButAProbeChangesNothing) {
  ErrorRatioBreaker b(test_policy());
  for (int i = 0; i < 9; ++i) run(b, true, 0);
  Admission allowed = b.admit(0);
  b.abandon(allowed);
  Admission nothing;
  b.abandon(nothing);
  EXPECT_EQ(b.window_counts(0).requests, 9u);
  EXPECT_EQ(b.state(0), BreakerState::Closed);
  b.record(nothing, true, 0);  // a rejection has no outcome to count
  EXPECT_EQ(b.window_counts(0).requests, 9u);
}

TEST(ErrorRatioBreaker, OutcomesOfRequestsAdmittedBeforeTheOpenAreIgnored) {
  ErrorRatioBreaker b(test_policy());
  std::vector<Admission> slow;
  for (int i = 0; i < 20; ++i) slow.push_back(b.admit(0));  // still running when it opens
  trip(b, 100);
  // While open: ignored, nothing reopens or extends it.
  for (int i = 0; i < 5; ++i) b.record(slow[size_t(i)], true, 200);
  EXPECT_EQ(b.retry_after_ms(200), 29'900u);
  // While half-open: only probes decide; neither a failure nor a success of these does.
  Admission probe = b.admit(30'100);
  for (int i = 5; i < 10; ++i) b.record(slow[size_t(i)], true, 30'200);
  for (int i = 10; i < 13; ++i) b.record(slow[size_t(i)], false, 30'200);
  EXPECT_EQ(b.state(30'200), BreakerState::HalfOpen);
  b.abandon(probe);
  // Closed again: they belong to the earlier closed phase and stay out of the new window.
  std::vector<Admission> probes;
  for (int i = 0; i < 3; ++i) probes.push_back(b.admit(30'300));
  for (Admission& a : probes) b.record(a, false, 30'300);
  ASSERT_EQ(b.state(30'300), BreakerState::Closed);
  for (int i = 13; i < 20; ++i) b.record(slow[size_t(i)], true, 30'400);
  EXPECT_EQ(b.window_counts(30'400).requests, 0u);
  for (int i = 0; i < 9; ++i) run(b, true, 30'500);
  EXPECT_EQ(b.state(30'500), BreakerState::Closed);  // 9 of its own, below min_requests
  BreakerCounters c = b.counters();
  EXPECT_EQ(c.opened_total, 1u);
  EXPECT_EQ(c.half_opened_total, 1u);
  EXPECT_EQ(c.closed_total, 1u);
}

TEST(ErrorRatioBreaker, EachTransitionIsCountedOnce) {
  ErrorRatioBreaker b(test_policy());
  trip(b, 0);
  // More failures while open: rejected, and not another opening.
  for (int i = 0; i < 50; ++i) run(b, true, 1'000);
  EXPECT_EQ(b.counters().opened_total, 1u);
  EXPECT_EQ(b.counters().rejected_total, 50u);
  // Many admissions as it turns half-open: one transition.
  for (int i = 0; i < 50; ++i) b.admit(30'000);
  BreakerCounters c = b.counters();
  EXPECT_EQ(c.half_opened_total, 1u);
  EXPECT_EQ(c.rejected_total, 50u + 47u);
  EXPECT_EQ(c.opened_total, 1u);
  EXPECT_EQ(c.closed_total, 0u);
}

TEST(ErrorRatioBreaker, AClockReadingEarlierThanTheOpeningCountsAsTheOpening) {
  ErrorRatioBreaker b(test_policy());
  trip(b, 50'000);
  // Another worker's clock, a little behind.
  EXPECT_EQ(b.admit(49'990).kind(), Kind::Rejected);
  EXPECT_EQ(b.retry_after_ms(49'990), 30'000u);
  EXPECT_EQ(b.state(49'990), BreakerState::Open);
  EXPECT_EQ(b.admit(80'000).kind(), Kind::Probe);
  // Once half-open, a late clock changes nothing either.
  EXPECT_EQ(b.admit(10).kind(), Kind::Probe);
}

TEST(ErrorRatioBreaker, ValuesThatWouldBreakTheArithmeticAreClamped) {
  BreakerPolicy p;
  p.min_requests = 0;
  p.window = milliseconds(0);
  p.window_buckets = 0;
  p.half_open_requests = 0;
  p.open_for = milliseconds(-5);
  ErrorRatioBreaker b(p);
  EXPECT_EQ(b.policy().min_requests, 1u);
  EXPECT_EQ(b.policy().window_buckets, 1u);
  EXPECT_EQ(b.policy().half_open_requests, 1u);
  run(b, true, 0);
  EXPECT_EQ(b.state(0), BreakerState::HalfOpen);  // open for 0 ms
  EXPECT_EQ(b.admit(0).kind(), Kind::Probe);
  EXPECT_EQ(b.admit(0).kind(), Kind::Rejected);
}

// Workers hammering one breaker through unhealthy and healthy stretches of simulated
// time: it opens, probes never exceed half_open_requests in flight, every admission is
// handed back, and the transitions add up.
TEST(ErrorRatioBreaker, ManyThreadsKeepTheCountsConsistent) {
  BreakerPolicy p;
  p.failure_ratio = 0.5;
  p.min_requests = 20;
  p.window = milliseconds(200);  // short against the 500 ms stretches, so each one decides
  p.window_buckets = 10;
  p.open_for = milliseconds(50);
  p.half_open_requests = 3;
  ErrorRatioBreaker b(p);

  constexpr int kThreads = 6;
  constexpr int kEach = 30'000;
  std::atomic<uint64_t> clock{0};
  std::atomic<int> probes_in_flight{0};
  std::atomic<int> most_probes_in_flight{0};
  std::atomic<uint64_t> probes_admitted{0};
  std::atomic<uint64_t> rejections_seen{0};
  std::vector<std::thread> threads;
  for (int n = 0; n < kThreads; ++n) {
    threads.emplace_back([&, n] {
      std::minstd_rand random(uint32_t(n) + 1);
      for (int i = 0; i < kEach; ++i) {
        // Each worker reads the shared clock, a few ms apart from the others.
        uint64_t now = clock.fetch_add(1, std::memory_order_relaxed) / 8;
        bool unhealthy = (now / 500) % 2 == 0;  // 500 ms bad, 500 ms good, ...
        bool failure = unhealthy ? random() % 10 < 8 : random() % 50 == 0;
        Admission a = b.admit(now);
        if (a.kind() == Kind::Rejected) {
          rejections_seen.fetch_add(1, std::memory_order_relaxed);
          std::this_thread::yield();  // so rejections do not run the clock past the probes
          continue;
        }
        if (a.kind() == Kind::Probe) {
          probes_admitted.fetch_add(1, std::memory_order_relaxed);
          int in_flight = probes_in_flight.fetch_add(1) + 1;
          int most = most_probes_in_flight.load();
          while (in_flight > most &&
                 !most_probes_in_flight.compare_exchange_weak(most, in_flight)) {
          }
          std::this_thread::yield();  // let others try for a slot meanwhile
          // Counted out before handing back: once handed back, its slot may be taken.
          probes_in_flight.fetch_sub(1);
        }
        if (random() % 20 == 0) {
          b.abandon(a);
        } else {
          b.record(a, failure, now + random() % 3);
        }
      }
    });
  }
  for (auto& t : threads) t.join();

  EXPECT_LE(most_probes_in_flight.load(), 3);
  EXPECT_GE(most_probes_in_flight.load(), 1);
  // Bring it to closed from wherever it stopped: wait out open_for, then probe healthily.
  uint64_t now = clock.load() / 8 + 1'000;
  for (int i = 0; i < 10 && b.state(now) != BreakerState::Closed; ++i) {
    Admission a = b.admit(now);
    if (a.kind() == Kind::Probe) probes_admitted.fetch_add(1);
    b.record(a, false, now);
  }
  ASSERT_EQ(b.state(now), BreakerState::Closed);

  BreakerCounters c = b.counters();
  // 22 stretches of 500 ms, every other one unhealthy: it opened and closed again
  // several times.
  EXPECT_GE(c.opened_total, 5u);
  EXPECT_GE(c.closed_total, 2u);
  // Starting and ending closed: every opening turned half-open once, and each half-open
  // phase ended by reopening or by closing.
  EXPECT_EQ(c.opened_total, c.half_opened_total);
  EXPECT_LE(c.closed_total, c.half_opened_total);
  EXPECT_EQ(c.rejected_total, rejections_seen.load());
  // Closing takes half_open_requests probes each time.
  EXPECT_GE(probes_admitted.load(), 3 * c.closed_total);
  std::printf("opened %llu, half-opened %llu, closed %llu, rejected %llu, probes %llu\n",
              (unsigned long long)c.opened_total, (unsigned long long)c.half_opened_total,
              (unsigned long long)c.closed_total, (unsigned long long)c.rejected_total,
              (unsigned long long)probes_admitted.load());
}

// Many threads arriving as open_for ends: one transition to half-open, exactly
// half_open_requests probes, the rest rejected.
TEST(ErrorRatioBreaker, ARushAtTheEndOfOpenForAdmitsExactlyTheProbes) {
  for (int round = 0; round < 20; ++round) {
    BreakerPolicy p = test_policy();
    p.half_open_requests = 2;
    ErrorRatioBreaker b(p);
    trip(b, 0);
    constexpr int kThreads = 4;
    std::atomic<int> probes{0};
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int n = 0; n < kThreads; ++n) {
      threads.emplace_back([&] {
        ready.fetch_add(1);
        while (ready.load() < kThreads) std::this_thread::yield();
        for (int i = 0; i < 50; ++i) probes += b.admit(30'000).kind() == Kind::Probe;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(probes.load(), 2);
    BreakerCounters c = b.counters();
    EXPECT_EQ(c.half_opened_total, 1u);
    EXPECT_EQ(c.rejected_total, uint64_t(kThreads * 50 - 2));
  }
}

}  // namespace
}  // namespace portico::filters
