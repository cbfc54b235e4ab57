// The compiled, immutable form of one configuration: what workers serve from.
// Published as shared_ptr<const Runtime>; a connection pins the Runtime it started
// with, so a later reload never changes a request mid-flight.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/Config.h"
#include "core/ConnectionLimit.h"
#include "filters/FilterChain.h"
#include "filters/FilterStates.h"
#include "filters/cache/CacheZones.h"
#include "filters/canary/CanaryRoutes.h"
#include "flags/FlagSet.h"
#include "router/Router.h"
#include "tls/ServerTlsContext.h"
#include "tls/UpstreamTlsContext.h"
#include "upstream/Balancer.h"
#include "upstream/PoolState.h"

namespace portico::core {

struct CompiledRoute {
  const config::Route* route = nullptr;
  int upstream = -1;  // index into Runtime::config.upstreams, or -1 for `respond:`
  // `respond:` answers, serialised once: [keep-alive, close] x [GET, HEAD].
  std::string respond[2][2];
  std::vector<http::Header> respond_headers;  // for answers built per request (filters add)
  filters::FilterChain filters;               // the route's own, or the listener's default
};

struct CompiledListener {
  const config::Listener* config = nullptr;
  std::unique_ptr<router::Router> router;
  std::vector<CompiledRoute> routes;                 // parallel to config->routes
  std::shared_ptr<const tls::ServerTlsContext> tls;  // set when the listener terminates TLS
  // The connections open on the listener's address, for `limits.max_connections`: shared
  // by every worker, and by the next config when it keeps the address (under any name), so
  // connections accepted before a reload still count. Building a Runtime leaves a shared
  // count's limit alone; Runtime::take_over sets it once the reload commits.
  std::shared_ptr<ConnectionLimit> connections;
  const CompiledRoute* route_for(const config::Route* r) const {
    return &routes[size_t(r - config->routes.data())];
  }
};

class Runtime {
 public:
  // Throws std::invalid_argument when the config cannot be compiled. With `previous`
  // (a reload), pools of the same name keep the state of endpoints written the same way.
  static std::shared_ptr<const Runtime> build(config::Config config,
                                              const Runtime* previous = nullptr);

  struct Key {};  // only build() makes one; public so make_shared can reach the constructor
  explicit Runtime(Key, const Runtime* previous)
      : filter_states_(previous ? &previous->filter_states_ : nullptr) {}

  // A reload committed to this Runtime: the listeners' connection counts it shares with the
  // previous one take its limits (main thread, once).
  void take_over() const;

  const config::Config& config() const { return config_; }
  const std::vector<CompiledListener>& listeners() const { return listeners_; }
  // Shared, mutable (atomic) state of upstream i: health, ejections, limits, budgets.
  upstream::PoolState& pool_state(size_t i) const { return *pools_[i]; }
  const upstream::BalancerPlan& balancer_plan(size_t i) const { return *plans_[i]; }
  // The routes with a canary split, and their live state (the admin API changes it).
  const filters::CanaryRoutes& canary_routes() const { return canary_routes_; }
  // The cache zones the config's routes store in (the admin API purges them).
  const filters::CacheZones& cache_zones() const { return cache_zones_; }
  // The index of the upstream or listener with this name, or -1.
  int upstream_index(std::string_view name) const;
  const CompiledListener* listener(std::string_view name) const;
  // The listener bound to this address (whatever its name), or nullptr.
  const CompiledListener* listener_at(const config::SocketAddress& address) const;
  // The config's feature flags; their live values (FlagState) are shared and mutable.
  const flags::FlagSet& flags() const { return flags_; }
  // Upstream i's TLS settings, or nullptr when it speaks plain HTTP.
  const std::shared_ptr<const tls::UpstreamTlsContext>& upstream_tls(size_t i) const {
    return upstream_tls_[i];
  }
  // Every certificate, key and CA file the config's TLS settings read (for the watcher),
  // each once, sorted.
  std::vector<std::string> tls_files() const;
  // The names of the headers that carry a verified client certificate's subject: every
  // listener's, and the default one. Every upstream request drops a client's own copy of
  // each, whatever listener it came through (HeadWriter's UpstreamRequest::drop_more).
  const std::vector<std::string>& subject_headers() const { return subject_headers_; }

 private:
  config::Config config_;
  std::vector<CompiledListener> listeners_;
  std::vector<std::shared_ptr<upstream::PoolState>> pools_;
  std::vector<std::shared_ptr<const upstream::BalancerPlan>> plans_;
  std::vector<std::shared_ptr<const tls::UpstreamTlsContext>> upstream_tls_;
  std::vector<std::string> subject_headers_;
  // Filters' shared state by identity; refers to the previous config's only while building.
  filters::FilterStates filter_states_;
  filters::CanaryRoutes canary_routes_;
  filters::CacheZones cache_zones_;
  flags::FlagSet flags_;  // after filter_states_, which holds the flags' states too
};

}  // namespace portico::core
