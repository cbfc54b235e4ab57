#include "filters/rate_limit/RedisBucketScript.h"

#include <hiredis/hiredis.h>

#include <charconv>
#include <cmath>

namespace portico::filters {

namespace {

// Lua 5.1 inside Redis. Numbers are doubles, and Redis truncates a number in a reply to an
// integer and formats one passed to redis.call with "%.14g", which would round the
// microsecond timestamp: hence the explicit string.format calls.
constexpr const char* kScript = R"lua(
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
if not rate or not burst or rate <= 0 or burst < 1 then
  return redis.error_reply('ERR token bucket: rate must be > 0 and burst >= 1')
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
elseif now > ts then
  -- A clock that went back refills nothing until it is past ts again.
  tokens = tokens + (now - ts) * rate / 1000000
  ts = now
end
if tokens > burst then tokens = burst end
local allowed = 0
local retry_ms = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry_ms = math.ceil((1 - tokens) * 1000 / rate)
end
local left = string.format('%.17g', tokens)
redis.call('HSET', KEYS[1], 'tokens', left, 'ts', string.format('%.0f', ts))
redis.call('PEXPIRE', KEYS[1], string.format('%.0f', math.ceil((burst - tokens) * 1000 / rate) + 1000))
return {allowed, left, retry_ms}
)lua";

size_t format(char (&buf)[32], double value) {
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return ec == std::errc() ? size_t(end - buf) : 0;
}

}  // namespace

RedisBucketArgs::RedisBucketArgs(const BucketLimit& limit)
    : rate_len_(format(rate_, limit.rate_per_sec)), burst_len_(format(burst_, limit.burst)) {}

RedisBucketScript::RedisBucketScript() : script_(kScript) {}

std::string RedisBucketScript::key(std::string_view prefix, std::string_view limit_id,
                                   std::string_view client_key) {
  std::string k;
  k.reserve(prefix.size() + limit_id.size() + 1 + client_key.size());
  k.append(prefix).append(limit_id).append(1, ':').append(client_key);
  return k;
}

bool RedisBucketScript::parse(const redisReply* reply, BucketDecision* decision) {
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) return false;
  const redisReply* allowed = reply->element[0];
  const redisReply* left = reply->element[1];
  const redisReply* retry = reply->element[2];
  if (allowed->type != REDIS_REPLY_INTEGER || (allowed->integer != 0 && allowed->integer != 1)) {
    return false;
  }
  if (retry->type != REDIS_REPLY_INTEGER || retry->integer < 0) return false;
  double remaining = 0;
  if (left->type == REDIS_REPLY_STRING) {
    const char* end = left->str + left->len;
    auto [p, ec] = std::from_chars(left->str, end, remaining);
    if (ec != std::errc() || p != end || !std::isfinite(remaining)) return false;
  } else if (left->type == REDIS_REPLY_INTEGER) {
    remaining = double(left->integer);
  } else {
    return false;
  }
  decision->allowed = allowed->integer == 1;
  decision->remaining = remaining;
  decision->retry_after_ms = uint64_t(retry->integer);
  return true;
}

}  // namespace portico::filters
