#include "core/ConnectionLimit.h"

#include <algorithm>

namespace portico::core {

void ConnectionLimit::set_max(uint32_t max) {
  max_.store(max, std::memory_order_seq_cst);
  // Raised (or not): let the waiters look again; one that still finds no room waits again.
  if (waiting_.load(std::memory_order_seq_cst) == 0) return;
  std::lock_guard lock(mutex_);
  wake_all();
}

bool ConnectionLimit::has_room() const {
  uint32_t max = max_.load(std::memory_order_seq_cst);
  return max == 0 || open_.load(std::memory_order_seq_cst) < max;
}

bool ConnectionLimit::try_acquire() {
  uint32_t n = open_.load(std::memory_order_relaxed);
  do {
    uint32_t max = max_.load(std::memory_order_relaxed);
    if (max != 0 && n >= max) return false;
  } while (
      !open_.compare_exchange_weak(n, n + 1, std::memory_order_seq_cst, std::memory_order_relaxed));
  return true;
}

void ConnectionLimit::release() {
  open_.fetch_sub(1, std::memory_order_seq_cst);
  if (waiting_.load(std::memory_order_seq_cst) == 0 || !has_room()) return;
  std::lock_guard lock(mutex_);
  wake_all();
}

bool ConnectionLimit::wait(Waiter* w) {
  std::lock_guard lock(mutex_);
  if (std::find(waiters_.begin(), waiters_.end(), w) == waiters_.end()) waiters_.push_back(w);
  waiting_.store(uint32_t(waiters_.size()), std::memory_order_seq_cst);
  if (!has_room()) return true;
  std::erase(waiters_, w);
  waiting_.store(uint32_t(waiters_.size()), std::memory_order_seq_cst);
  return false;
}

void ConnectionLimit::cancel_wait(Waiter* w) {
  std::lock_guard lock(mutex_);
  std::erase(waiters_, w);
  waiting_.store(uint32_t(waiters_.size()), std::memory_order_seq_cst);
}

void ConnectionLimit::wake_all() {
  for (Waiter* w : waiters_) w->slot_freed();
  waiters_.clear();
  waiting_.store(0, std::memory_order_seq_cst);
}

bool ConnectionLimit::note_paused(uint64_t now_ms, uint64_t interval_ms) {
  paused_total_.fetch_add(1, std::memory_order_relaxed);
  uint64_t next = next_log_ms_.load(std::memory_order_relaxed);
  // 0: never logged. Only the worker whose exchange wins logs, so racing workers log once.
  if (next != 0 && now_ms < next) return false;
  return next_log_ms_.compare_exchange_strong(next, std::max<uint64_t>(now_ms + interval_ms, 1),
                                              std::memory_order_relaxed);
}

}  // namespace portico::core
