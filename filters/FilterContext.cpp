#include "filters/FilterContext.h"

#include "filters/Filter.h"

namespace portico::filters {

std::optional<std::string_view> FilterContext::header(std::string_view name) const {
  for (const http::Header& h : headers)
    if (http::iequals(h.name, name)) return h.value;
  return std::nullopt;
}

std::optional<std::string_view> FilterContext::cookie(std::string_view name) const {
  // RFC 6265 §5.4: "name=value" pairs separated by "; " (be lenient about the spaces);
  // several Cookie headers count as one list.
  for (const http::Header& h : headers) {
    if (!http::iequals(h.name, "cookie")) continue;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      size_t semi = rest.find(';');
      std::string_view pair = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
      while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t')) pair.remove_prefix(1);
      size_t eq = pair.find('=');
      if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
      std::string_view value = pair.substr(eq + 1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      return value;
    }
  }
  return std::nullopt;
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
