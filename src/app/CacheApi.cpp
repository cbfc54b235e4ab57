#include "app/CacheApi.h"

#include <spdlog/spdlog.h>

#include <vector>

#include "admin/JsonWriter.h"
#include "router/QueryString.h"

namespace portico::app {

namespace {

using admin::AdminResponse;
using admin::JsonWriter;
using cache::CacheResult;

constexpr size_t kMaxKey = 8192;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = http::ascii_lower(c);
  return out;
}

AdminResponse list_zones(const core::Runtime& runtime) {
  JsonWriter w;
  w.begin_object().key("zones").begin_array();
  for (const auto& zone : runtime.cache_zones().all()) {
    const cache::CacheStore& store = zone->store();
    const cache::StoreCounters& c = store.counters();
    w.begin_object();
    w.member("zone", zone->name());
    w.member("entries", c.entries.load()).member("bytes", c.bytes.load());
    w.member("max_bytes", store.limits().max_bytes);
    w.member("max_object_bytes", store.limits().max_object_bytes);
    w.member("evictions", c.evictions.load()).member("purged", c.purged.load());
    w.key("requests").begin_object();
    for (size_t r = 0; r < cache::kCacheResultNames.size(); ++r)
      w.member(lower(cache::kCacheResultNames[r]), zone->total(CacheResult(r)));
    w.end_object();
    w.end_object();
  }
  w.end_array().end_object();
  return admin::json_response(200, w.str());
}

}  // namespace

AdminResponse handle_cache_request(const core::Runtime& runtime, const admin::AdminRequest& request,
                                   std::string_view rest) {
  if (rest.empty() || rest == "/") {
    if (request.method != "GET" && request.method != "HEAD")
      return admin::method_not_allowed("GET, HEAD");
    return list_zones(runtime);
  }
  std::string_view name = rest.substr(1);
  if (request.method != "DELETE") return admin::method_not_allowed("DELETE");
  std::shared_ptr<cache::CacheZone> zone;
  for (const auto& z : runtime.cache_zones().all())
    if (z->name() == name) zone = z;
  if (!zone)
    return admin::json_error(404,
                             "no cache zone '" + std::string(name) + "' (GET /-/cache lists them)");
  std::optional<std::string> key, prefix;
  std::vector<char> buffer(kMaxKey);
  for (router::QueryParam p : router::QueryParams(request.query)) {
    if (p.name != "key" && p.name != "prefix") continue;
    auto decoded = router::percent_decode(p.value, buffer);
    if (!decoded) return admin::json_error(400, "a key or prefix is at most 8192 bytes");
    (p.name == "key" ? key : prefix) = std::string(*decoded);
  }
  if (key.has_value() == prefix.has_value())
    return admin::json_error(400, "give one of ?key=KEY or ?prefix=PREFIX");
  size_t purged = key ? zone->store().purge(*key) : zone->store().purge_prefix(*prefix);
  spdlog::info("admin: cache zone {}: purged {} entries by {} '{}'", zone->name(), purged,
               key ? "key" : "prefix", key ? *key : *prefix);
  JsonWriter w;
  w.begin_object().member("zone", zone->name()).member("purged", purged).end_object();
  return admin::json_response(200, w.str());
}

}  // namespace portico::app
