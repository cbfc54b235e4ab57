#include "filters/FilterChain.h"

#include <cassert>

namespace portico::filters {

FilterChain::FilterChain(std::vector<std::shared_ptr<const Filter>> filters)
    : filters_(std::move(filters)) {
  assert(filters_.size() <= FilterContext::kMaxFilters);
}

Verdict FilterChain::run_request(FilterContext& ctx) const {
  return run_from(ctx, 0);
}

Verdict FilterChain::resume(FilterContext& ctx, Verdict verdict) const {
  assert(ctx.paused_);
  ctx.paused_ = false;
  ctx.current_ = ctx.paused_index_;
  if (verdict != Verdict::Continue) return verdict;
  return run_from(ctx, ctx.paused_index_ + 1);
}

Verdict FilterChain::run_from(FilterContext& ctx, size_t first) const {
  for (size_t i = first; i < filters_.size(); ++i) {
    ctx.current_ = i;
    ctx.ran_ = i + 1;
    Verdict v = filters_[i]->on_request(ctx);
    if (v == Verdict::Pause) {
      ctx.paused_ = true;
      ctx.paused_index_ = i;
      ctx.paused_filter_ = filters_[i].get();
    }
    if (v != Verdict::Continue) return v;
  }
  return Verdict::Continue;
}

void FilterChain::run_response(FilterContext& ctx, int status) const {
  for (size_t i = ctx.ran_; i-- > 0;) {
    ctx.current_ = i;
    filters_[i]->on_response(ctx, status);
  }
}

void FilterChain::run_body(FilterContext& ctx, std::span<const char> body) const {
  for (size_t i = ctx.ran_; i-- > 0;) {
    ctx.current_ = i;
    filters_[i]->on_body(ctx, body);
  }
}

void FilterChain::cancel_pause(FilterContext& ctx) const {
  if (!ctx.paused_) return;
  ctx.paused_ = false;
  if (ctx.redis_client_) ctx.redis_client_->cancel(ctx.redis_ticket_);
  ctx.redis_client_ = nullptr;
  ctx.current_ = ctx.paused_index_;
  filters_[ctx.current_]->on_cancel(ctx);
}

void FilterChain::run_done(FilterContext& ctx) const {
  cancel_pause(ctx);
  for (size_t i = ctx.ran_; i-- > 0;) {
    ctx.current_ = i;
    filters_[i]->on_done(ctx);
  }
  ctx.ran_ = 0;
}

}  // namespace portico::filters
