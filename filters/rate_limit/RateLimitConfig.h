// `rate_limit:` as written in a route's (or listener's) filters:
//
//   - rate_limit: { key: client_ip, rate: 100/s, burst: 200 }
//
// See docs/FILTERS.md for every key.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/Config.h"
#include "config/YamlReader.h"
#include "filters/FilterConfig.h"
#include "filters/rate_limit/RateLimitKey.h"
#include "filters/rate_limit/TokenBucket.h"

namespace portico::filters {

struct RateLimitSettings {
  std::vector<KeyPart> key{{KeyPart::Kind::ClientIp, {}}};
  BucketLimit limit;
  std::string rate_text;          // as written ("100/s"), for messages
  size_t max_keys = 100'000;      // buckets held at most (local backend)
  bool response_headers = false;  // RateLimit-Policy / RateLimit on allowed responses too
  std::string policy_name;  // in the headers; default: the key ("client_ip", "route+header:x")
  enum class Backend { Local, Redis };
  Backend backend = Backend::Local;
  struct Redis {
    config::SocketAddress address;
    config::Duration timeout{50};  // a decision slower than this follows `fail`
    bool fail_open = true;         // Redis down or slow: allow (true) or refuse with 503
    std::string prefix = "portico:rl:";
  } redis;
};

std::shared_ptr<const FilterConfig> parse_rate_limit(config::YamlReader& reader,
                                                     const config::Item& item);

}  // namespace portico::filters
