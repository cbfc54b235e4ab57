#include "filters/circuit_breaker/CircuitBreakerConfig.h"

#include <charconv>
#include <stdexcept>

#include "filters/circuit_breaker/CircuitBreakerFilter.h"
#include "upstream/PoolState.h"

namespace portico::filters {

namespace {

using config::Entry;
using config::Item;

constexpr int64_t kMaxLimit = 10'000'000;

class CircuitBreakerConfig final : public FilterConfig {
 public:
  explicit CircuitBreakerConfig(CircuitBreakerSettings s)
      : settings_(std::make_shared<const CircuitBreakerSettings>(std::move(s))) {}

  std::shared_ptr<const Filter> build(const FilterSite& site) const override {
    if (!site.pool) throw std::invalid_argument("a circuit breaker needs a route with an upstream");
    int fallback = -1;
    if (!settings_->fallback.upstream.empty()) {
      fallback = site.upstream_index(settings_->fallback.upstream);
      if (fallback < 0)
        throw std::invalid_argument("unknown fallback upstream '" + settings_->fallback.upstream +
                                    "'");
    }
    // The pool's breaker: one per pool, kept across reloads while its settings stay.
    auto state = site.states->get<CircuitBreakerState>(
        "pool " + std::string(site.upstream) + " " + std::string(site.identity), [&] {
          auto s = std::make_unique<CircuitBreakerState>();
          if (settings_->policy)
            s->breaker = std::make_unique<ErrorRatioBreaker>(*settings_->policy);
          return s;
        });
    if (!site.pool->set_breaker(std::string(site.identity),
                                {settings_->max_connections, settings_->max_retries}, state))
      throw std::invalid_argument("upstream '" + std::string(site.upstream) +
                                  "' already has a circuit breaker with other settings (one "
                                  "pool, one breaker: give every route to it the same settings)");
    return std::make_shared<CircuitBreakerFilter>(settings_, std::move(state), *site.pool,
                                                  site.upstream_index(site.upstream), fallback);
  }

 private:
  std::shared_ptr<const CircuitBreakerSettings> settings_;
};

// "5xx", "gateway" (502-504), "500", "500-503", "connect_failure", "timeout", "reset".
bool add_failure(std::string_view text, FailureKinds& kinds) {
  if (text == "5xx") return kinds.add_statuses(500, 599), true;
  if (text == "gateway") return kinds.add_statuses(502, 504), true;
  if (text == "connect_failure") return kinds.connect_failure = true;
  if (text == "timeout") return kinds.timeout = true;
  if (text == "reset") return kinds.reset = true;
  auto number = [](std::string_view t, int& out) {
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), out);
    return !t.empty() && ec == std::errc{} && end == t.data() + t.size() && out >= 100 &&
           out <= 599;
  };
  size_t dash = text.find('-');
  int first = 0, last = 0;
  if (dash == std::string_view::npos) {
    if (!number(text, first)) return false;
    kinds.add_statuses(first, first);
    return true;
  }
  if (!number(text.substr(0, dash), first) || !number(text.substr(dash + 1), last) || last < first)
    return false;
  kinds.add_statuses(first, last);
  return true;
}

void parse_fallback(config::YamlReader& r, const Item& item, CircuitBreakerSettings::Fallback& f) {
  auto fields = r.read_fields(item, {"respond", "upstream"});
  if (!fields) return;
  const Entry* e = r.exclusive(*fields, {"respond", "upstream"});
  if (!e) {
    r.error(item.pos, item.path, "a fallback needs either 'respond' or 'upstream'");
  } else if (e->key == "upstream") {
    if (auto name = r.read_nonempty_string(e->value)) {
      f.upstream = *name;
      r.refer_to_upstream(*name, e->value.pos, e->value.path);
    }
  } else {
    config::Respond respond;
    respond.status = 503;
    config::read_respond(r, e->value, respond);
    f.status = respond.status;
    f.headers = std::move(respond.headers);
    f.body = std::move(respond.body);
  }
}

}  // namespace

void read_failure_on(config::YamlReader& r, const Item& item, FailureKinds& kinds) {
  auto list = r.read_one_or_list(item);
  if (!list) return;
  kinds.statuses.reset();
  kinds.connect_failure = kinds.timeout = kinds.reset = false;
  for (const Item& i : *list) {
    auto text = r.read_string(i);
    if (text && !add_failure(*text, kinds))
      r.error(i.pos, i.path,
              "unknown failure " + config::quoted(*text) +
                  " (expected 5xx, gateway, a status such as 503, a range such as 500-504, "
                  "connect_failure, timeout or reset)");
  }
}

std::shared_ptr<const FilterConfig> parse_circuit_breaker(config::YamlReader& r, const Item& item) {
  size_t errors_before = r.error_count();
  auto fields = r.read_fields(
      item, {"max_connections", "max_pending", "max_requests", "max_retries", "failure_ratio",
             "min_requests", "window", "open_for", "half_open_requests", "failure_on", "fallback"});
  if (!fields) return nullptr;
  CircuitBreakerSettings s;
  for (auto [key, field] :
       {std::pair{"max_connections", &s.max_connections}, std::pair{"max_pending", &s.max_pending},
        std::pair{"max_requests", &s.max_requests}, std::pair{"max_retries", &s.max_retries}}) {
    if (const Entry* e = fields->find(key)) {
      // max_retries: 0 is a limit (no retries, as Envoy); the others need at least one.
      if (auto n = r.read_u32(e->value, key == std::string_view("max_retries") ? 0 : 1, kMaxLimit))
        *field = *n;
    }
  }
  BreakerPolicy policy;
  const Entry* ratio = fields->find("failure_ratio");
  if (ratio) {
    if (!ratio->value.node.IsScalar()) {
      r.type_error(ratio->value, "a ratio greater than 0 and at most 1, such as 0.5");
    } else {
      const std::string& text = ratio->value.node.Scalar();
      double v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc{} || end != text.data() + text.size() || !(v > 0 && v <= 1))
        r.error(ratio->value.pos, ratio->value.path,
                "must be a ratio greater than 0 and at most 1, such as 0.5, got " + text);
      else
        policy.failure_ratio = v;
    }
  }
  // The error-ratio breaker's own keys mean nothing without failure_ratio.
  for (const Entry& e : fields->entries) {
    bool ratio_key = e.key == "min_requests" || e.key == "window" || e.key == "open_for" ||
                     e.key == "half_open_requests" || e.key == "failure_on" || e.key == "fallback";
    if (ratio_key && !ratio)
      r.error(e.key_pos, e.value.path,
              config::quoted(e.key) + " belongs to the error-ratio breaker: add 'failure_ratio'");
  }
  if (const Entry* e = fields->find("min_requests")) {
    if (auto n = r.read_u32(e->value, 1, kMaxLimit)) policy.min_requests = *n;
  }
  if (const Entry* e = fields->find("window")) {
    if (auto d = r.read_duration(e->value, false)) {
      if (d->count() < policy.window_buckets)
        r.error(e->value.pos, e->value.path, "must be at least 10ms");
      else
        policy.window = *d;
    }
  }
  if (const Entry* e = fields->find("open_for")) {
    if (auto d = r.read_duration(e->value, false)) policy.open_for = *d;
  }
  if (const Entry* e = fields->find("half_open_requests")) {
    if (auto n = r.read_u32(e->value, 1, kMaxHalfOpenRequests)) policy.half_open_requests = *n;
  }
  if (const Entry* e = fields->find("failure_on")) read_failure_on(r, e->value, s.failures);
  if (const Entry* e = fields->find("fallback")) parse_fallback(r, e->value, s.fallback);
  if (ratio) s.policy = policy;
  if (r.error_count() != errors_before) return nullptr;
  return std::make_shared<CircuitBreakerConfig>(std::move(s));
}

}  // namespace portico::filters
