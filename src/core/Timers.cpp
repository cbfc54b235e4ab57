#include "core/Timers.h"

#include "core/UvClose.h"

namespace portico::core {

void TimerLink::cancel() {
  if (list_) list_->unlink(*this);
}

void DeadlineList::unlink(TimerLink& link) {
  if (link.prev_)
    link.prev_->next_ = link.next_;
  else
    head_ = link.next_;
  if (link.next_)
    link.next_->prev_ = link.prev_;
  else
    tail_ = link.prev_;
  link.prev_ = link.next_ = nullptr;
  link.list_ = nullptr;
}

void DeadlineList::arm(TimerLink& link) {
  if (link.list_) link.list_->unlink(link);
  link.deadline_ = timers_.now() + duration_;
  link.list_ = this;
  link.prev_ = tail_;
  if (tail_)
    tail_->next_ = &link;
  else
    head_ = &link;
  tail_ = &link;
  timers_.schedule(link.deadline_);
}

Timers::Timers(uv_loop_t* loop) : loop_(loop), timer_(std::make_unique<uv_timer_t>()) {
  uv_timer_init(loop_, timer_.get());
  timer_->data = this;
}

Timers::~Timers() {
  // The uv_timer_t must outlive its close callback; close() hands it to libuv.
  close();
}

void Timers::close() {
  if (!timer_) return;
  uv_timer_stop(timer_.get());
  close_owned(timer_);
}

DeadlineList& Timers::list(std::chrono::milliseconds duration) {
  uint64_t ms = duration.count() > 0 ? uint64_t(duration.count()) : 1;
  for (auto& l : lists_)
    if (l->duration() == ms) return *l;
  lists_.push_back(std::make_unique<DeadlineList>(*this, ms));
  return *lists_.back();
}

void Timers::schedule(uint64_t deadline) {
  if (!timer_) return;
  if (armed_for_ != 0 && armed_for_ <= deadline) return;
  armed_for_ = deadline;
  uint64_t now = uv_now(loop_);
  uv_timer_start(
      timer_.get(), [](uv_timer_t* t) { static_cast<Timers*>(t->data)->fire(); },
      deadline > now ? deadline - now : 0, 0);
}

void Timers::fire() {
  armed_for_ = 0;
  uint64_t now = uv_now(loop_);
  uint64_t next = 0;
  // Handlers may arm or cancel links, even create lists: index, and re-read each head.
  for (size_t i = 0; i < lists_.size(); ++i) {
    DeadlineList* l = lists_[i].get();
    while (l->head_ && l->head_->deadline_ <= now) {
      TimerLink* link = l->head_;
      l->unlink(*link);
      link->handler_->on_timeout(link->tag_);
    }
  }
  for (auto& l : lists_)
    if (l->head_ && (next == 0 || l->head_->deadline_ < next)) next = l->head_->deadline_;
  if (next) schedule(next);
}

}  // namespace portico::core
