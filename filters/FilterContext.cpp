#include "filters/FilterContext.h"

#include "filters/Filter.h"
#include "http/Cookies.h"

namespace portico::filters {

std::optional<std::string_view> FilterContext::header(std::string_view name) const {
  for (const http::Header& h : headers)
    if (http::iequals(h.name, name)) return h.value;
  return std::nullopt;
}

std::optional<std::string_view> FilterContext::cookie(std::string_view name) const {
  return http::find_cookie(headers, name);
}

redis::RedisError FilterContext::call_redis(redis::RedisClient& client,
                                            const redis::RedisScript& script,
                                            std::span<const std::string_view> keys,
                                            std::span<const std::string_view> args) {
  redis::RedisSubmit submit = client.eval(script, keys, args, *this);
  if (submit.accepted()) {
    redis_client_ = &client;
    redis_ticket_ = submit.ticket;
  }
  return submit.error;
}

void FilterContext::on_redis_reply(const redisReply* reply, redis::RedisError error) {
  redis_client_ = nullptr;
  redis_ticket_ = {};
  if (!paused_ || !paused_filter_) return;
  current_ = paused_index_;
  paused_filter_->on_redis_reply(*this, reply, error);
}

void FilterContext::respond(int status, std::string_view body) {
  local_status_ = status;
  local_body_.assign(body);
}

void FilterContext::add_response_header(std::string_view name, std::string_view value) {
  response_headers_.append(name).append(": ").append(value).append("\r\n");
}

}  // namespace portico::filters
