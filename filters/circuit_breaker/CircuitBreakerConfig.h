// `circuit_breaker:` as written in a route's filters: the pool's limits (Envoy's circuit
// breaker thresholds) and its error-ratio breaker.
//
//   - circuit_breaker: { max_pending: 1024, failure_ratio: 0.5, min_requests: 20,
//                        window: 10s, open_for: 30s }
//
// See docs/FILTERS.md for every key.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/YamlReader.h"
#include "filters/FilterConfig.h"
#include "filters/circuit_breaker/BreakerPolicy.h"
#include "filters/circuit_breaker/FailureKinds.h"

namespace portico::filters {

struct CircuitBreakerSettings {
  uint32_t max_connections = 0;  // 0: no limit
  uint32_t max_pending = 0;
  uint32_t max_requests = 0;
  uint32_t max_retries = UINT32_MAX;    // 0: no retries; UINT32_MAX: no limit
  std::optional<BreakerPolicy> policy;  // set when failure_ratio is given
  FailureKinds failures;
  // While open: answer this (default 503), or send the request to another pool.
  struct Fallback {
    int status = 503;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string upstream;  // set: proxy there instead
  } fallback;
};

// `failure_on: [5xx, gateway, 503, 500-504, connect_failure, timeout, reset]`: replaces
// `kinds` with what is listed.
void read_failure_on(config::YamlReader& reader, const config::Item& item, FailureKinds& kinds);

std::shared_ptr<const FilterConfig> parse_circuit_breaker(config::YamlReader& reader,
                                                          const config::Item& item);

}  // namespace portico::filters
