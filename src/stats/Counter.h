// Statistics written by one worker thread and read by the admin thread when scraped.
// One writer means no read-modify-write instruction: an increment is a plain load and
// store (relaxed atomics, so the reader sees whole values and there is no data race), and
// nothing is shared between workers: scrapes sum the workers' copies.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace portico::stats {

class Counter {
 public:
  void add(uint64_t n = 1) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  // Gauges (open connections) go down too.
  void sub(uint64_t n = 1) {
    v_.store(v_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
  }
  uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// Cumulative histogram with fixed upper bounds (microseconds); the last bucket is +Inf.
template <size_t N>
class Histogram {
 public:
  explicit constexpr Histogram(const std::array<uint64_t, N>& bounds_us) : bounds_(bounds_us) {}

  void record(uint64_t us) {
    size_t i = 0;
    while (i < N && us > bounds_[i]) ++i;
    buckets_[i].add();
    sum_us_.add(us);
  }
  static constexpr size_t bounds() { return N; }
  uint64_t bound_us(size_t i) const { return bounds_[i]; }
  // Observations in bucket i alone (i == N: above every bound); not cumulative.
  uint64_t bucket(size_t i) const { return buckets_[i].value(); }
  uint64_t sum_us() const { return sum_us_.value(); }

 private:
  std::array<uint64_t, N> bounds_;
  std::array<Counter, N + 1> buckets_;
  Counter sum_us_;
};

}  // namespace portico::stats
