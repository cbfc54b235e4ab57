#include "filters/canary/CanaryFilter.h"

#include <spdlog/spdlog.h>

#include "filters/WorkerServices.h"
#include "upstream/HashKey.h"

namespace portico::filters {

CanaryFilter::CanaryFilter(std::shared_ptr<const CanarySettings> settings,
                           std::vector<Target> targets, std::shared_ptr<CanaryState> state,
                           std::string listener, std::string route)
    : settings_(std::move(settings)),
      targets_(std::move(targets)),
      state_(std::move(state)),
      listener_(std::move(listener)),
      route_(std::move(route)),
      route_hash_(upstream::hash_bytes(route_)) {}

size_t CanaryFilter::forced_target(const FilterContext& ctx) const {
  const CanarySettings& s = *settings_;
  std::optional<std::string_view> wanted;
  if (!s.force_header.empty()) wanted = ctx.header(s.force_header);
  if (!wanted && !s.force_cookie.empty()) wanted = ctx.cookie(s.force_cookie);
  if (!wanted) return 0;
  if (!s.force_from.empty() && !s.force_from.contains(ctx.client_ip)) return 0;
  for (size_t t = 0; t < targets_.size(); ++t)
    if (targets_[t].name == *wanted) return 1 + t;
  return 0;  // not a pool of this split: assigned as if not asked
}

Verdict CanaryFilter::on_request(FilterContext& ctx) const {
  size_t target = 0;
  SplitVia via = SplitVia::Forced;
  if (size_t forced = forced_target(ctx)) {
    target = forced - 1;
  } else {
    std::optional<uint64_t> key;
    if (settings_->sticky)
      key = upstream::request_hash(*settings_->sticky, {ctx.path, ctx.client_ip, ctx.headers});
    via = key ? SplitVia::Sticky : SplitVia::Random;
    uint64_t point = key ? split_point(*key, route_hash_) : ctx.services->random();
    target = split_target(state_->configured(), split_bucket(point), state_->rolled_back());
  }
  state_->count(target, via);
  ctx.upstream = targets_[target].upstream;
  FilterSlot& slot = ctx.slot();
  slot.a = 1 + target;
  slot.b = uint64_t(via);
  return Verdict::Continue;
}

void CanaryFilter::on_response(FilterContext& ctx, int) const {
  const auto& policy = state_->rollback_policy();
  FilterSlot& slot = ctx.slot();
  // Testers' forced requests say nothing about how the canary does for users.
  if (!policy || slot.a == 0 || SplitVia(slot.b) == SplitVia::Forced ||
      ctx.outcome.kind == UpstreamOutcome::Kind::None)
    return;
  size_t target = slot.a - 1;
  slot.a = 0;
  // A breaker's fallback took the request elsewhere: not this pool's outcome.
  if (ctx.upstream != targets_[target].upstream) return;
  // The pool answering 503 itself (no usable endpoint) fails its users as much as a 503.
  bool failure = ctx.outcome.kind == UpstreamOutcome::Kind::Unavailable ||
                 counts_as_failure(policy->failures, ctx.outcome);
  std::optional<RollbackRecord> rolled = state_->record(target, failure, ctx.now_ns / 1'000'000);
  if (!rolled) return;
  const RollbackRecord& r = *rolled;
  spdlog::warn(
      "listener '{}' route '{}': canary '{}' rolled back to weight 0: error ratio {:.3f} ({} of "
      "{} requests) against stable '{}' {:.3f} ({} of {}) over {} ms, margin {}; reset it with "
      "PUT /-/canary/{}/{} {{\"reset_rollback\": true}}",
      listener_, route_, targets_[target].name, failure_ratio(r.canary), r.canary.failures,
      r.canary.requests, targets_[0].name, failure_ratio(r.stable), r.stable.failures,
      r.stable.requests, policy->window.count(), policy->margin, listener_, route_);
}

}  // namespace portico::filters
