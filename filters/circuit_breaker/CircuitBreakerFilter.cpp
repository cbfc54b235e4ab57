#include "filters/circuit_breaker/CircuitBreakerFilter.h"

#include <fmt/format.h>

#include "http/Header.h"
#include "upstream/PoolState.h"

namespace portico::filters {

namespace {

constexpr uint64_t kAdmitted = 1;  // slot.a: slot.b holds a packed Admission

}  // namespace

CircuitBreakerFilter::CircuitBreakerFilter(std::shared_ptr<const CircuitBreakerSettings> settings,
                                           std::shared_ptr<CircuitBreakerState> state,
                                           upstream::PoolState& pool, int own_upstream,
                                           int fallback_upstream)
    : settings_(std::move(settings)),
      state_(std::move(state)),
      pool_(pool),
      own_upstream_(own_upstream),
      fallback_upstream_(fallback_upstream) {}

Verdict CircuitBreakerFilter::on_request(FilterContext& ctx) const {
  // A canary sent the request to another pool: this breaker guards the route's own.
  if (ctx.upstream >= 0 && ctx.upstream != own_upstream_) return Verdict::Continue;
  const CircuitBreakerSettings& s = *settings_;
  // Envoy's thresholds: past them the pool is overloaded, and waiting would only add to it.
  if ((s.max_requests && pool_.requests_active() >= s.max_requests) ||
      (s.max_pending && pool_.pending() >= s.max_pending)) {
    state_->overloaded_total.fetch_add(1, std::memory_order_relaxed);
    ctx.add_response_header("x-portico-overloaded", "true");
    ctx.respond(503);
    return Verdict::Respond;
  }
  if (!state_->breaker) return Verdict::Continue;
  uint64_t now_ms = ctx.now_ns / 1'000'000;
  Admission admission = state_->breaker->admit(now_ms);
  if (admission.admitted()) {
    FilterSlot& slot = ctx.slot();
    slot.a = kAdmitted;
    slot.b = admission.pack();
    return Verdict::Continue;
  }
  // Open (or half-open with every probe taken): the pool is not touched.
  if (fallback_upstream_ >= 0) {
    state_->fallbacks_total.fetch_add(1, std::memory_order_relaxed);
    ctx.upstream = fallback_upstream_;
    return Verdict::Continue;
  }
  bool own_retry_after = false;
  for (const auto& h : s.fallback.headers) own_retry_after |= http::iequals(h.first, "retry-after");
  if (uint64_t wait = state_->breaker->retry_after_ms(now_ms); wait && !own_retry_after) {
    char text[24];
    auto end = fmt::format_to_n(text, sizeof text, "{}", (wait + 999) / 1000).out;
    ctx.add_response_header("Retry-After", std::string_view(text, size_t(end - text)));
  }
  ctx.add_response_header("x-portico-circuit", "open");
  for (const auto& [name, value] : s.fallback.headers) ctx.add_response_header(name, value);
  ctx.respond(s.fallback.status, s.fallback.body);
  return Verdict::Respond;
}

void CircuitBreakerFilter::on_response(FilterContext& ctx, int) const {
  // Another filter's answer (a 429 after this one) is no outcome of the pool's.
  if (ctx.outcome.kind != UpstreamOutcome::Kind::None) hand_back(ctx);
}

void CircuitBreakerFilter::on_done(FilterContext& ctx) const {
  hand_back(ctx);
}

void CircuitBreakerFilter::hand_back(FilterContext& ctx) const {
  FilterSlot& slot = ctx.slot();
  if (slot.a != kAdmitted) return;
  slot.a = 0;
  Admission admission = Admission::unpack(slot.b);
  const UpstreamOutcome& outcome = ctx.outcome;
  if (outcome.kind == UpstreamOutcome::Kind::None ||
      outcome.kind == UpstreamOutcome::Kind::Unavailable) {
    // No attempt reached the pool (the client left, a later filter answered, no endpoint
    // was usable): no verdict on the endpoints' answers.
    state_->breaker->abandon(admission);
    return;
  }
  bool failure = counts_as_failure(settings_->failures, outcome);
  state_->breaker->record(admission, failure, ctx.now_ns / 1'000'000);
}

}  // namespace portico::filters
