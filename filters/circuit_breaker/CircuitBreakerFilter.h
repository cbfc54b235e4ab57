// The circuit_breaker filter of a route: fails fast with 503 and `x-portico-overloaded:
// true` when the pool is at max_requests or max_pending, answers 503 (or the fallback)
// without touching the pool while its error-ratio breaker is open, and reports each
// admitted request's outcome to the breaker.
#pragma once

#include <memory>

#include "filters/Filter.h"
#include "filters/circuit_breaker/CircuitBreakerConfig.h"
#include "filters/circuit_breaker/CircuitBreakerState.h"

namespace portico::upstream {
class PoolState;
}

namespace portico::filters {

class CircuitBreakerFilter final : public Filter {
 public:
  CircuitBreakerFilter(std::shared_ptr<const CircuitBreakerSettings> settings,
                       std::shared_ptr<CircuitBreakerState> state, upstream::PoolState& pool,
                       int own_upstream, int fallback_upstream);

  Verdict on_request(FilterContext& ctx) const override;
  // The outcome is known once the response head is: it is recorded before the client can
  // see it, so a client that saw failures finds the breaker already counting them.
  void on_response(FilterContext& ctx, int status) const override;
  // An exchange that ended without one (the client left): the admission is handed back.
  void on_done(FilterContext& ctx) const override;

 private:
  void hand_back(FilterContext& ctx) const;

  std::shared_ptr<const CircuitBreakerSettings> settings_;
  std::shared_ptr<CircuitBreakerState> state_;
  upstream::PoolState& pool_;
  int own_upstream_;       // the pool's index in the config's upstreams
  int fallback_upstream_;  // index in the config's upstreams, or -1
};

}  // namespace portico::filters
