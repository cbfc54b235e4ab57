// Active health checks for every upstream that asks for them (`health_check:`): one
// EndpointProber per endpoint, all on one loop, which must be the main thread's and never
// a worker's, so probing never delays a request. Workers see the results only through
// the atomics in the Runtime's PoolState.
#pragma once

#include <uv.h>

#include <memory>
#include <vector>

#include "core/Runtime.h"
#include "health/EndpointProber.h"

namespace portico::health {

class HealthChecker {
 public:
  HealthChecker(uv_loop_t* loop, std::shared_ptr<const core::Runtime> runtime);
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // Starts probing: each endpoint's first probe runs on the loop's next turn.
  void start();
  // Cancels every probe and closes every handle, so the loop can end. Idempotent.
  void stop();

  size_t endpoints_checked() const { return probers_.size(); }

 private:
  uv_loop_t* loop_;
  std::shared_ptr<const core::Runtime> runtime_;  // keeps the config and PoolState alive
  // TLS probes' buffers: shared with the probes, which may close after the checker is gone.
  std::shared_ptr<core::BufferPool> buffers_ = std::make_shared<core::BufferPool>();
  std::vector<std::unique_ptr<EndpointProber>> probers_;
};

}  // namespace portico::health
