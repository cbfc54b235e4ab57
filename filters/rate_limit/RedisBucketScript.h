// The fleet-wide token bucket: the same rule as TokenBucket, run atomically inside Redis
// by a Lua script, one EVALSHA per decision, so every Portico process sharing the Redis
// shares the limit. Time is Redis' own clock (TIME), so gateways with skewed clocks agree.
// The bucket is a hash {tokens, ts} that expires once it would have refilled to `burst`
// (plus a second of slack): an idle key vanishes, and a new bucket starts full anyway.
//
// Usage with redis::RedisClient:
//   RedisBucketScript bucket;                  // once per limit config, shared by workers
//   RedisBucketArgs args(limit);               // once per limit (formats the numbers)
//   std::string key = RedisBucketScript::key("portico:rl:", limit_id, client_key);
//   std::string_view keys[] = {key};
//   client.eval(bucket.script(), keys, args.argv(), handler);
//   ... in the handler: RedisBucketScript::parse(reply, &decision)
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "filters/rate_limit/TokenBucket.h"
#include "redis/RedisScript.h"

struct redisReply;

namespace portico::filters {

// ARGV of the script for one limit: rate and burst as text, formatted once.
class RedisBucketArgs {
 public:
  explicit RedisBucketArgs(const BucketLimit& limit);
  // Views into this object: valid while it lives.
  std::array<std::string_view, 2> argv() const {
    return {std::string_view(rate_, rate_len_), std::string_view(burst_, burst_len_)};
  }

 private:
  char rate_[32];
  char burst_[32];
  size_t rate_len_ = 0;
  size_t burst_len_ = 0;
};

class RedisBucketScript {
 public:
  RedisBucketScript();

  const redis::RedisScript& script() const { return script_; }

  // prefix + limit_id + ":" + client_key, e.g. "portico:rl:api:10.0.0.7".
  static std::string key(std::string_view prefix, std::string_view limit_id,
                         std::string_view client_key);

  // The script's reply as a decision; false when the reply is not what the script returns
  // (an error reply, another script under the same name...), leaving *decision untouched.
  static bool parse(const redisReply* reply, BucketDecision* decision);

 private:
  redis::RedisScript script_;
};

}  // namespace portico::filters
