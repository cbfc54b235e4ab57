#include "filters/FilterRegistry.h"

#include <array>

#include "filters/cache/CacheConfig.h"
#include "filters/canary/CanaryConfig.h"
#include "filters/circuit_breaker/CircuitBreakerConfig.h"
#include "filters/rate_limit/RateLimitConfig.h"

namespace portico::filters {

namespace {

constexpr std::array<FilterType, 4> kFilterTypes{{
    {"rate_limit", parse_rate_limit},
    {"circuit_breaker", parse_circuit_breaker},
    {"canary", parse_canary},
    {"cache", parse_cache},
}};

}  // namespace

std::span<const FilterType> filter_types() {
  return kFilterTypes;
}

const FilterType* find_filter_type(std::string_view name) {
  for (const FilterType& t : kFilterTypes)
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace portico::filters
