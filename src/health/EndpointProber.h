// Active health checking of one endpoint (slot) of one upstream pool, on the main thread's loop:
// a probe every interval (± jitter), a verdict from consecutive results (HealthState),
// published to the workers through EndpointHealth::active_healthy and logged when it
// changes.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "config/Config.h"
#include "health/HealthState.h"
#include "health/Probe.h"
#include "tls/UpstreamTlsContext.h"
#include "upstream/PoolState.h"
#include "upstream/balancers/Rng.h"

namespace portico::health {

class EndpointProber final : public ProbeObserver {
 public:
  // `upstream` and `health` must outlive the prober (they belong to the Runtime the
  // checker holds). `seed` varies the jitter from one prober to the next.
  // `tls`: the pool's TLS settings (probes speak TLS too), or nullptr; `buffers` the
  // checker's, for TLS probes.
  EndpointProber(uv_loop_t* loop, const config::Upstream& upstream, upstream::PoolState& pool,
                 size_t slot, uint64_t seed, const tls::UpstreamTlsContext* tls,
                 std::shared_ptr<core::BufferPool> buffers);
  ~EndpointProber();
  EndpointProber(const EndpointProber&) = delete;
  EndpointProber& operator=(const EndpointProber&) = delete;

  // The first probe runs on the loop's next turn.
  void start();
  // Cancels the probe in flight and closes the timer; the loop can then end.
  void stop();

 private:
  static void on_timer(uv_timer_t* timer);
  void begin_probe();
  void on_probe_done(ProbeResult result) override;
  void on_probe_timeout();
  void count(ProbeResult result);

  uv_loop_t* loop_;
  const config::Upstream& upstream_;
  const config::Endpoint& endpoint_;
  const config::HealthCheck& check_;
  upstream::PoolState& pool_;
  size_t slot_;
  upstream::EndpointHealth& health_;
  uint32_t generation_ = 0;  // of the address the verdict is about
  std::string address_;      // its text, for the log
  std::string request_;      // http checks: built once, copied into each probe
  HealthState state_;
  upstream::balancers::Rng rng_;
  const tls::UpstreamTlsContext* tls_;
  std::shared_ptr<core::BufferPool> buffers_;
  // One timer for both waits: until the next probe while idle, the probe's timeout while
  // a probe is out. libuv frees nothing, so it is handed over to its close callback.
  std::unique_ptr<uv_timer_t> timer_;
  Probe* probe_ = nullptr;  // owned by its connection; non-null while a probe is out
  uint64_t probe_started_ms_ = 0;
};

}  // namespace portico::health
