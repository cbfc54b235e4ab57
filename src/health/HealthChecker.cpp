#include "health/HealthChecker.h"

#include <spdlog/spdlog.h>

#include <random>

#include "upstream/HashKey.h"

namespace portico::health {

HealthChecker::HealthChecker(uv_loop_t* loop, std::shared_ptr<const core::Runtime> runtime)
    : loop_(loop), runtime_(std::move(runtime)) {
  // Jitter exists so that probes do not line up, across restarts and instances too, so
  // the seed is random rather than fixed.
  uint64_t seed = (uint64_t(std::random_device{}()) << 32) ^ std::random_device{}();
  const auto& upstreams = runtime_->config().upstreams;
  for (size_t u = 0; u < upstreams.size(); ++u) {
    const config::Upstream& up = upstreams[u];
    if (!up.health_check.enabled) continue;
    // Every slot, filled or not: a name's slots fill and empty as DNS answers change.
    upstream::PoolState& pool = runtime_->pool_state(u);
    for (size_t slot = 0; slot < pool.size(); ++slot) {
      seed = upstream::mix64(seed + probers_.size() + 1);
      probers_.push_back(std::make_unique<EndpointProber>(
          loop_, up, pool, slot, seed, runtime_->upstream_tls(u).get(), buffers_));
    }
  }
}

HealthChecker::~HealthChecker() {
  stop();
}

void HealthChecker::start() {
  for (const config::Upstream& up : runtime_->config().upstreams) {
    if (!up.health_check.enabled) continue;
    const config::HealthCheck& hc = up.health_check;
    bool http = hc.type == config::HealthCheck::Type::Http;
    spdlog::info("upstream {}: {} health checks every {}ms", up.name,
                 http ? hc.method + " " + hc.path : std::string("tcp"), hc.interval.count());
  }
  for (auto& p : probers_) p->start();
}

void HealthChecker::stop() {
  for (auto& p : probers_) p->stop();
}

}  // namespace portico::health
