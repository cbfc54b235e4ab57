// The RFC 9111 decisions of a shared cache, as pure functions of a request, a response
// and the time: may this response be stored (§3), and how may a stored one answer this
// request (§4, §4.2.4, RFC 5861).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "cache/CacheControl.h"
#include "cache/CachedResponse.h"
#include "http/Header.h"

namespace portico::cache {

struct RequestFacts {
  std::string_view method;
  CacheControl cc;
  bool pragma_no_cache = false;  // counts only when the request has no Cache-Control
  bool has_cache_control = false;
  bool authorization = false;
  bool range = false;  // a Range request: served by the upstream, not the cache
};
RequestFacts request_facts(std::string_view method, std::span<const http::Header> headers);

struct StorePolicy {
  bool store_set_cookie = false;  // responses with Set-Cookie are stored only if set
};

// nullptr when the response may be stored; else why not (for logs and tests), e.g.
// "no-store", "private", "status 206", "Authorization without public/s-maxage/must-
// revalidate", "Set-Cookie", "no explicit freshness and no heuristic allowed".
// Storable needs: GET, a final status the cache understands, no no-store (request or
// response), no private, §3.5's Authorization rule, and either explicit freshness
// (Expires, max-age, s-maxage), public, a status cacheable by default (heuristic), or
// no-cache (stored to be revalidated) — as §3 lists.
const char* why_not_storable(const RequestFacts& request, int status,
                             std::span<const http::Header> response_headers,
                             const CacheControl& response_cc, const StorePolicy& policy);

// §4.2.3, seconds.
int64_t current_age(const CachedResponse& stored, int64_t now_ms);

enum class Reuse {
  Fresh,                 // serve it (HIT)
  Stale,                 // stale, and the request's max-stale allows it (STALE)
  StaleWhileRevalidate,  // serve stale now, refresh in the background (STALE)
  Revalidate,            // ask the upstream with its validators first
};
struct ReuseDecision {
  Reuse reuse = Reuse::Revalidate;
  int64_t age = 0;  // current_age, for the Age field
};
// The request's no-cache (or Pragma: no-cache), max-age, min-fresh and max-stale; the
// response's no-cache, must-revalidate, proxy-revalidate and s-maxage (which forbid
// serving it stale), immutable (fresh is fresh) and stale-while-revalidate.
ReuseDecision decide_reuse(const CachedResponse& stored, const RequestFacts& request,
                           int64_t now_ms);

// Whether a stale stored response may answer a request whose upstream failed (a 500,
// 502, 503, 504 or no answer), by the response's or the request's stale-if-error
// (RFC 5861 §4); never past must-revalidate, proxy-revalidate or s-maxage.
bool stale_if_error_allows(const CachedResponse& stored, const RequestFacts& request,
                           int64_t now_ms);

// Statuses a cache may store without explicit freshness (RFC 9110 §15.1).
bool heuristically_cacheable(int status);

}  // namespace portico::cache
