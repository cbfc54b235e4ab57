// `cache:` as written in a route's filters: an RFC 9111 shared cache in memory.
//
//   - cache: { zone: default, max_bytes: 64MiB, max_object_bytes: 1MiB,
//              status_header: x-cache, store_set_cookie: false, heuristic: 10%,
//              collapse: { timeout: 5s, max_waiters: 256 } }
//
// See docs/FILTERS.md for every key.
#pragma once

#include <memory>

#include "config/YamlReader.h"
#include "filters/FilterConfig.h"

namespace portico::filters {

std::shared_ptr<const FilterConfig> parse_cache(config::YamlReader& reader,
                                                const config::Item& item);

}  // namespace portico::filters
