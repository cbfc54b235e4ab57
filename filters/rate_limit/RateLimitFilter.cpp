#include "filters/rate_limit/RateLimitFilter.h"

#include <fmt/format.h>

#include <cmath>

#include "stats/WorkerStats.h"

namespace portico::filters {

namespace {

constexpr uint64_t kHeadersPending = 1;  // slot.a: on_response adds the RateLimit header

uint64_t ceil_seconds(uint64_t ms) {
  return (ms + 999) / 1000;
}

}  // namespace

RateLimitFilter::RateLimitFilter(std::shared_ptr<const RateLimitSettings> settings,
                                 std::shared_ptr<BucketTable> buckets)
    : settings_(std::move(settings)), key_(settings_->key), buckets_(std::move(buckets)) {
  // The window a client sees: the time an empty bucket takes to fill to `burst`.
  const BucketLimit& l = settings_->limit;
  uint64_t window = uint64_t(std::max(1.0, std::ceil(l.burst / l.rate_per_sec)));
  policy_ = fmt::format("\"{}\";q={};w={}", settings_->policy_name, uint64_t(l.burst), window);
}

Verdict RateLimitFilter::on_request(FilterContext& ctx) const {
  RateLimitKey::Buffer buffer;
  std::optional<std::string_view> key = key_.build(ctx, buffer);
  if (!key) return Verdict::Continue;  // the key's header or cookie is absent: not counted
  return decide(ctx, buckets_->take(*key, ctx.now_ns));
}

Verdict RateLimitFilter::decide(FilterContext& ctx, const BucketDecision& d) const {
  const BucketLimit& l = settings_->limit;
  if (!d.allowed) {
    if (ctx.route_stats) ctx.route_stats->rate_limited.add();
    uint64_t retry = std::max<uint64_t>(1, ceil_seconds(d.retry_after_ms));
    char text[24];
    auto end = fmt::format_to_n(text, sizeof text, "{}", retry).out;
    ctx.add_response_header("Retry-After", std::string_view(text, size_t(end - text)));
    add_headers(ctx, 0, d.retry_after_ms);
    ctx.respond(429);
    return Verdict::Respond;
  }
  if (ctx.route_stats) ctx.route_stats->rate_allowed.add();
  if (settings_->response_headers) {
    // Until the bucket is full again.
    double missing = std::max(0.0, l.burst - d.remaining);
    FilterSlot& slot = ctx.slot();
    slot.a = kHeadersPending;
    slot.b = (uint64_t(std::floor(d.remaining)) << 32) |
             uint32_t(std::min(4e9, std::ceil(missing / l.rate_per_sec * 1000)));
  }
  return Verdict::Continue;
}

void RateLimitFilter::on_response(FilterContext& ctx, int) const {
  FilterSlot& slot = ctx.slot();
  if (slot.a != kHeadersPending) return;
  add_headers(ctx, double(slot.b >> 32), uint32_t(slot.b));
}

void RateLimitFilter::add_headers(FilterContext& ctx, double remaining, uint64_t reset_ms) const {
  ctx.add_response_header("RateLimit-Policy", policy_);
  char text[160];
  auto end = fmt::format_to_n(text, sizeof text, "\"{}\";r={};t={}", settings_->policy_name,
                              uint64_t(remaining), ceil_seconds(reset_ms))
                 .out;
  ctx.add_response_header("RateLimit", std::string_view(text, size_t(end - text)));
}

}  // namespace portico::filters
