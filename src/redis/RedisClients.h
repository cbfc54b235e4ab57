// One worker's Redis clients, one per (address, command timeout), made on first use on
// the worker's loop. clear() closes them: outstanding calls complete with kClosed, and the
// loop must run on until their handles have closed.
#pragma once

#include <uv.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "config/Config.h"
#include "redis/RedisClient.h"

namespace portico::redis {

class RedisClients {
 public:
  explicit RedisClients(uv_loop_t* loop) : loop_(loop) {}

  RedisClient& get(const config::SocketAddress& address, config::Duration timeout);
  void clear() { clients_.clear(); }

 private:
  // Looked up per request: compared with a (string_view, timeout) without building a key.
  struct Key {
    std::string address;
    int64_t timeout_ms;
  };
  struct KeyLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return std::tie(a.address, a.timeout_ms) < std::tie(b.address, b.timeout_ms);
    }
  };
  struct KeyView {
    std::string_view address;
    int64_t timeout_ms;
  };

  uv_loop_t* loop_;
  std::map<Key, std::unique_ptr<RedisClient>, KeyLess> clients_;
};

}  // namespace portico::redis
