// The rate_limit filter: a token bucket per key, held in this process (BucketTable: one
// limit for all workers) or in Redis (one limit for every gateway sharing it). A limited
// request is answered 429 with Retry-After and the RateLimit-Policy / RateLimit headers
// of draft-ietf-httpapi-ratelimit-headers.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "filters/Filter.h"
#include "filters/rate_limit/BucketTable.h"
#include "filters/rate_limit/RateLimitConfig.h"
#include "filters/rate_limit/RedisBucketScript.h"

namespace portico::filters {

class RateLimitFilter final : public Filter {
 public:
  // `buckets` for the local backend; `limit_id` names the limit's keys in Redis (the same
  // settings in the same place give the same id on every gateway).
  RateLimitFilter(std::shared_ptr<const RateLimitSettings> settings,
                  std::shared_ptr<BucketTable> buckets, std::string limit_id);

  void prepare(WorkerServices& services) const override;
  Verdict on_request(FilterContext& ctx) const override;
  void on_response(FilterContext& ctx, int status) const override;
  void on_redis_reply(FilterContext& ctx, const redisReply* reply,
                      redis::RedisError error) const override;

  const BucketTable* buckets() const { return buckets_.get(); }

 private:
  // Answers 429, or notes what on_response adds to an allowed response.
  Verdict decide(FilterContext& ctx, const BucketDecision& d) const;
  // RateLimit-Policy, and RateLimit with `t` the time until the bucket is full again (the
  // quota "resets"), on allowed and limited responses alike.
  void add_headers(FilterContext& ctx, double remaining, uint64_t reset_ms) const;
  uint64_t ms_to_full(double remaining) const;
  Verdict ask_redis(FilterContext& ctx, std::string_view key) const;
  // Redis could not decide: allow or refuse as `fail` says; logged when it starts and ends.
  Verdict redis_failed(FilterContext& ctx, redis::RedisError error) const;
  void redis_answered() const;

  std::shared_ptr<const RateLimitSettings> settings_;
  RateLimitKey key_;
  std::shared_ptr<BucketTable> buckets_;  // local backend
  std::string policy_;                    // the RateLimit-Policy value, made once
  std::string limit_id_;
  RedisBucketScript script_;
  RedisBucketArgs script_args_;
  // Whether the last Redis decision failed, for logging changes only (any worker).
  mutable std::atomic<bool> redis_failing_{false};
};

}  // namespace portico::filters
