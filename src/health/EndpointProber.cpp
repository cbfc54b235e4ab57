#include "health/EndpointProber.h"

#include <spdlog/spdlog.h>

#include "core/UvClose.h"
#include "health/HttpProbe.h"
#include "health/Jitter.h"

namespace portico::health {

EndpointProber::EndpointProber(uv_loop_t* loop, const config::Upstream& upstream,
                               upstream::PoolState& pool, size_t slot, uint64_t seed,
                               const tls::UpstreamTlsContext* tls,
                               std::shared_ptr<core::BufferPool> buffers)
    : loop_(loop),
      upstream_(upstream),
      endpoint_(upstream.endpoints[pool.endpoint_of(slot)]),
      check_(upstream.health_check),
      pool_(pool),
      slot_(slot),
      health_(pool.endpoint(slot)),
      state_(check_.healthy_threshold, check_.unhealthy_threshold),
      rng_(seed),
      tls_(tls),
      buffers_(std::move(buffers)) {
  if (check_.type == config::HealthCheck::Type::Http) request_ = probe_request(check_, endpoint_);
}

EndpointProber::~EndpointProber() {
  stop();
}

void EndpointProber::start() {
  if (timer_) return;
  timer_ = std::make_unique<uv_timer_t>();
  uv_timer_init(loop_, timer_.get());
  timer_->data = this;
  uv_timer_start(timer_.get(), on_timer, 0, 0);
}

void EndpointProber::stop() {
  if (probe_) {
    probe_->cancel();
    probe_ = nullptr;
  }
  core::close_owned(timer_);
}

void EndpointProber::on_timer(uv_timer_t* timer) {
  auto* self = static_cast<EndpointProber*>(timer->data);
  if (self->probe_) {
    self->on_probe_timeout();
  } else {
    self->begin_probe();
  }
}

void EndpointProber::begin_probe() {
  probe_started_ms_ = uv_now(loop_);
  sockaddr_storage addr;
  socklen_t length = 0;
  uint32_t generation = 0;
  if (!pool_.address(slot_, addr, length, generation)) {
    // An empty slot (the name resolves to fewer addresses): look again next interval.
    uv_timer_start(timer_.get(), on_timer, uint64_t(check_.interval.count()), 0);
    return;
  }
  if (generation != generation_ || address_.empty()) {
    // A new address in this slot: a new server, judged afresh (set_addresses marked it
    // healthy). A prober built by a reload starts from the verdict it inherits.
    generation_ = generation;
    state_ = HealthState(check_.healthy_threshold, check_.unhealthy_threshold,
                         health_.active_healthy.load(std::memory_order_relaxed));
    address_ = pool_.address_text(slot_);
  }
  // The timeout is armed first: a probe that fails at once re-arms the timer for the
  // next interval from inside connect().
  uv_timer_start(timer_.get(), on_timer, uint64_t(check_.timeout.count()), 0);
  Probe::Check c{request_, &check_.expected_statuses};
  tls::SslPtr ssl;
  if (tls_) {
    ssl = tls_->new_connection(endpoint_.host, nullptr);
    if (!ssl) {
      on_probe_done({false, "cannot start TLS: " + tls::take_errors()});
      return;
    }
  }
  probe_ = Probe::create(loop_, std::move(c), this, std::move(ssl), buffers_);
  probe_->connect(reinterpret_cast<const sockaddr*>(&addr));
}

void EndpointProber::on_probe_timeout() {
  probe_->cancel();
  probe_ = nullptr;
  count({false, "no answer within " + std::to_string(check_.timeout.count()) + "ms"});
}

void EndpointProber::on_probe_done(ProbeResult result) {
  probe_ = nullptr;
  count(std::move(result));
}

void EndpointProber::count(ProbeResult result) {
  // A slot that changed address while the probe was out: the result is about a server
  // that is gone, so it is dropped (the next probe starts the new one's record).
  bool stale = health_.generation.load(std::memory_order_relaxed) != generation_;
  if (stale) address_.clear();
  if (!result.ok && !stale) {
    spdlog::debug("upstream {} endpoint {}: health probe failed: {}", upstream_.name, address_,
                  result.reason);
  }
  switch (stale ? HealthState::Change::None : state_.record(result.ok)) {
    case HealthState::Change::BecameUnhealthy:
      health_.active_healthy.store(false, std::memory_order_relaxed);
      spdlog::warn("upstream {} endpoint {} is unhealthy: {} ({} consecutive failures)",
                   upstream_.name, address_, result.reason, state_.consecutive_failures());
      break;
    case HealthState::Change::BecameHealthy:
      health_.active_healthy.store(true, std::memory_order_relaxed);
      spdlog::info("upstream {} endpoint {} is healthy again ({} consecutive successes)",
                   upstream_.name, address_, state_.consecutive_successes());
      break;
    case HealthState::Change::None:
      break;
  }
  // Probes keep their rhythm from start to start; one that took long (at most the
  // timeout) never makes the next one start before it has ended.
  uint64_t period = uint64_t(
      jittered_interval(check_.interval, check_.jitter, unit_from_bits(rng_.next())).count());
  uint64_t elapsed = uv_now(loop_) - probe_started_ms_;
  uv_timer_start(timer_.get(), on_timer, period > elapsed ? period - elapsed : 0, 0);
}

}  // namespace portico::health
