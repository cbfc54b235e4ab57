// The circuit breaker of one upstream pool, shared by every worker: it opens when the
// ratio of failed requests in a rolling window reaches the policy's, rejects while open,
// then lets a few probes through (half-open) and closes when they all succeed.
//
// Time is passed in: milliseconds of a monotonic clock, read by each worker, so readings
// may differ a little. A reading earlier than the opening counts as the opening itself;
// outcomes count in the window at the time given (see RollingWindow).
//
// Thread-safe. The request path takes no lock: admitting is one atomic load while closed,
// one compare-and-swap for a probe; recording an outcome is one compare-and-swap on the
// window's current bucket and a read of its buckets. Only opening takes a mutex, since it
// also stores when it opened, which every thread that sees the breaker open must find.
//
// Every admission belongs to the phase it was decided in (a phase lasts from one
// transition to the next). Its outcome only counts in that phase: a request admitted while
// closed that ends after the breaker opened, or after it closed again, changes nothing,
// and only the probes of the current half-open phase decide how it ends. Probes in flight
// are counted across phases, though: a probe still running when another one reopened the
// breaker keeps its slot in the next half-open phase, so the upstream never has more than
// half_open_requests probes at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <utility>

#include "filters/circuit_breaker/BreakerPolicy.h"
#include "filters/circuit_breaker/RollingWindow.h"

namespace portico::filters {

enum class BreakerState { Closed, Open, HalfOpen };

// What admit() decided for one request. Each admitted one must be handed back once, to
// record() when the request produced an outcome or to abandon() when it did not: a probe
// holds its slot until then. Move-only, and left Rejected when handed back or moved from,
// so no outcome is handed back twice (that would free a slot another probe holds).
// Assigning over an admitted one loses it, as dropping it does.
class Admission {
 public:
  enum class Kind {
    Rejected,  // answer locally (503, fallback); nothing to hand back
    Allowed,   // closed: its outcome counts in the window
    Probe,     // half-open: one of the half_open_requests whose outcomes decide
  };

  Admission() = default;  // Rejected: a placeholder that record() and abandon() ignore
  Admission(Admission&& other) noexcept
      : kind_(std::exchange(other.kind_, Kind::Rejected)), phase_(other.phase_) {}
  Admission& operator=(Admission&& other) noexcept {
    kind_ = std::exchange(other.kind_, Kind::Rejected);
    phase_ = other.phase_;
    return *this;
  }

  Kind kind() const { return kind_; }
  bool admitted() const { return kind_ != Kind::Rejected; }
  // As one word, for a filter's per-request slot (FilterSlot). Unpack a word once: the
  // admission it holds must be handed back once.
  uint64_t pack() const { return uint64_t(kind_) << 32 | phase_; }
  static Admission unpack(uint64_t word) { return {Kind(word >> 32), uint32_t(word)}; }

 private:
  friend class ErrorRatioBreaker;
  Admission(Kind kind, uint32_t phase) : kind_(kind), phase_(phase) {}

  Kind kind_ = Kind::Rejected;
  uint32_t phase_ = 0;  // the phase's number, which every transition increments
};

struct BreakerCounters {
  uint64_t opened_total = 0;       // transitions to open, from closed or half-open
  uint64_t half_opened_total = 0;  // open -> half-open
  uint64_t closed_total = 0;       // half-open -> closed
  uint64_t rejected_total = 0;     // admissions refused, open or half-open
};

class ErrorRatioBreaker {
 public:
  // Values that would break the arithmetic are clamped (see breaker_policy_error for the
  // valid ranges); the breaker starts closed.
  explicit ErrorRatioBreaker(const BreakerPolicy& policy);
  ErrorRatioBreaker(const ErrorRatioBreaker&) = delete;
  ErrorRatioBreaker& operator=(const ErrorRatioBreaker&) = delete;

  // Closed: Allowed. Open: Rejected until open_for has passed since it opened, then the
  // breaker turns half-open. Half-open: Probe while fewer than half_open_requests probes
  // are in flight (from this phase or an earlier one) or have succeeded, else Rejected.
  Admission admit(uint64_t now_ms);
  // Hands back the outcome of an admitted request; `admission` is left Rejected.
  // - Allowed, in the closed phase it was admitted in: counted in the window; the breaker
  //   opens when the window holds min_requests and failures reach failure_ratio. From an
  //   earlier phase: ignored.
  // - Probe, in the half-open phase it was admitted in: a failure reopens (for open_for
  //   from now), the half_open_requests-th success closes with an empty window. From an
  //   earlier phase: decides nothing, but frees its slot.
  // - Rejected: ignored.
  void record(Admission& admission, bool failure, uint64_t now_ms);
  // Hands back an admitted request that produced no outcome (the client left, it was
  // answered locally); `admission` is left Rejected. A probe frees its slot, so another
  // request can probe; anything else is ignored.
  void abandon(Admission& admission);

  // The state admit() would act on now: open turns half-open once open_for has passed,
  // even before the next admit() makes the transition.
  BreakerState state(uint64_t now_ms) const;
  // While open, the time until probes are let through (for Retry-After); 0 otherwise.
  uint64_t retry_after_ms(uint64_t now_ms) const;
  // The window's counts while closed; zero otherwise.
  WindowCounts window_counts(uint64_t now_ms) const;
  BreakerCounters counters() const;
  const BreakerPolicy& policy() const { return policy_; }

 private:
  void record_allowed(uint32_t phase, bool failure, uint64_t now_ms);
  void record_probe(uint32_t phase, bool failure, uint64_t now_ms);
  void release_probe();
  bool open_for_passed(uint64_t now_ms) const;
  // Moves from `phase` (closed or half-open) to open, unless another thread moved it on;
  // `failed_probe`: the failing probe's slot is freed by the same move.
  void open(uint32_t phase, uint64_t now_ms, bool failed_probe);

  const BreakerPolicy policy_;
  // State, phase number and probe counts in one word (see ErrorRatioBreaker.cpp), so
  // taking a probe slot and leaving the phase cannot interleave. Read on every
  // admission: kept off the lines written per outcome.
  alignas(64) std::atomic<uint64_t> phase_word_{0};
  alignas(64) std::atomic<uint64_t> rejected_total_{0};
  alignas(64) std::mutex open_mutex_;      // serialises transitions to open
  std::atomic<uint64_t> opened_at_ms_{0};  // written under open_mutex_, before the phase
  std::atomic<uint64_t> opened_total_{0};
  std::atomic<uint64_t> half_opened_total_{0};
  std::atomic<uint64_t> closed_total_{0};
  RollingWindow window_;
};

}  // namespace portico::filters
