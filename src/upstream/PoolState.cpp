#include "upstream/PoolState.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "upstream/NameSlots.h"

namespace portico::upstream {

PoolState::PoolState(const config::Upstream& upstream, const PoolState* previous)
    : config_(upstream), shared_(previous ? previous->shared_ : std::make_shared<PoolShared>()) {
  // An endpoint's identity is how it is written, "/N" added for its N-th repeat in the
  // list: what a reload matches on, and (with "#k" for a name's slots) its label.
  std::unordered_map<std::string_view, size_t> seen;
  for (const config::Endpoint& ep : upstream.endpoints) {
    size_t n = ++seen[ep.address.text];
    ids_.push_back(n == 1 ? ep.address.text : ep.address.text + "/" + std::to_string(n));
  }
  std::unordered_map<std::string_view, size_t> before;  // the previous config's, by id
  if (previous)
    for (size_t e = 0; e < previous->ids_.size(); ++e) before.emplace(previous->ids_[e], e);

  for (size_t e = 0; e < upstream.endpoints.size(); ++e) {
    const config::Endpoint& ep = upstream.endpoints[e];
    first_slot_.push_back(endpoints_.size());
    size_t slots = ep.named ? kSlotsPerName : 1;
    for (size_t k = 0; k < slots; ++k) {
      slot_endpoint_.push_back(e);
      labels_.push_back(ep.named ? ids_[e] + "#" + std::to_string(k) : ids_[e]);
    }
    if (auto old = before.find(ids_[e]); old != before.end()) {
      addresses_.push_back(previous->addresses_[old->second]);
      for (size_t k = 0; k < slots; ++k)
        endpoints_.push_back(previous->endpoints_[previous->first_slot_[old->second] + k]);
      continue;
    }
    addresses_.push_back(std::make_shared<SlotAddresses>());
    addresses_.back()->slots.resize(slots);
    for (size_t k = 0; k < slots; ++k) endpoints_.push_back(std::make_shared<EndpointHealth>());
    if (ep.named) {
      set_addresses(e, ep.resolved);
    } else {
      addresses_.back()->slots[0] = ep.address;
      endpoints_.back()->present.store(true, std::memory_order_relaxed);
    }
  }
}

void PoolState::take_over() {
  for (size_t e = 0; e < config_.endpoints.size(); ++e) {
    const config::Endpoint& ep = config_.endpoints[e];
    // The loader has just resolved the name: its answer is the freshest there is.
    if (ep.named && !ep.resolved.empty()) set_addresses(e, ep.resolved);
    // Without active checks nothing would ever clear an inherited "unhealthy".
    if (!config_.health_check.enabled)
      for (size_t k = 0; k < slot_count(e); ++k)
        endpoints_[first_slot_[e] + k]->active_healthy.store(true, std::memory_order_relaxed);
  }
}

size_t PoolState::slot_count(size_t endpoint) const {
  size_t end = endpoint + 1 < first_slot_.size() ? first_slot_[endpoint + 1] : endpoints_.size();
  return end - first_slot_[endpoint];
}

bool PoolState::address(size_t slot, sockaddr_storage& out, socklen_t& length,
                        uint32_t& generation) {
  size_t e = slot_endpoint_[slot];
  SlotAddresses& block = *addresses_[e];
  std::lock_guard lock(block.mutex);
  const auto& a = block.slots[slot - first_slot_[e]];
  if (!a) return false;
  out = a->storage;
  length = a->length;
  generation = endpoints_[slot]->generation.load(std::memory_order_relaxed);
  return true;
}

std::string PoolState::address_text(size_t slot) {
  size_t e = slot_endpoint_[slot];
  SlotAddresses& block = *addresses_[e];
  std::lock_guard lock(block.mutex);
  const auto& a = block.slots[slot - first_slot_[e]];
  return a ? a->text : std::string();
}

size_t PoolState::set_addresses(size_t endpoint, std::span<const config::SocketAddress> resolved) {
  size_t first = first_slot_[endpoint], n = slot_count(endpoint);
  SlotAddresses& block = *addresses_[endpoint];
  std::lock_guard lock(block.mutex);
  SlotAssignment next = assign_slots(std::span(block.slots), resolved);
  for (size_t k = 0; k < n; ++k) {
    auto& now = block.slots[k];
    const auto& want = next.slots[k];
    bool same = now.has_value() == want.has_value() && (!now || same_address(*now, *want));
    if (same) continue;
    EndpointHealth& h = *endpoints_[first + k];
    // A new address is a new server: it starts with a clean record.
    h.generation.fetch_add(1, std::memory_order_relaxed);
    h.active_healthy.store(true, std::memory_order_relaxed);
    h.ejected_until_ms.store(0, std::memory_order_relaxed);
    h.ejections.store(0, std::memory_order_relaxed);
    h.consecutive_5xx.store(0, std::memory_order_relaxed);
    h.consecutive_gateway.store(0, std::memory_order_relaxed);
    h.present.store(want.has_value(), std::memory_order_release);
    now = want;
    address_epoch_.fetch_add(1, std::memory_order_release);
  }
  return next.dropped;
}

bool PoolState::panicking(uint64_t now_ms) const {
  if (config_.panic_threshold == 0) return false;
  size_t healthy = 0, present = 0;
  for (const auto& e : endpoints_) {
    if (!e->present.load(std::memory_order_relaxed)) continue;
    ++present;
    if (e->active_healthy.load(std::memory_order_relaxed) && !e->ejected(now_ms)) ++healthy;
  }
  return present > 0 && healthy * 100 < size_t(config_.panic_threshold) * present;
}

PoolState::Availability PoolState::availability(size_t i, uint64_t now_ms, bool panic) const {
  const EndpointHealth& e = *endpoints_[i];
  if (!e.present.load(std::memory_order_acquire)) return Availability::Down;  // no address
  bool healthy = e.active_healthy.load(std::memory_order_relaxed) && !e.ejected(now_ms);
  if (!healthy && !panic) return Availability::Down;
  if (config_.max_connections &&
      e.connections.load(std::memory_order_relaxed) >= config_.max_connections)
    return Availability::Full;
  return Availability::Usable;
}

bool PoolState::record(size_t i, Outcome outcome, uint64_t now_ms) {
  EndpointHealth& e = *endpoints_[i];
  if (outcome == Outcome::Success) {
    // Read before writing: every request succeeds here, and a store would bounce the
    // cache line between workers even when the counters are already zero.
    if (e.consecutive_5xx.load(std::memory_order_relaxed))
      e.consecutive_5xx.store(0, std::memory_order_relaxed);
    if (e.consecutive_gateway.load(std::memory_order_relaxed))
      e.consecutive_gateway.store(0, std::memory_order_relaxed);
    return false;
  }
  const config::Outlier& o = config_.outlier;
  if (!o.enabled) return false;
  uint32_t n5 = e.consecutive_5xx.fetch_add(1, std::memory_order_relaxed) + 1;
  uint32_t ng = outcome == Outcome::GatewayFailure
                    ? e.consecutive_gateway.fetch_add(1, std::memory_order_relaxed) + 1
                    : 0;
  bool trip = (o.consecutive_5xx && n5 >= o.consecutive_5xx) ||
              (o.consecutive_gateway_failures && ng >= o.consecutive_gateway_failures);
  if (!trip || e.ejected(now_ms)) return false;

  // Never eject more than max_ejection_percent of the pool (at least one endpoint). The
  // count and the ejection happen under a lock so two workers tripping at once cannot
  // both pass the check; this runs only when an endpoint trips, never per request.
  std::lock_guard lock(ejection_mutex_);
  if (e.ejected(now_ms)) return false;
  size_t ejected = 0, present = 0;
  for (const auto& other : endpoints_) {
    if (!other->present.load(std::memory_order_relaxed)) continue;
    ++present;
    ejected += other->ejected(now_ms);
  }
  size_t allowed = std::max<size_t>(1, present * o.max_ejection_percent / 100);
  if (o.max_ejection_percent == 0 || ejected >= allowed) return false;

  // The ejection grows with each repeat: base × times ejected, up to the maximum.
  uint32_t times = e.ejections.fetch_add(1, std::memory_order_relaxed) + 1;
  uint64_t span = std::min<uint64_t>(uint64_t(o.base_ejection_time.count()) * times,
                                     uint64_t(o.max_ejection_time.count()));
  e.ejected_until_ms.store(now_ms + span, std::memory_order_relaxed);
  e.consecutive_5xx.store(0, std::memory_order_relaxed);
  e.consecutive_gateway.store(0, std::memory_order_relaxed);
  shared_->ejections_total.fetch_add(1, std::memory_order_relaxed);
  return true;
}

namespace {

// Takes one of `limit` (0: unlimited) places counted by `count`, exactly across workers.
bool take_place(std::atomic<uint32_t>& count, uint32_t limit) {
  if (limit == 0) {
    count.fetch_add(1, std::memory_order_seq_cst);
    return true;
  }
  uint32_t n = count.load(std::memory_order_seq_cst);
  while (n < limit) {
    if (count.compare_exchange_weak(n, n + 1, std::memory_order_seq_cst)) return true;
  }
  return false;
}

}  // namespace

bool PoolState::reserve_connection(size_t i) {
  if (!take_place(shared_->connections, breaker_limits_.max_connections)) return false;
  if (take_place(endpoints_[i]->connections, config_.max_connections)) return true;
  shared_->connections.fetch_sub(1, std::memory_order_seq_cst);
  return false;
}

bool PoolState::set_breaker(const std::string& identity, BreakerLimits limits,
                            std::shared_ptr<filters::CircuitBreakerState> state) {
  if (breaker_) return breaker_identity_ == identity;
  breaker_identity_ = identity;
  breaker_limits_ = limits;
  breaker_ = std::move(state);
  return true;
}

void PoolState::release_connection(size_t i) {
  // Sequentially consistent with try_add_pending: either a waiter's own retry sees this
  // slot free, or this sees the waiter and wakes it; a wake-up is never lost.
  endpoints_[i]->connections.fetch_sub(1, std::memory_order_seq_cst);
  shared_->connections.fetch_sub(1, std::memory_order_seq_cst);
  if (shared_->pending.load(std::memory_order_seq_cst) > 0) wake_workers();
}

void PoolState::subscribe(uv_async_t* wake) {
  std::lock_guard lock(shared_->wake_mutex);
  shared_->wakes.push_back(wake);
}

void PoolState::unsubscribe(uv_async_t* wake) {
  // One entry: the same worker may be subscribed by an old and a new config at once.
  std::lock_guard lock(shared_->wake_mutex);
  auto& w = shared_->wakes;
  if (auto it = std::find(w.begin(), w.end(), wake); it != w.end()) w.erase(it);
}

void PoolState::wake_workers() {
  // Only while requests wait, that is under overload: the lock is off the normal path.
  std::lock_guard lock(shared_->wake_mutex);
  for (uv_async_t* w : shared_->wakes) uv_async_send(w);
}

bool PoolState::try_start_retry() {
  uint32_t active = shared_->requests_active.load(std::memory_order_relaxed);
  uint32_t allowed = std::max<uint32_t>(config_.retries.min_retry_concurrency,
                                        active * config_.retries.budget_percent / 100);
  allowed = std::min(allowed, breaker_limits_.max_retries);
  uint32_t n = shared_->retries_active.load(std::memory_order_relaxed);
  while (n < allowed) {
    if (shared_->retries_active.compare_exchange_weak(n, n + 1, std::memory_order_relaxed))
      return true;
  }
  return false;
}

bool PoolState::try_add_pending() {
  uint32_t n = shared_->pending.load(std::memory_order_seq_cst);
  while (n < config_.max_pending) {
    if (shared_->pending.compare_exchange_weak(n, n + 1, std::memory_order_seq_cst)) return true;
  }
  return false;
}

}  // namespace portico::upstream
