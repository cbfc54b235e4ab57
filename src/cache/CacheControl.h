// Cache-Control (RFC 9111 §5.2) read from every line of the field in a head, and Pragma's
// no-cache (§5.4). Directive names are case-insensitive; arguments may be tokens or quoted
// strings; unknown directives are ignored.
#pragma once

#include <cstdint>
#include <span>

#include "http/Header.h"

namespace portico::cache {

struct CacheControl {
  static constexpr int64_t kAbsent = -1;
  // Delta-seconds (§1.2.2); kAbsent when the directive is missing. A value too large is
  // 2147483648. An invalid value (not digits) of a response's max-age or s-maxage is 0:
  // the response is stale, the safe reading. A repeated directive keeps its first value.
  int64_t max_age = kAbsent;
  int64_t s_maxage = kAbsent;
  int64_t min_fresh = kAbsent;               // request
  int64_t max_stale = kAbsent;               // request; kAnyStale when given without a value
  int64_t stale_while_revalidate = kAbsent;  // response (RFC 5861)
  int64_t stale_if_error = kAbsent;          // response or request (RFC 5861)
  static constexpr int64_t kAnyStale = INT64_MAX;

  bool no_store = false;
  bool no_cache = false;  // with field names too (a shared cache treats it as unqualified)
  bool private_ = false;  // with field names too (ditto)
  bool public_ = false;
  bool must_revalidate = false;
  bool proxy_revalidate = false;
  bool must_understand = false;
  bool no_transform = false;
  bool only_if_cached = false;
  bool immutable = false;
};

CacheControl parse_cache_control(std::span<const http::Header> headers);

// Pragma: no-cache, which a request without Cache-Control means as Cache-Control: no-cache.
bool pragma_no_cache(std::span<const http::Header> headers);

}  // namespace portico::cache
