// A listener's `limits.max_connections`: one count of the client connections open on a
// listening address, shared by every worker (each polls its own SO_REUSEPORT socket for
// that address) and carried across reloads that keep the address (Runtime::build).
//
// A worker takes a slot *before* accept4 and gives it back if nothing was queued, so the
// limit is exact: a compare-exchange never lets the count pass the limit, and no client is
// accepted only to be closed. A worker that finds no slot stops polling its socket (the
// client stays in the kernel backlog) and waits; the next release wakes every waiting
// worker, since the queued clients are in their own sockets' backlogs, not the releaser's.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace portico::core {

class ConnectionLimit {
 public:
  // Told, from any thread, that a slot may be free (or the limit was raised). Called with
  // the limit's mutex held: it must only post (uv_async_send) and never call back in.
  class Waiter {
   public:
    virtual void slot_freed() = 0;

   protected:
    ~Waiter() = default;
  };

  explicit ConnectionLimit(uint32_t max) : max_(max) {}
  ConnectionLimit(const ConnectionLimit&) = delete;
  ConnectionLimit& operator=(const ConnectionLimit&) = delete;

  // 0 = unlimited. A reload that commits sets the new config's limit: connections already
  // open keep counting (lowering it closes none; accepting waits until enough have closed),
  // and raising it wakes the waiting workers.
  void set_max(uint32_t max);
  uint32_t max() const { return max_.load(std::memory_order_relaxed); }
  uint32_t open() const { return open_.load(std::memory_order_relaxed); }

  // Counts a connection when the limit allows it. Unlimited, it always does (the count must
  // be right when a reload sets a limit).
  bool try_acquire();
  // Un-counts one, and wakes the waiters when there is room now.
  void release();

  // After a failed try_acquire: registers `w` to be woken once (the registration ends with
  // the wake-up). Returns false, without registering, when a slot is free by now: the
  // caller then retries instead of waiting. Together with release() this loses no wake-up:
  // the waiter publishes itself before it re-reads the count, the releaser lowers the
  // count before it looks for waiters, both sequentially consistent, so at least one sees
  // the other.
  bool wait(Waiter* w);
  // Forgets `w` (its handle is about to close). Afterwards no thread calls it.
  void cancel_wait(Waiter* w);

  // A worker paused at the limit; the count is exported (portico_listener_accept_paused_total).
  // Returns true when this pause should be logged: the first one, then at most one per
  // `interval_ms` (now_ms is a monotonic clock), so a listener held at its limit by steady
  // traffic logs a line a minute, not one per connection.
  bool note_paused(uint64_t now_ms, uint64_t interval_ms = 60'000);
  uint64_t paused_total() const { return paused_total_.load(std::memory_order_relaxed); }

 private:
  bool has_room() const;
  void wake_all();  // with mutex_ held

  std::atomic<uint32_t> open_{0};
  std::atomic<uint32_t> max_;
  std::atomic<uint32_t> waiting_{0};  // waiters_.size(), readable without the mutex
  std::atomic<uint64_t> paused_total_{0};
  std::atomic<uint64_t> next_log_ms_{0};
  std::mutex mutex_;
  std::vector<Waiter*> waiters_;  // guarded by mutex_
};

// One counted connection: gives its slot back when destroyed (the connection's fd is closed
// by then). Empty when the limit was reached.
class ConnectionSlot {
 public:
  ConnectionSlot() = default;
  static ConnectionSlot try_take(const std::shared_ptr<ConnectionLimit>& limit) {
    ConnectionSlot s;
    if (limit && limit->try_acquire()) s.limit_ = limit;
    return s;
  }
  ConnectionSlot(ConnectionSlot&&) noexcept = default;
  ConnectionSlot& operator=(ConnectionSlot&& other) noexcept {
    if (this != &other) {
      reset();
      limit_ = std::move(other.limit_);
    }
    return *this;
  }
  ~ConnectionSlot() { reset(); }
  explicit operator bool() const { return limit_ != nullptr; }
  void reset() {
    if (limit_) std::exchange(limit_, nullptr)->release();
  }

 private:
  std::shared_ptr<ConnectionLimit> limit_;
};

}  // namespace portico::core
