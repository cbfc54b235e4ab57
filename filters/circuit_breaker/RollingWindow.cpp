#include "filters/circuit_breaker/RollingWindow.h"

#include <algorithm>

namespace portico::filters {
namespace {

// A slice's word, high bits first: period 8 | lap 18 | requests 19 | failures 19.
constexpr int kCountBits = 19;
constexpr int kLapBits = 18;
constexpr int kPeriodBits = 8;
constexpr uint64_t kCountMask = (uint64_t(1) << kCountBits) - 1;
constexpr uint64_t kLapMask = (uint64_t(1) << kLapBits) - 1;
constexpr uint64_t kPeriodMask = (uint64_t(1) << kPeriodBits) - 1;
constexpr int kRequestsShift = kCountBits;
constexpr int kLapShift = 2 * kCountBits;
constexpr int kPeriodShift = kLapShift + kLapBits;
static_assert(kPeriodShift + kPeriodBits == 64);
static_assert(kCountMask == kMaxBucketRequests);

struct Slice {
  uint64_t period;  // modulo 2^kPeriodBits
  uint64_t lap;     // modulo 2^kLapBits
  uint64_t requests;
  uint64_t failures;
};

Slice unpack(uint64_t word) {
  return {(word >> kPeriodShift) & kPeriodMask, (word >> kLapShift) & kLapMask,
          (word >> kRequestsShift) & kCountMask, word & kCountMask};
}

uint64_t pack(const Slice& s) {
  return (s.period & kPeriodMask) << kPeriodShift | (s.lap & kLapMask) << kLapShift |
         s.requests << kRequestsShift | s.failures;
}

// a - b for numbers kept modulo 2^bits, as the signed distance of smallest magnitude.
int64_t wrapped_difference(uint64_t a, uint64_t b, int bits) {
  uint64_t mask = (uint64_t(1) << bits) - 1;
  uint64_t d = (a - b) & mask;
  return d > mask / 2 ? int64_t(d) - int64_t(mask) - 1 : int64_t(d);
}

}  // namespace

RollingWindow::RollingWindow(std::chrono::milliseconds window, uint32_t buckets)
    : bucket_ms_(std::max<uint64_t>(
          1, uint64_t(std::max<int64_t>(0, window.count())) / std::max<uint32_t>(1, buckets))),
      buckets_(std::max<uint32_t>(1, buckets)) {}

void RollingWindow::add(uint64_t period, bool failure, uint64_t now_ms) {
  uint64_t index = now_ms / bucket_ms_;
  uint64_t lap = index / buckets_.size();
  std::atomic<uint64_t>& bucket = buckets_[index % buckets_.size()];
  Slice fresh{period, lap, 1, failure ? 1u : 0u};
  // Relaxed: the word is the whole record; nothing else is published with it.
  uint64_t word = bucket.load(std::memory_order_relaxed);
  for (;;) {
    Slice slice = unpack(word);
    int64_t newer_period = wrapped_difference(slice.period, period, kPeriodBits);
    int64_t newer_lap = wrapped_difference(slice.lap, lap, kLapBits);
    uint64_t next;
    if (newer_period > 0 || (newer_period == 0 && newer_lap > 0)) {
      return;  // the slice has moved on past this outcome
    } else if (newer_period < 0 || newer_lap < 0) {
      next = pack(fresh);  // the first outcome of this lap or period resets the slice
    } else if (slice.requests == kMaxBucketRequests) {
      return;
    } else {
      ++slice.requests;
      slice.failures += failure ? 1 : 0;
      next = pack(slice);
    }
    if (bucket.compare_exchange_weak(word, next, std::memory_order_relaxed)) return;
  }
}

WindowCounts RollingWindow::counts(uint64_t period, uint64_t now_ms) const {
  const int64_t n = int64_t(buckets_.size());
  const int64_t now_index = int64_t(now_ms / bucket_ms_);
  const int64_t now_lap = now_index / n;
  const int64_t now_slot = now_index % n;
  WindowCounts total;
  for (int64_t slot = 0; slot < n; ++slot) {
    Slice slice = unpack(buckets_[size_t(slot)].load(std::memory_order_relaxed));
    if (wrapped_difference(slice.period, period, kPeriodBits) != 0) continue;
    // The lap of the one index in (now - window, now] that lands in this slot: this lap up
    // to now's slot, the previous one after it (-1 before the clock has gone round once).
    // Read per outcome: no division in the loop.
    int64_t lap = slot <= now_slot ? now_lap : now_lap - 1;
    int64_t ahead = wrapped_difference(slice.lap, uint64_t(lap), kLapBits);
    if (ahead != 0 && ahead != 1) continue;  // aged out (or from a much later clock)
    total.requests += slice.requests;
    total.failures += slice.failures;
  }
  return total;
}

}  // namespace portico::filters
