// The admin API's view of the cache zones, and purging:
//
//   GET    /-/cache                       every zone: entries, bytes, limits, results
//   DELETE /-/cache/ZONE?key=KEY          removes every variant stored under KEY
//   DELETE /-/cache/ZONE?prefix=PREFIX    removes every entry whose key starts with PREFIX
//                                         ("" empties the zone)
//
// A key is the request's host, lower-cased, then its target as sent:
// "api.example.com/v1/items?page=2". Values are percent-decoded.
#pragma once

#include <string_view>

#include "admin/AdminMessages.h"
#include "core/Runtime.h"

namespace portico::app {

// `rest` is the path after "/-/cache" ("" or "/ZONE").
admin::AdminResponse handle_cache_request(const core::Runtime& runtime,
                                          const admin::AdminRequest& request,
                                          std::string_view rest);

}  // namespace portico::app
