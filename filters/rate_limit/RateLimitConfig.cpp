#include "filters/rate_limit/RateLimitConfig.h"

#include <fmt/format.h>

#include <charconv>
#include <stdexcept>

#include "config/ValueParsers.h"
#include "filters/rate_limit/RateLimitFilter.h"

namespace portico::filters {

namespace {

using config::Entry;
using config::Item;

constexpr int64_t kMaxRate = 1'000'000'000;
constexpr int64_t kMaxKeys = 100'000'000;

class RateLimitConfig final : public FilterConfig {
 public:
  explicit RateLimitConfig(RateLimitSettings s)
      : settings_(std::make_shared<const RateLimitSettings>(std::move(s))) {}

  std::shared_ptr<const Filter> build(const FilterSite& site) const override {
    // One limit per route, or one for the whole listener when it is the listener's default;
    // kept across a reload that leaves it (and where it is) unchanged.
    std::string where = site.listener_default
                            ? std::string(site.listener)
                            : std::string(site.listener) + "/" + std::string(site.route);
    std::shared_ptr<BucketTable> buckets;
    if (settings_->backend == RateLimitSettings::Backend::Local) {
      buckets = site.states->get<BucketTable>(where + " " + std::string(site.identity), [&] {
        return std::make_unique<BucketTable>(settings_->limit, settings_->max_keys);
      });
    }
    // In Redis: the place and a hash of the settings, so changed settings start afresh there
    // too, and gateways with the same config share the keys.
    uint64_t hash = 14695981039346656037ull;
    for (char c : site.identity) hash = (hash ^ uint8_t(c)) * 1099511628211ull;
    return std::make_shared<RateLimitFilter>(settings_, std::move(buckets),
                                             where + ":" + fmt::format("{:016x}", hash));
  }

 private:
  std::shared_ptr<const RateLimitSettings> settings_;
};

// "100/s", "6000/min", "5/h": a count per unit of time.
std::optional<double> parse_rate(std::string_view text, std::string& error) {
  size_t slash = text.find('/');
  int64_t count = 0;
  std::string_view number = text.substr(0, slash);
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), count);
  if (slash == std::string_view::npos || number.empty() || ec != std::errc{} ||
      end != number.data() + number.size() || count < 1 || count > kMaxRate) {
    error = "expected a rate such as '100/s' or '6000/min' (a count from 1 to " +
            std::to_string(kMaxRate) + ", then /s, /min or /h), got '" + std::string(text) + "'";
    return std::nullopt;
  }
  std::string_view unit = text.substr(slash + 1);
  if (unit == "s" || unit == "sec" || unit == "second") return double(count);
  if (unit == "m" || unit == "min" || unit == "minute") return double(count) / 60;
  if (unit == "h" || unit == "hour") return double(count) / 3600;
  error = "unknown rate unit '" + std::string(unit) + "' in '" + std::string(text) +
          "' (expected s, min or h)";
  return std::nullopt;
}

void parse_redis(config::YamlReader& r, const Item& item, RateLimitSettings::Redis& redis) {
  auto fields = r.read_fields(item, {"address", "timeout", "fail", "prefix"});
  if (!fields) return;
  if (const Entry* e = r.require(*fields, "address")) {
    if (auto text = r.read_string(e->value)) {
      auto address = config::parse_socket_address(*text, true);
      if (!address)
        r.error(e->value.pos, e->value.path, address.error);
      else
        redis.address = std::move(*address);
    }
  }
  if (const Entry* e = fields->find("timeout")) {
    if (auto d = r.read_duration(e->value, false)) redis.timeout = *d;
  }
  if (const Entry* e = fields->find("fail")) {
    if (auto mode = r.read_string(e->value)) {
      if (*mode == "open")
        redis.fail_open = true;
      else if (*mode == "closed")
        redis.fail_open = false;
      else
        r.error(e->value.pos, e->value.path,
                "expected 'open' (allow requests while Redis cannot answer) or 'closed' (deny "
                "them), got " +
                    config::quoted(*mode));
    }
  }
  if (const Entry* e = fields->find("prefix")) {
    if (auto prefix = r.read_string(e->value)) {
      if (prefix->size() > 64)
        r.error(e->value.pos, e->value.path, "must be at most 64 characters");
      else
        redis.prefix = *prefix;
    }
  }
}

}  // namespace

std::shared_ptr<const FilterConfig> parse_rate_limit(config::YamlReader& r, const Item& item) {
  size_t errors_before = r.error_count();
  auto fields = r.read_fields(item, {"key", "rate", "burst", "max_keys", "response_headers",
                                     "policy_name", "backend", "redis"});
  if (!fields) return nullptr;
  RateLimitSettings s;
  if (const Entry* e = fields->find("key")) {
    if (auto parts = r.read_one_or_list(e->value)) {
      s.key.clear();
      for (const Item& p : *parts) {
        auto text = r.read_string(p);
        if (!text) continue;
        std::string why;
        if (auto part = parse_key_part(*text, why))
          s.key.push_back(std::move(*part));
        else
          r.error(p.pos, p.path, why);
      }
    }
  }
  if (const Entry* e = r.require(*fields, "rate")) {
    if (auto text = r.read_string(e->value)) {
      std::string why;
      if (auto rate = parse_rate(*text, why)) {
        s.limit.rate_per_sec = *rate;
        s.rate_text = *text;
      } else {
        r.error(e->value.pos, e->value.path, why);
      }
    }
  }
  // By default a client may spend one second's worth at once (at least one request).
  s.limit.burst = std::max(1.0, std::floor(s.limit.rate_per_sec));
  if (const Entry* e = fields->find("burst")) {
    if (auto burst = r.read_int(e->value, 1, kMaxRate)) s.limit.burst = double(*burst);
  }
  if (const Entry* e = fields->find("max_keys")) {
    if (auto n = r.read_int(e->value, 16, kMaxKeys)) s.max_keys = size_t(*n);
  }
  if (const Entry* e = fields->find("response_headers")) {
    if (auto b = r.read_bool(e->value)) s.response_headers = *b;
  }
  if (const Entry* e = fields->find("policy_name")) {
    if (auto name = r.read_name(e->value)) {
      if (name->size() > 64)
        r.error(e->value.pos, e->value.path, "must be at most 64 characters");
      else
        s.policy_name = *name;
    }
  }
  if (s.policy_name.empty()) {
    // Two limits on one route must not advertise one policy name.
    for (const KeyPart& part : s.key) {
      if (!s.policy_name.empty()) s.policy_name += "+";
      s.policy_name += to_string(part);
    }
  }
  const Entry* redis = fields->find("redis");
  if (const Entry* e = fields->find("backend")) {
    if (auto backend = r.read_string(e->value)) {
      if (*backend == "local") {
        s.backend = RateLimitSettings::Backend::Local;
      } else if (*backend == "redis") {
        s.backend = RateLimitSettings::Backend::Redis;
        if (!redis)
          r.error(e->value.pos, e->value.path,
                  "backend 'redis' needs a 'redis:' section with at least 'address'");
      } else {
        r.error(
            e->value.pos, e->value.path,
            "expected 'local' (this process) or 'redis' (shared), got " + config::quoted(*backend));
      }
    }
  }
  if (redis) {
    if (s.backend != RateLimitSettings::Backend::Redis)
      r.error(redis->key_pos, redis->value.path, "'redis' needs 'backend: redis'");
    parse_redis(r, redis->value, s.redis);
  }
  if (r.error_count() != errors_before) return nullptr;
  return std::make_shared<RateLimitConfig>(std::move(s));
}

}  // namespace portico::filters
