// Load balancing: which endpoint of a pool gets the next request. Pure logic, no I/O.
//
// Two layers, so that the big tables are built once per pool and not once per worker:
//  - a BalancerPlan is the immutable part (Maglev table, hash ring, smooth round-robin
//    cycle, weighted-sampling table), built when a configuration is compiled and shared
//    by every worker;
//  - a Balancer is one worker's cursor over a plan (its round-robin position and random
//    generator). Each worker owns its own, so picking takes no lock.
// Endpoint state that changes (health, ejection, limits, requests in flight) is not
// the balancer's: it reads it through an EndpointView at each pick.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

namespace portico::upstream {

// What a balancer sees of a pool's endpoints at pick time, indexed like the endpoints the
// plan was built from.
class EndpointView {
 public:
  virtual size_t size() const = 0;
  // Healthy, not ejected and under its limits: may take this request. (Panic mode, where
  // a mostly-down pool uses every endpoint, belongs here too: the view decides.)
  virtual bool usable(size_t i) const = 0;
  // Requests in flight to endpoint i (least_request, p2c).
  virtual uint32_t load(size_t i) const = 0;

 protected:
  ~EndpointView() = default;
};

// True when at least one endpoint is usable. O(n).
bool any_usable(const EndpointView& view);

// An endpoint as the plan is built from it.
struct BalancerEndpoint {
  // Stable identity, such as "10.0.0.11:8080" as written in the config. Consistent-hash
  // balancers place the endpoint by hashing this text, so every worker and every Portico
  // process with the same endpoints maps a key to the same one, whatever their order.
  std::string_view key;
  uint32_t weight = 1;  // relative share; 0 counts as 1
};

class Balancer {
 public:
  virtual ~Balancer() = default;
  // The chosen endpoint's index, or -1 when no endpoint is usable. `hash` is the request's
  // key (request_hash in HashKey.h) for the consistent-hash balancers; the others ignore
  // it. A hash balancer given no key picks at random among usable endpoints, by weight.
  // Never allocates.
  virtual int pick(const EndpointView& view, std::optional<uint64_t> hash) = 0;
};

class BalancerPlan : public std::enable_shared_from_this<BalancerPlan> {
 public:
  virtual ~BalancerPlan() = default;
  // One worker's balancer over this plan; it keeps the plan alive. `seed` drives its
  // random choices and its round-robin starting point: give each worker a different one,
  // or all workers send their first requests to the same endpoint.
  virtual std::unique_ptr<Balancer> instantiate(uint64_t seed) const = 0;
};

// The balancer kinds, as written after `balance:` in the config.
std::span<const std::string_view> balancer_kinds();
bool is_balancer_kind(std::string_view kind);
// ring_hash and maglev: they want a request key (the upstream's hash_key).
bool balancer_uses_hash(std::string_view kind);

// nullptr when `kind` is not one of balancer_kinds().
//   round_robin           each usable endpoint in turn, weights ignored
//   weighted_round_robin  smooth weighted round robin (nginx's order: {5,1,1} gives
//                         a a b a c a a), exact shares over each cycle
//   least_request         fewest requests in flight relative to weight; ties by weight
//   p2c                   two distinct endpoints drawn by weight, the less loaded one
//   random                weighted random
//   ring_hash             consistent hashing on a ring of weighted virtual nodes
//   maglev                Maglev consistent hashing (lookup table of prime size)
std::shared_ptr<const BalancerPlan> make_balancer_plan(std::string_view kind,
                                                       std::span<const BalancerEndpoint> endpoints);

// make_balancer_plan(kind, endpoints)->instantiate(seed), or nullptr for an unknown kind.
std::unique_ptr<Balancer> make_balancer(std::string_view kind,
                                        std::span<const BalancerEndpoint> endpoints, uint64_t seed);

}  // namespace portico::upstream
