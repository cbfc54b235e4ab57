#include "app/CacheMetrics.h"

namespace portico::app {

void write_cache_metrics(stats::PrometheusText& out, const core::Runtime& runtime) {
  const auto& zones = runtime.cache_zones().all();
  if (zones.empty()) return;
  static constexpr std::array<const char*, 5> kLabels{"hit", "miss", "stale", "revalidated",
                                                      "bypass"};
  out.family("portico_cache_requests_total", "counter",
             "Requests a cache zone handled, by what it did (the x-cache value).");
  for (const auto& z : zones)
    for (size_t r = 0; r < kLabels.size(); ++r)
      out.sample("portico_cache_requests_total", {{"zone", z->name()}, {"result", kLabels[r]}},
                 z->total(cache::CacheResult(r)));
  auto gauge = [&](const char* name, const char* type, const char* help, auto read) {
    out.family(name, type, help);
    for (const auto& z : zones) out.sample(name, {{"zone", z->name()}}, read(z->store()));
  };
  gauge("portico_cache_entries", "gauge", "Responses stored in the zone.",
        [](const cache::CacheStore& s) { return s.counters().entries.load(); });
  gauge("portico_cache_bytes", "gauge", "Bytes the zone's entries take (against max_bytes).",
        [](const cache::CacheStore& s) { return s.counters().bytes.load(); });
  gauge("portico_cache_max_bytes", "gauge", "The zone's max_bytes.",
        [](const cache::CacheStore& s) { return s.limits().max_bytes; });
  gauge("portico_cache_evictions_total", "counter",
        "Entries evicted (least recently used) to make room.",
        [](const cache::CacheStore& s) { return s.counters().evictions.load(); });
  gauge("portico_cache_purged_total", "counter",
        "Entries removed by purges and by unsafe requests' invalidation.",
        [](const cache::CacheStore& s) { return s.counters().purged.load(); });
}

}  // namespace portico::app
