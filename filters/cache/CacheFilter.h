// The cache filter of a route. The lookup, the fill and the revalidation are phases of
// the proxy itself (proxy/DownstreamCache.cpp), as in Pingora: they need the upstream
// exchange and the response stream, which a filter does not see. The filter marks the
// request as the cache's and lists its zone for the admin API; it is the last of its
// chain, so a hit answers after every other filter has let the request through.
#pragma once

#include <memory>

#include "cache/CacheZone.h"
#include "filters/Filter.h"

namespace portico::filters {

class CacheFilter final : public Filter {
 public:
  explicit CacheFilter(cache::CacheRoute route) : route_(std::move(route)) {}

  Verdict on_request(FilterContext& ctx) const override {
    ctx.cache = &route_;
    return Verdict::Continue;
  }

 private:
  cache::CacheRoute route_;
};

}  // namespace portico::filters
