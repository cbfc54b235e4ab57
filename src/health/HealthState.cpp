#include "health/HealthState.h"

#include <algorithm>
#include <limits>

namespace portico::health {

namespace {
// A run that goes on for years must not wrap around to 0 and look like a fresh start.
void bump(uint32_t& n) {
  if (n < std::numeric_limits<uint32_t>::max()) ++n;
}
}  // namespace

HealthState::HealthState(uint32_t healthy_threshold, uint32_t unhealthy_threshold, bool healthy)
    : healthy_threshold_(std::max(1u, healthy_threshold)),
      unhealthy_threshold_(std::max(1u, unhealthy_threshold)),
      healthy_(healthy) {}

HealthState::Change HealthState::record(bool success) {
  if (success) {
    failures_ = 0;
    bump(successes_);
    if (!healthy_ && successes_ >= healthy_threshold_) {
      healthy_ = true;
      return Change::BecameHealthy;
    }
    return Change::None;
  }
  successes_ = 0;
  bump(failures_);
  if (healthy_ && failures_ >= unhealthy_threshold_) {
    healthy_ = false;
    return Change::BecameUnhealthy;
  }
  return Change::None;
}

}  // namespace portico::health
