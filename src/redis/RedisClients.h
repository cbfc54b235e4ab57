// One worker's Redis clients, one per (address, command timeout), made on first use on
// the worker's loop. clear() closes them: outstanding calls complete with kClosed, and the
// loop must run on until their handles have closed.
#pragma once

#include <uv.h>

#include <map>
#include <memory>
#include <string>
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
  uv_loop_t* loop_;
  std::map<std::pair<std::string, int64_t>, std::unique_ptr<RedisClient>> clients_;
};

}  // namespace portico::redis
