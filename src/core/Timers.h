// One timer structure per worker instead of a uv_timer_t per connection.
// Every timeout with the same duration lives in one FIFO list: appending at the tail
// keeps each list sorted by deadline, so arming, refreshing and cancelling are O(1)
// pointer moves and one uv_timer_t wakes the loop for the earliest head.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace portico::core {

class TimeoutHandler {
 public:
  virtual void on_timeout(int tag) = 0;

 protected:
  ~TimeoutHandler() = default;
};

class DeadlineList;

// An intrusive link owned by whoever wants the timeout; unlinks itself on destruction.
class TimerLink {
 public:
  TimerLink(TimeoutHandler* handler, int tag) : handler_(handler), tag_(tag) {}
  ~TimerLink() { cancel(); }
  TimerLink(const TimerLink&) = delete;
  TimerLink& operator=(const TimerLink&) = delete;

  void cancel();
  bool armed() const { return list_ != nullptr; }
  void set_tag(int tag) { tag_ = tag; }
  // For links in pooled objects, lent to one handler after another.
  void set_handler(TimeoutHandler* handler) { handler_ = handler; }

 private:
  friend class DeadlineList;
  friend class Timers;
  TimeoutHandler* handler_;
  int tag_;
  DeadlineList* list_ = nullptr;
  TimerLink* prev_ = nullptr;
  TimerLink* next_ = nullptr;
  uint64_t deadline_ = 0;
};

class Timers;

class DeadlineList {
 public:
  DeadlineList(Timers& timers, uint64_t duration_ms) : timers_(timers), duration_(duration_ms) {}
  // (Re)arms `link` to fire `duration` from now, moving it from any list it was on.
  void arm(TimerLink& link);
  uint64_t duration() const { return duration_; }

 private:
  friend class TimerLink;
  friend class Timers;
  void unlink(TimerLink& link);
  Timers& timers_;
  uint64_t duration_;
  TimerLink* head_ = nullptr;
  TimerLink* tail_ = nullptr;
};

class Timers {
 public:
  explicit Timers(uv_loop_t* loop);
  ~Timers();
  Timers(const Timers&) = delete;
  Timers& operator=(const Timers&) = delete;

  // The list for this duration, created on first use; lists live as long as Timers.
  DeadlineList& list(std::chrono::milliseconds duration);
  uint64_t now() const { return uv_now(loop_); }
  // Closes the uv timer; call before the loop's final run.
  void close();

 private:
  friend class DeadlineList;
  void schedule(uint64_t deadline);
  void fire();

  uv_loop_t* loop_;
  std::unique_ptr<uv_timer_t> timer_;
  uint64_t armed_for_ = 0;  // deadline the uv timer is set for; 0 = not set
  std::vector<std::unique_ptr<DeadlineList>> lists_;
};

}  // namespace portico::core
