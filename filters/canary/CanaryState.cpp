#include "filters/canary/CanaryState.h"

namespace portico::filters {

CanaryState::CanaryState(SplitShares file_shares, size_t canaries,
                         std::optional<RollbackPolicy> rollback)
    : file_shares_(file_shares),
      canaries_(canaries),
      rollback_(std::move(rollback)),
      shares_(file_shares.pack()) {
  if (rollback_)
    for (size_t t = 0; t <= canaries_; ++t)
      windows_.push_back(std::make_unique<RollingWindow>(rollback_->window, kWindowBuckets));
}

void CanaryState::set_override(SplitShares shares) {
  shares_.store(shares.pack(), std::memory_order_relaxed);
  overridden_.store(true, std::memory_order_relaxed);
}

void CanaryState::clear_override() {
  shares_.store(file_shares_.pack(), std::memory_order_relaxed);
  overridden_.store(false, std::memory_order_relaxed);
}

std::optional<RollbackRecord> CanaryState::record(size_t target, bool failure, uint64_t now_ms) {
  if (!rollback_ || target > canaries_) return std::nullopt;
  uint64_t epoch = epoch_.load(std::memory_order_relaxed);
  windows_[target]->add(epoch, failure, now_ms);
  // Only a canary's failure can push its ratio over the margin.
  if (target == 0 || !failure) return std::nullopt;
  uint32_t bit = 1u << (target - 1);
  if (rolled_back() & bit) return std::nullopt;
  RollbackRecord out;
  out.canary = windows_[target]->counts(epoch, now_ms);
  if (out.canary.requests < rollback_->min_requests) return std::nullopt;
  out.stable = windows_[0]->counts(epoch, now_ms);
  if (failure_ratio(out.canary) - failure_ratio(out.stable) <= rollback_->margin)
    return std::nullopt;
  if (rolled_back_.fetch_or(bit, std::memory_order_relaxed) & bit) return std::nullopt;
  // An operator's reset came in between: these counts are from before it.
  if (epoch_.load(std::memory_order_relaxed) != epoch) {
    rolled_back_.fetch_and(~bit, std::memory_order_relaxed);
    return std::nullopt;
  }
  out.unix_ms = uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count());
  AtomicRecord& r = records_[target - 1];
  r.canary_requests.store(out.canary.requests, std::memory_order_relaxed);
  r.canary_failures.store(out.canary.failures, std::memory_order_relaxed);
  r.stable_requests.store(out.stable.requests, std::memory_order_relaxed);
  r.stable_failures.store(out.stable.failures, std::memory_order_relaxed);
  r.unix_ms.store(out.unix_ms, std::memory_order_relaxed);
  rollbacks_total_[target - 1].fetch_add(1, std::memory_order_relaxed);
  return out;
}

RollbackRecord CanaryState::rollback_record(size_t canary) const {
  const AtomicRecord& r = records_[canary];
  RollbackRecord out;
  if (!(rolled_back() & (1u << canary))) return out;
  out.unix_ms = r.unix_ms.load(std::memory_order_relaxed);
  out.canary = {r.canary_requests.load(std::memory_order_relaxed),
                r.canary_failures.load(std::memory_order_relaxed)};
  out.stable = {r.stable_requests.load(std::memory_order_relaxed),
                r.stable_failures.load(std::memory_order_relaxed)};
  return out;
}

WindowCounts CanaryState::window_counts(size_t target, uint64_t now_ms) const {
  if (!rollback_ || target > canaries_) return {};
  return windows_[target]->counts(epoch_.load(std::memory_order_relaxed), now_ms);
}

void CanaryState::reset_rollback() {
  // The new epoch first: an outcome racing the reset lands in the old one and is ignored.
  epoch_.fetch_add(1, std::memory_order_relaxed);
  rolled_back_.store(0, std::memory_order_relaxed);
  for (AtomicRecord& r : records_) r.unix_ms.store(0, std::memory_order_relaxed);
}

}  // namespace portico::filters
