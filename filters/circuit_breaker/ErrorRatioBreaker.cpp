#include "filters/circuit_breaker/ErrorRatioBreaker.h"

#include <algorithm>
#include <utility>

namespace portico::filters {
namespace {

// The phase word, high bits first: state 2 | phase number 30 | probes in flight 16 |
// probes succeeded 16. Probes in flight may be from an earlier phase, and may still be
// running while open; probes succeeded are this half-open phase's. Both are zero while
// closed: closing takes every slot succeeding.
constexpr int kProbeBits = 16;
constexpr int kNumberBits = 30;
constexpr uint64_t kProbeMask = (uint64_t(1) << kProbeBits) - 1;
constexpr uint64_t kNumberMask = (uint64_t(1) << kNumberBits) - 1;
constexpr int kInFlightShift = kProbeBits;
constexpr int kNumberShift = 2 * kProbeBits;
constexpr int kStateShift = kNumberShift + kNumberBits;
static_assert(kStateShift + 2 == 64);
static_assert(kMaxHalfOpenRequests <= kProbeMask);

uint32_t next_number(uint32_t number) {
  return uint32_t((number + 1) & kNumberMask);
}

struct Phase {
  BreakerState state;
  uint32_t number;  // modulo 2^kNumberBits
  uint32_t in_flight = 0;
  uint32_t succeeded = 0;
  // The same probes in flight, in another state.
  Phase with(BreakerState next_state) const { return {next_state, next_number(number), in_flight}; }
};

Phase unpack(uint64_t word) {
  return {BreakerState(word >> kStateShift), uint32_t((word >> kNumberShift) & kNumberMask),
          uint32_t((word >> kInFlightShift) & kProbeMask), uint32_t(word & kProbeMask)};
}

uint64_t pack(const Phase& p) {
  return uint64_t(p.state) << kStateShift | (uint64_t(p.number) & kNumberMask) << kNumberShift |
         uint64_t(p.in_flight) << kInFlightShift | p.succeeded;
}

BreakerPolicy clamped(BreakerPolicy policy) {
  policy.min_requests = std::max<uint32_t>(1, policy.min_requests);
  policy.window_buckets = std::clamp<uint32_t>(policy.window_buckets, 1, kMaxWindowBuckets);
  policy.window = std::max(policy.window, std::chrono::milliseconds(policy.window_buckets));
  policy.open_for = std::max(policy.open_for, std::chrono::milliseconds(0));
  policy.half_open_requests =
      std::clamp<uint32_t>(policy.half_open_requests, 1, kMaxHalfOpenRequests);
  return policy;
}

}  // namespace

ErrorRatioBreaker::ErrorRatioBreaker(const BreakerPolicy& policy)
    : policy_(clamped(policy)), window_(policy_.window, policy_.window_buckets) {
  phase_word_.store(pack({BreakerState::Closed, 0}), std::memory_order_relaxed);
}

Admission ErrorRatioBreaker::admit(uint64_t now_ms) {
  uint64_t word = phase_word_.load(std::memory_order_acquire);
  for (;;) {
    Phase phase = unpack(word);
    switch (phase.state) {
      case BreakerState::Closed:
        return Admission(Admission::Kind::Allowed, phase.number);
      case BreakerState::Open: {
        if (!open_for_passed(now_ms)) break;
        // No lock: turning half-open changes nothing but the phase word.
        uint64_t half_open = pack(phase.with(BreakerState::HalfOpen));
        if (phase_word_.compare_exchange_strong(word, half_open, std::memory_order_acq_rel,
                                                std::memory_order_acquire)) {
          half_opened_total_.fetch_add(1, std::memory_order_relaxed);
          word = half_open;
        }
        continue;  // as half-open, or as whatever another thread made it
      }
      case BreakerState::HalfOpen: {
        // A slot is held until its probe is handed back, even past the end of its phase;
        // a succeeded one stays taken for the rest of the phase, so exactly
        // half_open_requests successes close.
        if (phase.in_flight + phase.succeeded >= policy_.half_open_requests) break;
        Phase taken = phase;
        ++taken.in_flight;
        if (phase_word_.compare_exchange_weak(word, pack(taken), std::memory_order_acq_rel,
                                              std::memory_order_acquire)) {
          return Admission(Admission::Kind::Probe, phase.number);
        }
        continue;
      }
    }
    rejected_total_.fetch_add(1, std::memory_order_relaxed);
    return Admission();
  }
}

void ErrorRatioBreaker::record(Admission& admission, bool failure, uint64_t now_ms) {
  switch (std::exchange(admission.kind_, Admission::Kind::Rejected)) {
    case Admission::Kind::Rejected:
      return;
    case Admission::Kind::Allowed:
      return record_allowed(admission.phase_, failure, now_ms);
    case Admission::Kind::Probe:
      return record_probe(admission.phase_, failure, now_ms);
  }
}

void ErrorRatioBreaker::record_allowed(uint32_t phase, bool failure, uint64_t now_ms) {
  Phase current = unpack(phase_word_.load(std::memory_order_acquire));
  if (current.state != BreakerState::Closed || current.number != phase) return;
  // The window keeps counts per closed phase, so the next one starts empty without
  // anything being cleared, and an outcome that races with the transition out of this
  // phase lands where no later phase reads it.
  window_.add(phase, failure, now_ms);
  WindowCounts counts = window_.counts(phase, now_ms);
  // Judged after successes too: a success can bring the window up to min_requests.
  if (counts.requests >= policy_.min_requests &&
      double(counts.failures) / double(counts.requests) >= policy_.failure_ratio) {
    open(phase, now_ms, false);
  }
}

void ErrorRatioBreaker::record_probe(uint32_t phase, bool failure, uint64_t now_ms) {
  uint64_t word = phase_word_.load(std::memory_order_acquire);
  for (;;) {
    Phase current = unpack(word);
    if (current.state != BreakerState::HalfOpen || current.number != phase) {
      return release_probe();  // its phase has ended: it only gives its slot back
    }
    if (failure) return open(phase, now_ms, true);
    Phase next = current;
    --next.in_flight;
    ++next.succeeded;
    // The last success: every slot has succeeded, so no other probe is in flight.
    bool closes = next.succeeded >= policy_.half_open_requests;
    if (closes) next = next.with(BreakerState::Closed);
    if (phase_word_.compare_exchange_weak(word, pack(next), std::memory_order_acq_rel,
                                          std::memory_order_acquire)) {
      if (closes) closed_total_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
}

void ErrorRatioBreaker::abandon(Admission& admission) {
  if (std::exchange(admission.kind_, Admission::Kind::Rejected) == Admission::Kind::Probe) {
    release_probe();
  }
}

void ErrorRatioBreaker::release_probe() {
  uint64_t word = phase_word_.load(std::memory_order_acquire);
  for (;;) {
    Phase current = unpack(word);
    if (current.in_flight == 0) return;  // cannot happen while each is handed back once
    --current.in_flight;
    if (phase_word_.compare_exchange_weak(word, pack(current), std::memory_order_acq_rel,
                                          std::memory_order_acquire)) {
      return;
    }
  }
}

void ErrorRatioBreaker::open(uint32_t phase, uint64_t now_ms, bool failed_probe) {
  std::lock_guard lock(open_mutex_);
  uint64_t word = phase_word_.load(std::memory_order_acquire);
  for (;;) {
    Phase current = unpack(word);
    if (current.number != phase) {
      // Moved on meanwhile; the failed probe still gives its slot back.
      if (failed_probe) release_probe();
      return;
    }
    // Stored before the phase word is released, so whoever sees this open phase reads
    // when it started (or a later start, once it has ended: harmless).
    opened_at_ms_.store(now_ms, std::memory_order_relaxed);
    Phase next = current.with(BreakerState::Open);
    if (failed_probe && next.in_flight > 0) --next.in_flight;
    // Only probe counts change under us (half-open), so this loops at most a few times.
    if (phase_word_.compare_exchange_weak(word, pack(next), std::memory_order_acq_rel,
                                          std::memory_order_acquire)) {
      opened_total_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
}

bool ErrorRatioBreaker::open_for_passed(uint64_t now_ms) const {
  uint64_t opened_at = opened_at_ms_.load(std::memory_order_relaxed);
  // A clock reading earlier than the opening counts as the opening itself.
  return now_ms >= opened_at && now_ms - opened_at >= uint64_t(policy_.open_for.count());
}

BreakerState ErrorRatioBreaker::state(uint64_t now_ms) const {
  Phase current = unpack(phase_word_.load(std::memory_order_acquire));
  if (current.state == BreakerState::Open && open_for_passed(now_ms)) {
    return BreakerState::HalfOpen;
  }
  return current.state;
}

uint64_t ErrorRatioBreaker::retry_after_ms(uint64_t now_ms) const {
  Phase current = unpack(phase_word_.load(std::memory_order_acquire));
  if (current.state != BreakerState::Open) return 0;
  uint64_t opened_at = opened_at_ms_.load(std::memory_order_relaxed);
  uint64_t ends_at = opened_at + uint64_t(policy_.open_for.count());
  uint64_t from = std::max(now_ms, opened_at);
  return ends_at > from ? ends_at - from : 0;
}

WindowCounts ErrorRatioBreaker::window_counts(uint64_t now_ms) const {
  Phase current = unpack(phase_word_.load(std::memory_order_acquire));
  if (current.state != BreakerState::Closed) return {};
  return window_.counts(current.number, now_ms);
}

BreakerCounters ErrorRatioBreaker::counters() const {
  return {opened_total_.load(std::memory_order_relaxed),
          half_opened_total_.load(std::memory_order_relaxed),
          closed_total_.load(std::memory_order_relaxed),
          rejected_total_.load(std::memory_order_relaxed)};
}

}  // namespace portico::filters
