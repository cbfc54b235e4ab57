#include "core/Runtime.h"

#include <algorithm>
#include <stdexcept>

#include "filters/FilterConfig.h"
#include "http/HeadWriter.h"
#include "upstream/NameSlots.h"

namespace portico::core {

int Runtime::upstream_index(std::string_view name) const {
  for (size_t i = 0; i < config_.upstreams.size(); ++i)
    if (config_.upstreams[i].name == name) return int(i);
  return -1;
}

std::vector<std::string> Runtime::tls_files() const {
  std::vector<std::string> files;
  for (const CompiledListener& l : listeners_)
    if (l.tls) files.insert(files.end(), l.tls->files().begin(), l.tls->files().end());
  for (const auto& u : upstream_tls_)
    if (u) files.insert(files.end(), u->files().begin(), u->files().end());
  // A CA shared by listeners and upstreams is one file: one watcher, one reload per change.
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

const CompiledListener* Runtime::listener(std::string_view name) const {
  for (const CompiledListener& l : listeners_)
    if (l.config->name == name) return &l;
  return nullptr;
}

const CompiledListener* Runtime::listener_at(const config::SocketAddress& address) const {
  for (const CompiledListener& l : listeners_)
    if (upstream::same_address(l.config->address, address)) return &l;
  return nullptr;
}

void Runtime::take_over() const {
  for (const CompiledListener& l : listeners_)
    l.connections->set_max(l.config->limits.max_connections);
}

std::shared_ptr<const Runtime> Runtime::build(config::Config config, const Runtime* previous) {
  auto rt = std::make_shared<Runtime>(Key{}, previous);
  rt->config_ = std::move(config);
  // Flag states come from the previous config's store like filters' (same file values:
  // the same state, runtime overrides included).
  rt->flags_ =
      flags::FlagSet(rt->config_.flags, rt->filter_states_, previous ? &previous->flags_ : nullptr);
  for (const config::Upstream& u : rt->config_.upstreams) {
    int old = previous ? previous->upstream_index(u.name) : -1;
    auto state = std::make_shared<upstream::PoolState>(
        u, old >= 0 ? &previous->pool_state(size_t(old)) : nullptr);
    // The balancer works on slots; a named endpoint's slots hash as "name:port#k".
    // The endpoints' keys are views: `ids` keeps their text alive while the plan is made
    // (a view of a temporary string hashed freed memory, so ring_hash and maglev placed
    // endpoints differently in every process).
    std::vector<std::string> ids;
    std::vector<upstream::BalancerEndpoint> eps;
    ids.reserve(state->size());
    eps.reserve(state->size());
    for (size_t slot = 0; slot < state->size(); ++slot) {
      const config::Endpoint& e = u.endpoints[state->endpoint_of(slot)];
      std::string id = e.address.text;
      if (e.named) id += "#" + std::to_string(slot - state->first_slot(state->endpoint_of(slot)));
      ids.push_back(std::move(id));
      eps.push_back({ids.back(), e.weight});
    }
    rt->pools_.push_back(std::move(state));
    auto plan = upstream::make_balancer_plan(u.balance, eps);
    if (!plan)
      throw std::invalid_argument("upstream '" + u.name + "': unknown balance '" + u.balance + "'");
    rt->plans_.push_back(std::move(plan));
    rt->upstream_tls_.push_back(
        u.tls.enabled ? tls::UpstreamTlsContext::build(u, rt->config_.source) : nullptr);
  }
  for (const config::Listener& l : rt->config_.listeners) {
    CompiledListener cl;
    cl.config = &l;
    cl.router = std::make_unique<router::Router>(l.routes);
    // Kept by address, as the listening sockets are (Worker::switch_to).
    const CompiledListener* at = previous ? previous->listener_at(l.address) : nullptr;
    cl.connections =
        at ? at->connections : std::make_shared<ConnectionLimit>(l.limits.max_connections);
    if (l.tls.enabled) {
      // Session tickets stay valid across a reload that keeps the listener and rotation.
      std::shared_ptr<tls::TicketKeyRing> ring;
      const CompiledListener* before = previous ? previous->listener(l.name) : nullptr;
      if (before && before->tls && before->tls->tickets() &&
          before->tls->tickets()->rotation() == l.tls.ticket_key_rotation)
        ring = before->tls->tickets();
      cl.tls = tls::ServerTlsContext::build(l, rt->config_.source, std::move(ring));
    }
    for (const config::Route& r : l.routes) {
      CompiledRoute cr;
      cr.route = &r;
      if (r.respond) {
        std::vector<http::Header> hs;
        for (const auto& [k, v] : r.respond->headers) hs.push_back({k, v});
        cr.respond_headers = hs;
        for (int close = 0; close < 2; ++close)
          for (int head = 0; head < 2; ++head)
            http::write_local_response(cr.respond[close][head], r.respond->status, hs,
                                       r.respond->body, close, head);
      } else {
        const auto& ups = rt->config_.upstreams;
        for (size_t i = 0; i < ups.size(); ++i)
          if (ups[i].name == r.upstream) cr.upstream = int(i);
        if (cr.upstream < 0)
          throw std::invalid_argument("route '" + r.name + "': unknown upstream '" + r.upstream +
                                      "'");
      }
      const auto& specs = r.filters ? *r.filters : l.filters;
      std::vector<std::shared_ptr<const filters::Filter>> chain;
      for (const config::FilterSpec& spec : specs) {
        filters::FilterSite site{
            .identity = spec.identity,
            .listener = l.name,
            .route = r.name,
            .listener_default = !r.filters,
            .upstream = r.upstream,
            .pool = cr.upstream >= 0 ? rt->pools_[size_t(cr.upstream)].get() : nullptr,
            .states = &rt->filter_states_,
            .upstream_index = [&rt](std::string_view name) { return rt->upstream_index(name); },
            .canary_routes = &rt->canary_routes_,
            .cache_zones = &rt->cache_zones_};
        try {
          chain.push_back(spec.config->build(site));
        } catch (const std::invalid_argument& e) {
          throw std::invalid_argument("route '" + r.name + "': filter '" + spec.name +
                                      "': " + e.what());
        }
      }
      cr.filters = filters::FilterChain(std::move(chain));
      cl.routes.push_back(std::move(cr));
    }
    rt->listeners_.push_back(std::move(cl));
  }
  rt->filter_states_.forget_previous();
  rt->subject_headers_.emplace_back(config::ClientCertificates{}.subject_header);
  for (const config::Listener& l : rt->config_.listeners) {
    const std::string& name = l.tls.client_certificates.subject_header;
    if (name.empty()) continue;
    bool known = std::any_of(rt->subject_headers_.begin(), rt->subject_headers_.end(),
                             [&](const std::string& h) { return http::iequals(h, name); });
    if (!known) rt->subject_headers_.push_back(name);
  }
  return rt;
}

}  // namespace portico::core
