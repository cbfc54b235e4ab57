// A point in time after which an operation gives up. Every wait in the harness takes one.
#pragma once

#include <algorithm>
#include <chrono>

namespace portico::it {

using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;
using namespace std::chrono_literals;

class Deadline {
 public:
  explicit Deadline(Ms budget) : end_(Clock::now() + budget) {}

  bool Expired() const { return Clock::now() >= end_; }

  Ms Remaining() const {
    auto left = std::chrono::ceil<Ms>(end_ - Clock::now());
    return std::max(left, Ms{0});
  }

  // A poll(2) timeout in milliseconds: what is left, but at most `cap_ms`.
  int PollMs(int cap_ms = 50) const {
    return static_cast<int>(std::min<long long>(Remaining().count(), cap_ms));
  }

  Clock::time_point end() const { return end_; }

 private:
  Clock::time_point end_;
};

// Milliseconds elapsed since `start`, as a double (for timing assertions).
inline double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

}  // namespace portico::it
