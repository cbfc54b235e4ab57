#include "filters/rate_limit/RateLimitFilter.h"

#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include <cmath>

#include "filters/WorkerServices.h"
#include "stats/WorkerStats.h"

namespace portico::filters {

namespace {

constexpr uint64_t kHeadersPending = 1;  // slot.a: on_response adds the RateLimit header

uint64_t ceil_seconds(uint64_t ms) {
  return (ms + 999) / 1000;
}

}  // namespace

RateLimitFilter::RateLimitFilter(std::shared_ptr<const RateLimitSettings> settings,
                                 std::shared_ptr<BucketTable> buckets, std::string limit_id)
    : settings_(std::move(settings)),
      key_(settings_->key),
      buckets_(std::move(buckets)),
      limit_id_(std::move(limit_id)),
      script_args_(settings_->limit) {
  // A token bucket as a quota per window: the window is the time an empty bucket takes to
  // fill (at least a second), the quota what it lets through in that time, and never less
  // than the burst.
  const BucketLimit& l = settings_->limit;
  double window = std::max(1.0, std::ceil(l.burst / l.rate_per_sec));
  double quota = std::max(l.burst, std::floor(l.rate_per_sec * window));
  policy_ =
      fmt::format("\"{}\";q={};w={}", settings_->policy_name, uint64_t(quota), uint64_t(window));
}

void RateLimitFilter::prepare(WorkerServices& services) const {
  if (settings_->backend == RateLimitSettings::Backend::Redis)
    services.redis(settings_->redis.address, settings_->redis.timeout);
}

Verdict RateLimitFilter::on_request(FilterContext& ctx) const {
  RateLimitKey::Buffer buffer;
  std::optional<std::string_view> key = key_.build(ctx, buffer);
  if (!key) return Verdict::Continue;  // the key's header or cookie is absent: not counted
  if (settings_->backend == RateLimitSettings::Backend::Redis) return ask_redis(ctx, *key);
  return decide(ctx, buckets_->take(*key, ctx.now_ns));
}

Verdict RateLimitFilter::ask_redis(FilterContext& ctx, std::string_view key) const {
  const RateLimitSettings::Redis& r = settings_->redis;
  ctx.scratch.assign(r.prefix).append(limit_id_).append(":").append(key);
  std::string_view keys[] = {ctx.scratch};
  auto args = script_args_.argv();
  redis::RedisClient& client = ctx.services->redis(r.address, r.timeout);
  redis::RedisError refused = ctx.call_redis(client, script_.script(), keys, args);
  if (refused != redis::RedisError::kNone) return redis_failed(ctx, refused);
  return Verdict::Pause;
}

void RateLimitFilter::on_redis_reply(FilterContext& ctx, const redisReply* reply,
                                     redis::RedisError error) const {
  BucketDecision d;
  if (error == redis::RedisError::kNone && RedisBucketScript::parse(reply, &d)) {
    redis_answered();
    ctx.resume(decide(ctx, d));
    return;
  }
  ctx.resume(redis_failed(
      ctx, error == redis::RedisError::kNone ? redis::RedisError::kErrorReply : error));
}

Verdict RateLimitFilter::redis_failed(FilterContext& ctx, redis::RedisError error) const {
  if (ctx.route_stats) ctx.route_stats->rate_redis_errors.add();
  const RateLimitSettings::Redis& r = settings_->redis;
  if (!redis_failing_.exchange(true, std::memory_order_relaxed))
    spdlog::warn("rate_limit on route {}: Redis {} cannot decide ({}); failing {} until it can",
                 ctx.route, r.address.text, redis::to_string(error),
                 r.fail_open ? "open (allowing requests)" : "closed (refusing requests)");
  if (r.fail_open) return Verdict::Continue;
  // Not the client's fault, so not a 429: the limiter is unavailable.
  ctx.add_response_header("Retry-After", "1");
  ctx.respond(503);
  return Verdict::Respond;
}

void RateLimitFilter::redis_answered() const {
  if (redis_failing_.load(std::memory_order_relaxed) &&
      redis_failing_.exchange(false, std::memory_order_relaxed))
    spdlog::info("rate_limit: Redis {} decides again", settings_->redis.address.text);
}

uint64_t RateLimitFilter::ms_to_full(double remaining) const {
  const BucketLimit& l = settings_->limit;
  double missing = std::max(0.0, l.burst - remaining);
  return uint64_t(std::min(4e9, std::ceil(missing / l.rate_per_sec * 1000)));
}

Verdict RateLimitFilter::decide(FilterContext& ctx, const BucketDecision& d) const {
  if (!d.allowed) {
    if (ctx.route_stats) ctx.route_stats->rate_limited.add();
    uint64_t retry = std::max<uint64_t>(1, ceil_seconds(d.retry_after_ms));
    char text[24];
    auto end = fmt::format_to_n(text, sizeof text, "{}", retry).out;
    ctx.add_response_header("Retry-After", std::string_view(text, size_t(end - text)));
    add_headers(ctx, 0, ms_to_full(d.remaining));
    ctx.respond(429);
    return Verdict::Respond;
  }
  if (ctx.route_stats) ctx.route_stats->rate_allowed.add();
  if (settings_->response_headers) {
    FilterSlot& slot = ctx.slot();
    slot.a = kHeadersPending;
    slot.b = (uint64_t(std::floor(d.remaining)) << 32) | uint32_t(ms_to_full(d.remaining));
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
  ctx.scratch.clear();
  fmt::format_to(std::back_inserter(ctx.scratch), "\"{}\";r={};t={}", settings_->policy_name,
                 uint64_t(remaining), ceil_seconds(reset_ms));
  ctx.add_response_header("RateLimit", ctx.scratch);
}

}  // namespace portico::filters
