// The outcomes of the last `window` of requests, kept in `buckets` slices of time so old
// outcomes age out one slice at a time. Shared by every worker and updated without a lock.
//
// Each slice is one 64-bit word holding whose it is — the breaker period (its closed
// phase) and the lap of the ring — and its request and failure counts, changed only by
// compare-and-swap. So a slice that moves on to a new lap or a new period is never mixed
// with counts of the old one, and a concurrent outcome is never lost: a slice is reset
// by the same swap that counts the first outcome of its new lap.
//
// What the packing costs, both far outside what a breaker needs:
// - a slice counts at most kMaxBucketRequests requests; beyond that, outcomes in that
//   slice are dropped, which keeps its ratio of the outcomes it holds;
// - laps are kept modulo 2^18, so a slice left untouched for 2^18 windows (30 days with a
//   10 s window) and read at exactly a multiple of that could count its old outcomes;
// - periods are kept modulo 256: an outcome is known to be stale only when the breaker
//   has gone through fewer than 128 period numbers since; the breaker checks the full
//   period before it records, so only a thread stalled across that many cycles could
//   slip one outcome in.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

namespace portico::filters {

struct WindowCounts {
  uint64_t requests = 0;
  uint64_t failures = 0;
};

inline double failure_ratio(const WindowCounts& c) {
  return c.requests ? double(c.failures) / double(c.requests) : 0.0;
}

inline constexpr uint64_t kMaxBucketRequests = (uint64_t(1) << 19) - 1;

class RollingWindow {
 public:
  // `window` is rounded down to a whole number of milliseconds per bucket (at least 1).
  RollingWindow(std::chrono::milliseconds window, uint32_t buckets);
  RollingWindow(const RollingWindow&) = delete;
  RollingWindow& operator=(const RollingWindow&) = delete;

  // Counts one outcome at `now_ms` for `period`. Dropped when its slice already belongs
  // to a later period, or to a later lap (the outcome is older than the window).
  void add(uint64_t period, bool failure, uint64_t now_ms);
  // The outcomes of `period` in the window ending at `now_ms`. Slices written by a worker
  // whose clock reads up to one window later count too.
  WindowCounts counts(uint64_t period, uint64_t now_ms) const;

 private:
  uint64_t bucket_ms_;
  std::vector<std::atomic<uint64_t>> buckets_;
};

}  // namespace portico::filters
