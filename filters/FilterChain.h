// A route's filters, in config order, and the rules for running them: request hooks in
// order until one answers or pauses, response hooks in reverse over the filters whose
// request hook ran, on_done exactly once for each of those. Where a request is in its
// chain is kept in its FilterContext, so a chain is immutable and shared by all workers.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "filters/Filter.h"

namespace portico::filters {

class FilterChain {
 public:
  FilterChain() = default;
  explicit FilterChain(std::vector<std::shared_ptr<const Filter>> filters);

  bool empty() const { return filters_.empty(); }
  size_t size() const { return filters_.size(); }
  const Filter& at(size_t i) const { return *filters_[i]; }

  void prepare(WorkerServices& services) const {
    for (const auto& f : filters_) f->prepare(services);
  }
  // Runs the request hooks from the start. Continue: every filter let the request through.
  Verdict run_request(FilterContext& ctx) const;
  // The paused filter gave its verdict: runs the rest of the request hooks if it is
  // Continue, and returns what run_request would have.
  Verdict resume(FilterContext& ctx, Verdict verdict) const;
  bool paused(const FilterContext& ctx) const { return ctx.paused_; }
  void run_response(FilterContext& ctx, int status) const;
  void run_body(FilterContext& ctx, std::span<const char> body) const;
  // The request is answered without the paused filter: it is told (on_cancel) and will
  // not resume it; on_done still follows.
  void cancel_pause(FilterContext& ctx) const;
  // The exchange is over: cancels a paused filter, then on_done in reverse. Idempotent.
  void run_done(FilterContext& ctx) const;

 private:
  Verdict run_from(FilterContext& ctx, size_t first) const;

  std::vector<std::shared_ptr<const Filter>> filters_;
};

}  // namespace portico::filters
