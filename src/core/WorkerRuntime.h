// One worker's instance of a Runtime: the worker-side upstream pools (connection pools,
// balancer cursors, connection queues) built for that config. Client connections hold
// it by shared_ptr, so a Runtime and these pools live until the last request started on
// them has ended. A reload builds a new one that takes over the idle upstream
// connections of the one it replaces (endpoint by endpoint, where the endpoint's
// identity is unchanged); the old one is retired and serves only what it had started.
#pragma once

#include <uv.h>

#include <memory>
#include <span>
#include <vector>

#include "core/IntrusiveList.h"
#include "core/Runtime.h"
#include "stats/WorkerStats.h"
#include "upstream/WorkerUpstream.h"

namespace portico::core {

class Timers;

class WorkerRuntime : public ListHook<WorkerRuntime> {
 public:
  // `wake` is the worker's handle that PoolState sends when requests wait for
  // connections; `live` lists the worker's runtimes still in use (wake-ups go to all of
  // them); `seed` varies balancer cursors between workers.
  WorkerRuntime(std::shared_ptr<const Runtime> runtime, Timers& timers, uv_async_t* wake,
                IntrusiveList<WorkerRuntime>& live, stats::WorkerStats& stats, uint64_t seed,
                WorkerRuntime* previous);
  ~WorkerRuntime();
  WorkerRuntime(const WorkerRuntime&) = delete;
  WorkerRuntime& operator=(const WorkerRuntime&) = delete;

  const Runtime& runtime() const { return *runtime_; }
  upstream::WorkerUpstream& upstream(int i) { return *upstreams_[size_t(i)]; }
  // This worker's statistics for a listener of this runtime, and for one of its routes
  // (nullptr: requests no route took, 404 and those refused before routing).
  stats::ListenerStats& listener_stats(const CompiledListener& l) {
    return *listener_stats_[index_of(l)];
  }
  stats::RouteStats& route_stats(const CompiledListener& l, const CompiledRoute* r) {
    const auto& routes = route_stats_[index_of(l)];
    return r ? *routes[size_t(r - l.routes.data())] : *routes.back();
  }

  // This worker's decision counters for the runtime's flags, parallel to its FlagSet.
  std::span<stats::FlagStats* const> flag_stats() const { return flag_stats_; }

  // A newer config took over: connections released here go to its pools from now on.
  void retire();
  bool retired() const { return retired_; }
  // The pool in this runtime that continues `old` (same upstream name, same endpoint
  // record), or nullptr.
  upstream::EndpointPool* successor(const upstream::EndpointPool& old);
  // The worker was woken for its upstream queues (see PoolState::subscribe).
  void on_wake();

 private:
  size_t index_of(const CompiledListener& l) const {
    return size_t(&l - runtime_->listeners().data());
  }

  std::shared_ptr<const Runtime> runtime_;
  uv_async_t* wake_;
  IntrusiveList<WorkerRuntime>& live_;
  std::vector<std::unique_ptr<upstream::WorkerUpstream>> upstreams_;
  std::vector<stats::ListenerStats*> listener_stats_;         // per listener
  std::vector<std::vector<stats::RouteStats*>> route_stats_;  // per route, then unrouted
  std::vector<stats::FlagStats*> flag_stats_;                 // per flag
  bool retired_ = false;
};

}  // namespace portico::core
