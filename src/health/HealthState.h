// One endpoint's verdict from active health checks: consecutive probe results against the
// thresholds. Kept apart from probing so the rules can be tested without sockets.
#pragma once

#include <cstdint>

namespace portico::health {

class HealthState {
 public:
  enum class Change { None, BecameUnhealthy, BecameHealthy };

  // Thresholds of at least 1 (the config loader guarantees it; 0 is treated as 1).
  // `healthy`: the verdict to start from (a reload carries the last one over).
  HealthState(uint32_t healthy_threshold, uint32_t unhealthy_threshold, bool healthy = true);

  // Counts one probe result and says whether it flipped the verdict. An endpoint starts
  // healthy by default: traffic should not wait for a first round of probes.
  Change record(bool success);

  bool healthy() const { return healthy_; }
  uint32_t consecutive_successes() const { return successes_; }
  uint32_t consecutive_failures() const { return failures_; }

 private:
  uint32_t healthy_threshold_;
  uint32_t unhealthy_threshold_;
  uint32_t successes_ = 0;
  uint32_t failures_ = 0;
  bool healthy_ = true;
};

}  // namespace portico::health
