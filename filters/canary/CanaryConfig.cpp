#include "filters/canary/CanaryConfig.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

#include "filters/canary/CanaryFilter.h"
#include "filters/canary/CanaryRoutes.h"
#include "filters/circuit_breaker/CircuitBreakerConfig.h"
#include "upstream/HashKey.h"

namespace portico::filters {

namespace {

using config::Entry;
using config::Item;

constexpr double kMaxWeight = 1'000'000;

// A number from `min` to `max` ("5", "0.5"); nullopt after reporting an error.
std::optional<double> read_number(config::YamlReader& r, const Item& item, double min, double max,
                                  std::string_view what) {
  if (!item.node.IsScalar()) {
    r.type_error(item, what);
    return std::nullopt;
  }
  const std::string& text = item.node.Scalar();
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(v) ||
      v < min || v > max) {
    r.error(item.pos, item.path, "must be " + std::string(what) + ", got " + config::quoted(text));
    return std::nullopt;
  }
  return v;
}

class CanaryConfig final : public FilterConfig {
 public:
  explicit CanaryConfig(CanarySettings s)
      : settings_(std::make_shared<const CanarySettings>(std::move(s))) {}

  std::shared_ptr<const Filter> build(const FilterSite& site) const override {
    const CanarySettings& s = *settings_;
    if (site.upstream.empty())
      throw std::invalid_argument("a canary splits the route's upstream, and this route has none");
    auto stable = std::find_if(s.split.begin(), s.split.end(),
                               [&](const SplitWeight& w) { return w.upstream == site.upstream; });
    if (stable == s.split.end())
      throw std::invalid_argument("the split must include the route's upstream '" +
                                  std::string(site.upstream) +
                                  "' (the stable pool, which takes what the canaries do not)");
    std::vector<CanaryFilter::Target> targets{{stable->upstream, -1}};
    std::vector<double> weights{stable->weight};
    for (const SplitWeight& w : s.split) {
      if (&w == &*stable) continue;
      targets.push_back({w.upstream, -1});
      weights.push_back(w.weight);
    }
    for (CanaryFilter::Target& t : targets) {
      t.upstream = site.upstream_index(t.name);
      if (t.upstream < 0) throw std::invalid_argument("unknown upstream '" + t.name + "'");
    }
    // The live split is kept while the route's split and rollback stay as written: a
    // runtime override or a rollback survives other edits of the file, and a new split
    // in the file replaces both.
    SplitShares shares = shares_from_weights(weights);
    std::string identity =
        fmt::format("canary {}/{} {}", site.listener, site.route, targets[0].name);
    for (size_t t = 1; t < targets.size(); ++t)
      identity += fmt::format(" {}={}", targets[t].name, shares.share(t - 1));
    identity += " rollback " + s.rollback_text;
    auto state = site.states->get<CanaryState>(identity, [&] {
      return std::make_unique<CanaryState>(shares, targets.size() - 1, s.rollback);
    });
    if (site.canary_routes) {
      CanaryRoute route{std::string(site.listener), std::string(site.route), {}, state};
      for (const auto& t : targets) route.targets.push_back(t.name);
      site.canary_routes->push_back(std::move(route));
    }
    return std::make_shared<CanaryFilter>(settings_, std::move(targets), std::move(state),
                                          std::string(site.listener), std::string(site.route));
  }

 private:
  std::shared_ptr<const CanarySettings> settings_;
};

void parse_rollback(config::YamlReader& r, const Item& item, CanarySettings& s) {
  auto fields = r.read_fields(item, {"margin", "min_requests", "window", "failure_on"});
  if (!fields) return;
  RollbackPolicy policy;
  if (const Entry* e = fields->find("margin")) {
    if (auto v = read_number(r, e->value, 0, 1, "a ratio from 0 to 1, such as 0.1")) {
      if (*v >= 1)
        r.error(e->value.pos, e->value.path,
                "must be below 1 (a canary cannot fail more than 100% above stable)");
      policy.margin = *v;
    }
  }
  if (const Entry* e = fields->find("min_requests")) {
    if (auto n = r.read_u32(e->value, 1, 10'000'000)) policy.min_requests = *n;
  }
  if (const Entry* e = fields->find("window")) {
    if (auto d = r.read_duration(e->value, false)) {
      if (d->count() < 100)
        r.error(e->value.pos, e->value.path, "must be at least 100ms");
      else
        policy.window = *d;
    }
  }
  if (const Entry* e = fields->find("failure_on")) read_failure_on(r, e->value, policy.failures);
  const FailureKinds& f = policy.failures;
  s.rollback_text = fmt::format(
      "margin={} min_requests={} window={}ms statuses={:x} connect_failure={} timeout={} "
      "reset={}",
      policy.margin, policy.min_requests, policy.window.count(),
      upstream::hash_bytes(f.statuses.to_string()), f.connect_failure, f.timeout, f.reset);
  s.rollback = policy;
}

}  // namespace

std::optional<std::vector<SplitWeight>> read_split(config::YamlReader& r, const Item& item,
                                                   size_t min_pools) {
  size_t errors_before = r.error_count();
  auto entries = r.read_map(item);
  if (!entries) return std::nullopt;
  std::vector<SplitWeight> split;
  double sum = 0;
  for (const Entry& e : *entries) {
    auto weight = read_number(r, e.value, 0, kMaxWeight, "a weight from 0 to 1000000, such as 5");
    if (!weight) continue;
    r.refer_to_upstream(e.key, e.key_pos, e.value.path);
    split.push_back({e.key, *weight});
    sum += *weight;
  }
  if (r.error_count() != errors_before) return std::nullopt;
  if (split.size() < min_pools || split.size() > 1 + kMaxCanaries) {
    r.error(item.pos, item.path,
            fmt::format("a split names from {} to {} upstreams (the route's own and its "
                        "canaries), got {}",
                        min_pools, 1 + kMaxCanaries, split.size()));
    return std::nullopt;
  }
  if (sum <= 0) {
    r.error(item.pos, item.path, "a split needs a weight above 0");
    return std::nullopt;
  }
  std::sort(split.begin(), split.end(),
            [](const SplitWeight& a, const SplitWeight& b) { return a.upstream < b.upstream; });
  return split;
}

std::shared_ptr<const FilterConfig> parse_canary(config::YamlReader& r, const Item& item) {
  size_t errors_before = r.error_count();
  auto fields = r.read_fields(
      item, {"split", "sticky", "force_header", "force_cookie", "force_from", "rollback"});
  if (!fields) return nullptr;
  CanarySettings s;
  if (const Entry* e = r.require(*fields, "split")) {
    if (auto split = read_split(r, e->value, 2)) s.split = std::move(*split);
  }
  if (const Entry* e = fields->find("sticky")) s.sticky = r.read_request_key(e->value, "sticky");
  if (const Entry* e = fields->find("force_header")) {
    if (auto name = r.read_nonempty_string(e->value)) {
      if (!config::is_token(*name))
        r.error(e->value.pos, e->value.path, "invalid header name " + config::quoted(*name));
      s.force_header = config::to_lower(*name);
    }
  }
  if (const Entry* e = fields->find("force_cookie")) {
    if (auto name = r.read_nonempty_string(e->value)) {
      if (!config::is_token(*name))
        r.error(e->value.pos, e->value.path, "invalid cookie name " + config::quoted(*name));
      s.force_cookie = *name;
    }
  }
  if (const Entry* e = fields->find("force_from")) {
    if (s.force_header.empty() && s.force_cookie.empty())
      r.error(e->key_pos, e->value.path,
              "'force_from' limits who may force a pool: add 'force_header' or 'force_cookie'");
    if (auto list = r.read_one_or_list(e->value)) {
      for (const Item& i : *list) {
        std::string error;
        if (auto text = r.read_string(i); text && !s.force_from.add(*text, error))
          r.error(i.pos, i.path, error);
      }
    }
  }
  if (const Entry* e = fields->find("rollback")) parse_rollback(r, e->value, s);
  if ((!s.force_header.empty() || !s.force_cookie.empty()) && !fields->find("force_from"))
    r.warning(item.pos, item.path,
              "any client can pick a pool with force_header or force_cookie: add force_from "
              "with your testers' addresses");
  if (r.error_count() != errors_before) return nullptr;
  return std::make_shared<CanaryConfig>(std::move(s));
}

}  // namespace portico::filters
