#include "core/Timers.h"

#include <gtest/gtest.h>
#include <uv.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

namespace portico::core {
namespace {

using std::chrono::milliseconds;
using Tags = std::vector<int>;

// Records every expiry (tag and loop time) and runs an optional hook.
class Recorder final : public TimeoutHandler {
 public:
  explicit Recorder(Timers& timers) : timers_(timers) {}
  void on_timeout(int tag) override {
    fired.push_back(tag);
    at.push_back(timers_.now());
    if (hook) hook(tag);
  }
  uint64_t time_of(int tag) const {
    for (size_t i = 0; i < fired.size(); ++i)
      if (fired[i] == tag) return at[i];
    ADD_FAILURE() << "tag " << tag << " never fired";
    return 0;
  }

  Tags fired;
  std::vector<uint64_t> at;
  std::function<void(int)> hook;

 private:
  Timers& timers_;
};

class TimersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(uv_loop_init(&loop_), 0);
    // A guard that stops a run going on for a second: a bug must not hang the suite. It
    // is unreferenced, so it never keeps the loop alive by itself.
    uv_timer_init(&loop_, &guard_);
    guard_.data = this;
    uv_timer_start(
        &guard_,
        [](uv_timer_t* t) {
          static_cast<TimersTest*>(t->data)->guard_fired_ = true;
          uv_stop(t->loop);
        },
        1000, 0);
    uv_unref(reinterpret_cast<uv_handle_t*>(&guard_));
    timers_ = std::make_unique<Timers>(&loop_);
    start_ = timers_->now();
  }

  void TearDown() override {
    // Links are locals of the test body: already gone. Close everything and let libuv
    // run the close callbacks, so nothing leaks.
    timers_->close();
    uv_close(reinterpret_cast<uv_handle_t*>(&guard_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    timers_.reset();
    EXPECT_EQ(uv_loop_close(&loop_), 0);
  }

  // Runs until no timer is pending (the Timers' uv timer is one-shot and only re-armed
  // while some link is armed).
  void run() {
    uv_run(&loop_, UV_RUN_DEFAULT);
    ASSERT_FALSE(guard_fired_) << "the loop did not settle within a second";
  }

  DeadlineList& list(int ms) { return timers_->list(milliseconds(ms)); }

  uv_loop_t loop_;
  uv_timer_t guard_;
  bool guard_fired_ = false;
  std::unique_ptr<Timers> timers_;
  uint64_t start_ = 0;
};

TEST_F(TimersTest, ListsAreSharedPerDuration) {
  DeadlineList& a = list(5);
  EXPECT_EQ(&list(5), &a);
  EXPECT_NE(&list(6), &a);
  EXPECT_EQ(a.duration(), 5u);
  EXPECT_EQ(list(0).duration(), 1u);  // a zero timeout still waits for the loop
  EXPECT_EQ(&list(0), &list(1));
}

TEST_F(TimersTest, LinksInOneListFireInArmingOrder) {
  Recorder r(*timers_);
  TimerLink a(&r, 1), b(&r, 2), c(&r, 3), d(&r, 4);
  list(5).arm(c);
  list(5).arm(a);
  list(5).arm(d);
  list(5).arm(b);
  EXPECT_TRUE(a.armed() && b.armed() && c.armed() && d.armed());
  run();
  EXPECT_EQ(r.fired, (Tags{3, 1, 4, 2}));
  for (uint64_t t : r.at) EXPECT_GE(t, start_ + 5);
  EXPECT_FALSE(a.armed() || b.armed() || c.armed() || d.armed());
}

TEST_F(TimersTest, RearmingMovesALinkToTheBack) {
  Recorder r(*timers_);
  TimerLink a(&r, 1), b(&r, 2), c(&r, 3);
  list(5).arm(a);
  list(5).arm(b);
  list(5).arm(c);
  list(5).arm(a);  // same deadline here (loop time has not moved), but now last
  list(5).arm(b);
  run();
  EXPECT_EQ(r.fired, (Tags{3, 1, 2}));
}

TEST_F(TimersTest, RearmingLaterPushesTheDeadlineBack) {
  Recorder r(*timers_);
  TimerLink a(&r, 1), b(&r, 2), refresher(&r, 9);
  list(20).arm(a);
  list(20).arm(b);
  list(4).arm(refresher);
  r.hook = [&](int tag) {
    if (tag == 9) list(20).arm(a);  // activity on a: refresh its timeout
  };
  run();
  EXPECT_EQ(r.fired, (Tags{9, 2, 1}));
  EXPECT_GE(r.time_of(2), start_ + 20);
  EXPECT_GE(r.time_of(1), r.time_of(9) + 20);
}

TEST_F(TimersTest, RearmingIntoAnotherListMovesIt) {
  Recorder r(*timers_);
  TimerLink a(&r, 1), b(&r, 2);
  list(2).arm(a);
  list(2).arm(b);
  list(15).arm(a);  // leaves the 2 ms list
  run();
  EXPECT_EQ(r.fired, (Tags{2, 1}));  // fired once each
  EXPECT_GE(r.time_of(1), start_ + 15);
}

TEST_F(TimersTest, CancelPreventsFiring) {
  Recorder r(*timers_);
  TimerLink a(&r, 1), b(&r, 2), c(&r, 3), unarmed(&r, 4);
  list(3).arm(a);
  list(3).arm(b);
  list(3).arm(c);
  b.cancel();
  EXPECT_FALSE(b.armed());
  b.cancel();        // twice is harmless
  unarmed.cancel();  // so is cancelling what was never armed
  run();
  EXPECT_EQ(r.fired, (Tags{1, 3}));
}

TEST_F(TimersTest, CancellingHeadAndTailKeepsTheListIntact) {
  Recorder r(*timers_);
  TimerLink a(&r, 1), b(&r, 2), c(&r, 3), d(&r, 4);
  list(3).arm(a);
  list(3).arm(b);
  list(3).arm(c);
  a.cancel();  // head
  c.cancel();  // tail
  list(3).arm(d);
  list(3).arm(a);
  run();
  EXPECT_EQ(r.fired, (Tags{2, 4, 1}));
}

TEST_F(TimersTest, CancellingEverythingLetsTheLoopEnd) {
  Recorder r(*timers_);
  TimerLink a(&r, 1), b(&r, 2);
  list(50).arm(a);
  list(10).arm(b);
  a.cancel();
  b.cancel();
  run();
  EXPECT_TRUE(r.fired.empty());
}

TEST_F(TimersTest, HandlerCanCancelALinkDueInTheSamePass) {
  Recorder r(*timers_);
  TimerLink a(&r, 1), b(&r, 2), c(&r, 3);
  list(3).arm(a);
  list(3).arm(b);
  list(3).arm(c);
  r.hook = [&](int tag) {
    if (tag == 1) b.cancel();
  };
  run();
  EXPECT_EQ(r.fired, (Tags{1, 3}));
}

TEST_F(TimersTest, HandlerCanDestroyALinkDueInTheSamePass) {
  Recorder r(*timers_);
  TimerLink a(&r, 1);
  auto b = std::make_unique<TimerLink>(&r, 2);
  TimerLink c(&r, 3);
  list(3).arm(a);
  list(3).arm(*b);
  list(3).arm(c);
  r.hook = [&](int tag) {
    if (tag == 1) b.reset();  // e.g. a connection closed by another's timeout
  };
  run();
  EXPECT_EQ(r.fired, (Tags{1, 3}));
}

TEST_F(TimersTest, HandlerCanArmAnotherLinkInTheSameList) {
  Recorder r(*timers_);
  TimerLink a(&r, 1), b(&r, 2);
  list(3).arm(a);
  r.hook = [&](int tag) {
    if (tag == 1) list(3).arm(b);
  };
  run();
  EXPECT_EQ(r.fired, (Tags{1, 2}));
  EXPECT_GE(r.time_of(2), r.time_of(1) + 3);
}

TEST_F(TimersTest, HandlerCanRearmItsOwnLink) {
  Recorder r(*timers_);
  TimerLink a(&r, 1);
  list(2).arm(a);
  int left = 3;
  r.hook = [&](int) {
    if (--left > 0) list(2).arm(a);
  };
  run();
  ASSERT_EQ(r.fired, (Tags{1, 1, 1}));
  EXPECT_GE(r.at[1], r.at[0] + 2);
  EXPECT_GE(r.at[2], r.at[1] + 2);
  EXPECT_FALSE(a.armed());
}

TEST_F(TimersTest, HandlerCanCreateNewListsDuringExpiry) {
  Recorder r(*timers_);
  TimerLink first(&r, 0);
  // Enough new lists that the list vector has to grow while expiry walks it.
  std::vector<std::unique_ptr<TimerLink>> links;
  for (int i = 1; i <= 12; ++i) links.push_back(std::make_unique<TimerLink>(&r, i));
  list(2).arm(first);
  r.hook = [&](int tag) {
    if (tag != 0) return;
    for (int i = 12; i >= 1; --i) list(2 + i).arm(*links[size_t(i - 1)]);
  };
  run();
  // Every new link fires once, after the trigger and not before its own deadline. (Links
  // of different lists that are due in the same expiry pass fire in list-creation order,
  // so a late loop may reorder neighbours: only compare the set here.)
  ASSERT_EQ(r.fired.size(), 13u);
  EXPECT_EQ(r.fired[0], 0);
  Tags rest(r.fired.begin() + 1, r.fired.end());
  std::sort(rest.begin(), rest.end());
  EXPECT_EQ(rest, (Tags{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  for (int i = 1; i <= 12; ++i) EXPECT_GE(r.time_of(i), r.time_of(0) + uint64_t(2 + i)) << i;
  for (const auto& l : links) EXPECT_FALSE(l->armed());
}

TEST_F(TimersTest, ListsOfDifferentDurationsInterleave) {
  Recorder r(*timers_);
  TimerLink slow(&r, 60), mid(&r, 15), fast(&r, 3), fast2(&r, 4), mid2(&r, 16);
  // The longest list is created and armed first: the uv timer must be moved earlier.
  list(60).arm(slow);
  list(15).arm(mid);
  list(3).arm(fast);
  list(15).arm(mid2);
  list(3).arm(fast2);
  run();
  EXPECT_EQ(r.fired, (Tags{3, 4, 15, 16, 60}));
  EXPECT_GE(r.time_of(3), start_ + 3);
  EXPECT_GE(r.time_of(15), start_ + 15);
  EXPECT_GE(r.time_of(60), start_ + 60);
  EXPECT_LT(r.time_of(3), r.time_of(60));
}

TEST_F(TimersTest, ShortTimeoutArmedDuringExpiryOvertakesALongerOne) {
  Recorder r(*timers_);
  TimerLink trigger(&r, 1), longer(&r, 2), shorter(&r, 3);
  list(40).arm(longer);
  list(2).arm(trigger);
  r.hook = [&](int tag) {
    if (tag == 1) list(3).arm(shorter);  // due long before `longer`
  };
  run();
  EXPECT_EQ(r.fired, (Tags{1, 3, 2}));
  EXPECT_GE(r.time_of(3), r.time_of(1) + 3);
  EXPECT_GE(r.time_of(2), start_ + 40);
}

TEST_F(TimersTest, DestroyingALinkUnlinksIt) {
  Recorder r(*timers_);
  auto a = std::make_unique<TimerLink>(&r, 1);
  auto b = std::make_unique<TimerLink>(&r, 2);
  auto c = std::make_unique<TimerLink>(&r, 3);
  auto d = std::make_unique<TimerLink>(&r, 4);
  list(3).arm(*a);
  list(3).arm(*b);
  list(3).arm(*c);
  list(3).arm(*d);
  b.reset();  // middle
  a.reset();  // head
  d.reset();  // tail
  TimerLink e(&r, 5);
  list(3).arm(e);
  run();
  EXPECT_EQ(r.fired, (Tags{3, 5}));
}

TEST_F(TimersTest, DestroyingTheOnlyLinkLeavesNothingToFire) {
  Recorder r(*timers_);
  {
    TimerLink a(&r, 1);
    list(5).arm(a);
  }
  run();
  EXPECT_TRUE(r.fired.empty());
}

TEST_F(TimersTest, TagChangesAfterArmingAreSeen) {
  Recorder r(*timers_);
  TimerLink a(&r, 1);
  list(2).arm(a);
  a.set_tag(7);
  run();
  EXPECT_EQ(r.fired, (Tags{7}));
}

TEST_F(TimersTest, EachLinkReportsToItsOwnHandler) {
  Recorder r1(*timers_), r2(*timers_);
  TimerLink a(&r1, 1), b(&r2, 2);
  list(2).arm(a);
  list(2).arm(b);
  run();
  EXPECT_EQ(r1.fired, (Tags{1}));
  EXPECT_EQ(r2.fired, (Tags{2}));
}

}  // namespace
}  // namespace portico::core
