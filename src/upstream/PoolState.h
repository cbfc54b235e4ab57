// The state of one upstream pool that every worker shares: each endpoint's health
// (active checks, outlier ejection), its open connections and requests in flight, and
// the pool's retry budget. Everything is an atomic read or update, so the request path
// takes no lock; the health checker (main thread) and workers write without coordinating
// beyond those atomics.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/Config.h"

namespace portico::filters {
struct CircuitBreakerState;
}

namespace portico::upstream {

// One cache line each, so workers updating different endpoints do not contend. Shared
// by every PoolState built for the same endpoint, so its record survives a reload.
struct alignas(64) EndpointHealth {
  std::atomic<bool> present{false};           // the slot holds an address (see NameSlots.h)
  std::atomic<uint32_t> generation{0};        // bumped when the slot's address changes
  std::atomic<bool> active_healthy{true};     // set by the active health checker
  std::atomic<uint64_t> ejected_until_ms{0};  // outlier ejection end (uv_now clock)
  std::atomic<uint32_t> ejections{0};         // times ejected: the next ejection lasts longer
  std::atomic<uint32_t> consecutive_5xx{0};
  std::atomic<uint32_t> consecutive_gateway{0};  // connect failures, resets, timeouts, 502-504
  std::atomic<uint32_t> connections{0};          // open upstream connections, all workers
  std::atomic<uint32_t> outstanding{0};          // requests in flight, all workers

  bool ejected(uint64_t now_ms) const {
    return ejected_until_ms.load(std::memory_order_relaxed) > now_ms;
  }
};

// The addresses of one configured endpoint's slots (one for an IP, kSlotsPerName for a
// name), shared like EndpointHealth so a reload keeps what DNS last said.
struct SlotAddresses {
  std::mutex mutex;
  std::vector<std::optional<config::SocketAddress>> slots;  // guarded by mutex
};

// What one pool shares across configs (a reload keeps it while the pool's name stays):
// requests active and waiting, retries, totals, and the workers to wake. Shared, a
// connection freed under one config wakes requests waiting under the other, and the
// retry budget and max_pending stay one count.
struct PoolShared {
  alignas(64) std::atomic<uint32_t> requests_active{0};
  std::atomic<uint32_t> retries_active{0};
  // Open connections, every endpoint (a breaker's max_connections): changed per connection,
  // not per request, so kept off the per-request line.
  alignas(64) std::atomic<uint32_t> connections{0};
  // Read on every connection release: kept off the line the per-request counters share.
  alignas(64) std::atomic<uint32_t> pending{0};
  alignas(64) std::atomic<uint64_t> ejections_total{0};
  std::atomic<uint64_t> overflows_total{0};  // requests failed fast by a limit
  std::mutex wake_mutex;
  std::vector<uv_async_t*> wakes;  // one entry per subscription; guarded by wake_mutex
};

// What an attempt on an endpoint came to, for outlier detection.
enum class Outcome { Success, Status5xx, GatewayFailure };

class PoolState {
 public:
  // With `previous` (the same pool in the config being replaced), endpoints written the
  // same way keep their health, ejections, connection counts and resolved addresses.
  // Nothing shared changes until take_over(): a reload that fails later leaves the running
  // pool as it was.
  explicit PoolState(const config::Upstream& upstream, const PoolState* previous = nullptr);
  // Main thread, once a reload is committed: applies what the new config says to the
  // records it shares (fresh DNS answers; no active checks any more: healthy).
  void take_over();
  PoolState(const PoolState&) = delete;
  PoolState& operator=(const PoolState&) = delete;

  // The pool's slots: one per IP endpoint, kSlotsPerName per named one. Balancers,
  // health and connection pools work on slots; a slot is present while it has an address.
  size_t size() const { return endpoints_.size(); }
  EndpointHealth& endpoint(size_t i) { return *endpoints_[i]; }
  const EndpointHealth& endpoint(size_t i) const { return *endpoints_[i]; }
  // The configured endpoint a slot belongs to, and a configured endpoint's slots.
  size_t endpoint_of(size_t slot) const { return slot_endpoint_[slot]; }
  size_t first_slot(size_t endpoint) const { return first_slot_[endpoint]; }
  size_t slot_count(size_t endpoint) const;
  // A slot's name in metrics and on the admin API, unique in the pool: the endpoint as
  // written, "/2", "/3"... for its repeats in the list, and "#k" for a name's slots.
  const std::string& label(size_t slot) const { return labels_[slot]; }

  // A slot's address, for connecting (lock-protected: read once per new connection).
  // False when the slot is empty.
  bool address(size_t slot, sockaddr_storage& out, socklen_t& length, uint32_t& generation);
  // The slot's address text ("10.0.0.1:80"), or "" when empty.
  std::string address_text(size_t slot);
  // Main thread: a named endpoint now resolves to `resolved`. Slots whose address stays
  // keep it; vacated ones empty; filled or refilled ones start healthy with a new
  // generation (stale idle connections then close). Returns how many addresses found no
  // slot.
  size_t set_addresses(size_t endpoint, std::span<const config::SocketAddress> resolved);
  // Rises with every change set_addresses makes (workers then sweep stale connections).
  uint64_t address_epoch() const { return address_epoch_.load(std::memory_order_acquire); }

  // Whether slot i can take a request: the one rule every picker applies. Down: no
  // address, or unhealthy or ejected while the pool is not in panic. Full: at
  // max_connections (a worker with an idle connection to it may still use that one).
  enum class Availability { Usable, Full, Down };
  Availability availability(size_t i, uint64_t now_ms, bool panic) const;
  // The same, computing panic mode here (for callers outside a pick).
  bool usable(size_t i, uint64_t now_ms) const {
    return availability(i, now_ms, panicking(now_ms)) == Availability::Usable;
  }
  // Panic mode (Envoy's): fewer than panic_threshold percent of endpoints healthy, so
  // traffic spreads over all of them rather than overloading the few left.
  bool panicking(uint64_t now_ms) const;

  // Counts an outcome; returns true when it ejected the endpoint just now.
  bool record(size_t i, Outcome outcome, uint64_t now_ms);

  // Reserves a connection slot on endpoint i (false: the endpoint is at max_connections).
  bool reserve_connection(size_t i);
  void release_connection(size_t i);

  // Retry budget: a retry may start while retries in flight stay within budget_percent of
  // the active requests (or under min_retry_concurrency).
  bool try_start_retry();
  // A retry after the endpoint refused the connection: it cost the endpoint nothing, so it
  // neither needs nor takes a place in the budget; only a breaker's max_retries: 0 stops it.
  bool refused_retry_allowed() const { return breaker_limits_.max_retries != 0; }
  void end_retry() { shared_->retries_active.fetch_sub(1, std::memory_order_relaxed); }
  void request_started() { shared_->requests_active.fetch_add(1, std::memory_order_relaxed); }
  void request_ended() { shared_->requests_active.fetch_sub(1, std::memory_order_relaxed); }

  // Pending requests (waiting for a connection) against max_pending.
  bool try_add_pending();
  void remove_pending() { shared_->pending.fetch_sub(1, std::memory_order_seq_cst); }
  uint32_t pending() const { return shared_->pending.load(std::memory_order_seq_cst); }

  // Workers subscribe a uv_async_t that is sent whenever a request starts waiting or a
  // connection slot frees while requests wait: the worker then serves its own waiters
  // and gives up idle connections that waiters elsewhere need. Unsubscribe before the
  // handle closes.
  void subscribe(uv_async_t* wake);
  void unsubscribe(uv_async_t* wake);
  void wake_workers();

  // A circuit breaker's pool-wide limits (0: none): connections open at once (beyond, a
  // request waits for one, within max_pending) and retries in flight (beyond, a failure is
  // not retried). A pool has one breaker: false when another one's settings (`identity`)
  // already apply in this config.
  struct BreakerLimits {
    uint32_t max_connections = 0;          // 0: no limit
    uint32_t max_retries = kNoRetryLimit;  // 0: no retries at all
  };
  static constexpr uint32_t kNoRetryLimit = UINT32_MAX;
  bool set_breaker(const std::string& identity, BreakerLimits limits,
                   std::shared_ptr<filters::CircuitBreakerState> state);
  // Whether requests can wait for a connection: a limit per endpoint or for the pool.
  bool limits_connections() const {
    return config_.max_connections || breaker_limits_.max_connections;
  }
  // The pool's circuit breaker in this config, or nullptr (admin API, metrics).
  const filters::CircuitBreakerState* breaker() const { return breaker_.get(); }
  uint32_t requests_active() const {
    return shared_->requests_active.load(std::memory_order_relaxed);
  }

  // Counters for the admin API and tests.
  std::atomic<uint64_t>& ejections_total() { return shared_->ejections_total; }
  std::atomic<uint64_t>& overflows_total() { return shared_->overflows_total; }

 private:
  const config::Upstream& config_;
  std::vector<std::shared_ptr<EndpointHealth>> endpoints_;  // per slot; atomics cannot move
  std::vector<size_t> slot_endpoint_;
  std::vector<size_t> first_slot_;
  std::vector<std::string> ids_;     // per configured endpoint (see the constructor)
  std::vector<std::string> labels_;  // per slot
  std::vector<std::shared_ptr<SlotAddresses>> addresses_;  // per configured endpoint
  std::atomic<uint64_t> address_epoch_{0};
  std::shared_ptr<PoolShared> shared_;
  std::mutex ejection_mutex_;
  std::string breaker_identity_;
  BreakerLimits breaker_limits_;
  std::shared_ptr<filters::CircuitBreakerState> breaker_;
};

}  // namespace portico::upstream
