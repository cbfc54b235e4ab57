// The rate_limit filter: a token bucket per key, held in this process (BucketTable: one
// limit for all workers) or in Redis (one limit for every gateway sharing it). A limited
// request is answered 429 with Retry-After and the RateLimit-Policy / RateLimit headers
// of draft-ietf-httpapi-ratelimit-headers.
#pragma once

#include <memory>

#include "filters/Filter.h"
#include "filters/rate_limit/BucketTable.h"
#include "filters/rate_limit/RateLimitConfig.h"

namespace portico::filters {

class RateLimitFilter final : public Filter {
 public:
  RateLimitFilter(std::shared_ptr<const RateLimitSettings> settings,
                  std::shared_ptr<BucketTable> buckets);

  Verdict on_request(FilterContext& ctx) const override;
  void on_response(FilterContext& ctx, int status) const override;

  const BucketTable* buckets() const { return buckets_.get(); }

 private:
  // Answers 429, or notes what on_response adds to an allowed response.
  Verdict decide(FilterContext& ctx, const BucketDecision& d) const;
  void add_headers(FilterContext& ctx, double remaining, uint64_t reset_ms) const;

  std::shared_ptr<const RateLimitSettings> settings_;
  RateLimitKey key_;
  std::shared_ptr<BucketTable> buckets_;  // local backend
  std::string policy_;                    // the RateLimit-Policy value, made once
};

}  // namespace portico::filters
