// What a worker offers its filters beyond the request: connections to the outside services
// filters use, made on the worker's loop on first use (or when a config is prepared) and
// kept while a config uses them.
#pragma once

#include <cstdint>

#include "config/Config.h"

namespace portico::redis {
class RedisClient;
}

namespace portico::filters {

class WorkerServices {
 public:
  // This worker's client for the Redis at `address` whose calls time out after `timeout`.
  virtual redis::RedisClient& redis(const config::SocketAddress& address,
                                    config::Duration timeout) = 0;
  // Random bits, for choices made per request (this worker's own generator).
  virtual uint64_t random() = 0;

 protected:
  ~WorkerServices() = default;
};

}  // namespace portico::filters
