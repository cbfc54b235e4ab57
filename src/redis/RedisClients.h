// One worker's Redis clients, one per (address, command timeout), made on first use on
// the worker's loop. clear() closes them: outstanding calls complete with kClosed, and the
// loop must run on until their handles have closed. A reload closes those the new config
// does not use (begin_config, then the new config's filters get theirs, then
// close_unused), so a Redis removed from the config is not reconnected to forever.
#pragma once

#include <uv.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "config/Config.h"
#include "redis/RedisClient.h"

namespace portico::redis {

class RedisClients {
 public:
  explicit RedisClients(uv_loop_t* loop) : loop_(loop) {}

  RedisClient& get(const config::SocketAddress& address, config::Duration timeout);
  void clear() { clients_.clear(); }

  // A new config is being prepared: clients it does not get() before close_unused() go.
  void begin_config() { ++generation_; }
  // Closes the clients the current config did not ask for, once no call of theirs is in
  // flight (a request of the previous config may still wait for one: the next reload
  // closes those).
  void close_unused();
  size_t size() const { return clients_.size(); }

 private:
  // Looked up per request: compared with a (string_view, timeout) without building a key.
  struct Key {
    std::string address;
    int64_t timeout_ms;
  };
  struct KeyLess {
    using is_transparent = void;
    // Not std::tie: comparing a tuple of string with one of string_view needs operator<=>
    // across them, which clang 14 with libstdc++ 12 does not find (the fuzz build).
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      const std::string_view x = a.address, y = b.address;
      return x != y ? x < y : a.timeout_ms < b.timeout_ms;
    }
  };
  struct KeyView {
    std::string_view address;
    int64_t timeout_ms;
  };

  struct Entry {
    std::unique_ptr<RedisClient> client;
    uint64_t used = 0;  // the last config generation that asked for it
  };

  uv_loop_t* loop_;
  uint64_t generation_ = 0;
  std::map<Key, Entry, KeyLess> clients_;
};

}  // namespace portico::redis
