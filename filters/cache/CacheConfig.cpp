#include "filters/cache/CacheConfig.h"

#include <fmt/format.h>

#include <stdexcept>

#include "filters/cache/CacheFilter.h"
#include "filters/cache/CacheZones.h"

namespace portico::filters {

namespace {

using config::Entry;
using config::Item;

constexpr uint64_t kMinBytes = 64 * 1024;

class CacheConfig final : public FilterConfig {
 public:
  CacheConfig(cache::CacheRoute route, std::string zone, cache::CacheStore::Limits limits)
      : route_(std::move(route)), zone_(std::move(zone)), limits_(limits) {}

  std::shared_ptr<const Filter> build(const FilterSite& site) const override {
    // A zone keeps its contents across a reload that leaves its name and sizes alone.
    std::string identity =
        fmt::format("cache zone {} {} {}", zone_, limits_.max_bytes, limits_.max_object_bytes);
    cache::CacheRoute route = route_;
    route.zone = site.states->get<cache::CacheZone>(
        identity, [&] { return std::make_unique<cache::CacheZone>(zone_, limits_); });
    if (site.cache_zones && !site.cache_zones->add(route.zone))
      throw std::invalid_argument("cache zone '" + zone_ +
                                  "' is given other sizes on another route: a zone is one store");
    return std::make_shared<CacheFilter>(std::move(route));
  }

 private:
  cache::CacheRoute route_;
  std::string zone_;
  cache::CacheStore::Limits limits_;
};

void parse_collapse(config::YamlReader& r, const Item& item, cache::CacheRoute& route) {
  auto fields = r.read_fields(item, {"timeout", "max_waiters"});
  if (!fields) return;
  if (const Entry* e = fields->find("timeout")) {
    if (auto d = r.read_duration(e->value, false)) route.collapse_timeout = *d;
  }
  if (const Entry* e = fields->find("max_waiters")) {
    if (auto n = r.read_int(e->value, 0, 100'000)) route.collapse_max_waiters = size_t(*n);
  }
}

}  // namespace

std::shared_ptr<const FilterConfig> parse_cache(config::YamlReader& r, const Item& item) {
  size_t errors_before = r.error_count();
  // `cache: {}` and a bare `cache:` both take every default.
  cache::CacheRoute route;
  std::string zone = "default";
  cache::CacheStore::Limits limits;
  if (!item.node.IsNull()) {
    auto fields = r.read_fields(item, {"zone", "max_bytes", "max_object_bytes", "status_header",
                                       "store_set_cookie", "heuristic", "default_ttl", "collapse"});
    if (!fields) return nullptr;
    if (const Entry* e = fields->find("zone")) {
      if (auto name = r.read_name(e->value)) zone = *name;
    }
    if (const Entry* e = fields->find("max_bytes")) {
      if (auto size = r.read_size(e->value)) {
        if (*size < kMinBytes)
          r.error(e->value.pos, e->value.path,
                  "must be at least 64KiB, got " + std::to_string(*size) + " bytes");
        else
          limits.max_bytes = *size;
      }
    }
    const Entry* max_object = fields->find("max_object_bytes");
    if (max_object) {
      if (auto size = r.read_size(max_object->value)) {
        if (*size < 1)
          r.error(max_object->value.pos, max_object->value.path, "must be at least 1 byte");
        else
          limits.max_object_bytes = *size;
      }
    }
    if (limits.max_object_bytes > limits.max_bytes) {
      if (max_object)
        r.error(
            max_object->value.pos, max_object->value.path,
            "must not be larger than max_bytes (" + std::to_string(limits.max_bytes) + " bytes)");
      else
        limits.max_object_bytes = limits.max_bytes;
    }
    if (const Entry* e = fields->find("status_header")) {
      if (auto name = r.read_string(e->value)) {
        if (*name == "off" || name->empty())
          route.status_header.clear();
        else if (!config::is_token(*name))
          r.error(e->value.pos, e->value.path,
                  "must be a header name or 'off', got " + config::quoted(*name));
        else
          route.status_header = config::to_lower(*name);
      }
    }
    if (const Entry* e = fields->find("store_set_cookie")) {
      if (auto b = r.read_bool(e->value)) route.store_set_cookie = *b;
    }
    if (const Entry* e = fields->find("heuristic")) {
      if (auto p = r.read_percent(e->value, 0, 100)) route.heuristic.fraction = *p / 100.0;
    }
    if (const Entry* e = fields->find("default_ttl")) {
      if (auto d = r.read_duration(e->value, true)) {
        if (d->count() % 1000)
          r.error(e->value.pos, e->value.path, "must be whole seconds (Age has no fractions)");
        else
          route.heuristic.default_seconds = d->count() / 1000;
      }
    }
    if (const Entry* e = fields->find("collapse")) parse_collapse(r, e->value, route);
  }
  if (r.error_count() != errors_before) return nullptr;
  return std::make_shared<CacheConfig>(std::move(route), std::move(zone), limits);
}

}  // namespace portico::filters
