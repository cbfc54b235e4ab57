// A Lua script and its SHA-1, computed once: calls send EVALSHA with the SHA-1 and fall back
// to EVAL with the text when Redis does not know it yet (see RedisClient::eval).
// Immutable, so one instance can be shared by every worker.
#pragma once

#include <string>
#include <string_view>

namespace portico::redis {

class RedisScript {
 public:
  explicit RedisScript(std::string text);

  const std::string& text() const { return text_; }
  const std::string& sha1() const { return sha1_; }  // 40 lowercase hex digits

 private:
  std::string text_;
  std::string sha1_;
};

}  // namespace portico::redis
