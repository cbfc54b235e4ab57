// A canary route's live state, shared by every worker: the split in use (the file's, or
// one set at runtime on the admin API), which canaries were rolled back and why, and the
// counts behind both. Kept across a reload while the route's split and rollback settings
// in the file stay the same (CanaryConfig.cpp), so a runtime override and a rollback
// survive reloads that do not touch them; a new split in the file starts afresh.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "filters/canary/SplitPlan.h"
#include "filters/circuit_breaker/FailureKinds.h"
#include "filters/circuit_breaker/RollingWindow.h"

namespace portico::filters {

// When a canary is rolled back: its error ratio over `window` exceeds the stable
// target's by more than `margin`, with at least `min_requests` canary requests counted.
struct RollbackPolicy {
  double margin = 0.1;
  uint32_t min_requests = 50;
  std::chrono::milliseconds window{60'000};
  FailureKinds failures = FailureKinds::gateway_errors();
};

// How a request was assigned.
enum class SplitVia { Sticky, Random, Forced };
inline constexpr size_t kSplitVias = 3;

// A rollback, as it was decided (for the log and the admin API).
struct RollbackRecord {
  uint64_t unix_ms = 0;  // 0: not rolled back
  WindowCounts canary;
  WindowCounts stable;
};

class CanaryState {
 public:
  CanaryState(SplitShares file_shares, size_t canaries, std::optional<RollbackPolicy> rollback);
  CanaryState(const CanaryState&) = delete;
  CanaryState& operator=(const CanaryState&) = delete;

  size_t canaries() const { return canaries_; }
  const std::optional<RollbackPolicy>& rollback_policy() const { return rollback_; }

  // ---- the split ----
  SplitShares file_shares() const { return file_shares_; }
  // The file's or the runtime override's.
  SplitShares configured() const {
    return SplitShares::unpack(shares_.load(std::memory_order_relaxed));
  }
  bool overridden() const { return overridden_.load(std::memory_order_relaxed); }
  // The shares requests get: the configured ones, with the rolled-back canaries' going to
  // the stable target (see split_target).
  SplitShares effective() const { return configured().without(rolled_back()); }
  // Main thread (the admin API).
  void set_override(SplitShares shares);
  void clear_override();

  // ---- rollback ----
  // Bit i: canary i is rolled back.
  uint32_t rolled_back() const { return rolled_back_.load(std::memory_order_relaxed); }
  // Counts one outcome of target t (0 stable, 1 + i canary i). When this call rolled canary
  // t - 1 back, returns what decided it (exactly one caller sees it, for the log line).
  std::optional<RollbackRecord> record(size_t target, bool failure, uint64_t now_ms);
  RollbackRecord rollback_record(size_t canary) const;
  uint64_t rollbacks_total(size_t canary) const {
    return rollbacks_total_[canary].load(std::memory_order_relaxed);
  }
  // Targets' outcomes in the current window (for the admin API).
  WindowCounts window_counts(size_t target, uint64_t now_ms) const;
  // Main thread (the admin API): every rolled-back canary takes its share again, and the
  // windows start empty.
  void reset_rollback();

  // ---- counts ----
  void count(size_t target, SplitVia via) {
    requests_[target][size_t(via)].fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t requests(size_t target, SplitVia via) const {
    return requests_[target][size_t(via)].load(std::memory_order_relaxed);
  }

 private:
  static constexpr uint32_t kWindowBuckets = 10;

  const SplitShares file_shares_;
  const size_t canaries_;
  const std::optional<RollbackPolicy> rollback_;
  std::atomic<uint64_t> shares_;
  std::atomic<bool> overridden_{false};
  std::atomic<uint32_t> rolled_back_{0};
  // Bumped by a reset: outcomes counted before it are ignored (RollingWindow's period).
  std::atomic<uint64_t> epoch_{0};
  std::vector<std::unique_ptr<RollingWindow>> windows_;  // per target, with a policy
  struct AtomicRecord {
    std::atomic<uint64_t> unix_ms{0};
    std::atomic<uint64_t> canary_requests{0}, canary_failures{0};
    std::atomic<uint64_t> stable_requests{0}, stable_failures{0};
  };
  std::array<AtomicRecord, kMaxCanaries> records_;
  std::array<std::atomic<uint64_t>, kMaxCanaries> rollbacks_total_{};
  std::array<std::array<std::atomic<uint64_t>, kSplitVias>, 1 + kMaxCanaries> requests_{};
};

}  // namespace portico::filters
