#include "cache/CachePolicy.h"

#include <algorithm>

namespace portico::cache {

namespace {

using http::find_header;

// Statuses whose caching rules this cache implements, for must-understand (§5.2.2.3):
// the ones RFC 9110 makes cacheable by default, and the redirects a cache stores with
// explicit freshness. 206 is left out on purpose (partial content is never stored), and
// 304 is an answer about a stored response, not one to store.
bool understood(int status) {
  switch (status) {
    case 302:
    case 303:
    case 307:
      return true;
    default:
      return heuristically_cacheable(status) && status != 206;
  }
}

int64_t floor_seconds(int64_t ms) {
  return ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
}

// Directives that forbid serving the response stale (§4.2.4): s-maxage implies
// proxy-revalidate for a shared cache (§5.2.2.10).
bool never_stale(const CacheControl& cc) {
  return cc.must_revalidate || cc.proxy_revalidate || cc.s_maxage != CacheControl::kAbsent;
}

bool request_no_cache(const RequestFacts& request) {
  // Pragma counts only when the request has no Cache-Control (§5.4).
  return request.cc.no_cache || (!request.has_cache_control && request.pragma_no_cache);
}

}  // namespace

RequestFacts request_facts(std::string_view method, std::span<const http::Header> headers) {
  RequestFacts f;
  f.method = method;
  f.cc = parse_cache_control(headers);
  f.pragma_no_cache = pragma_no_cache(headers);
  f.has_cache_control = find_header(headers, "cache-control") != nullptr;
  f.authorization = find_header(headers, "authorization") != nullptr;
  f.range = find_header(headers, "range") != nullptr;
  return f;
}

const char* why_not_storable(const RequestFacts& request, int status,
                             std::span<const http::Header> response_headers,
                             const CacheControl& response_cc, const StorePolicy& policy) {
  // Methods are case-sensitive (RFC 9110 §9.1). HEAD is answered from a stored GET but
  // its own response has no body to store.
  if (request.method != "GET") return "method not GET";
  if (request.range) return "Range";
  if (status < 200 || status > 599) return "status not final";
  if (status == 206) return "status 206";
  if (status == 304) return "status 304";
  // §5.2.2.3: with must-understand, a cache stores only the statuses it understands,
  // and for those it ignores no-store (the origin sends no-store for caches that do not
  // know must-understand).
  bool response_no_store = response_cc.no_store;
  if (response_cc.must_understand) {
    if (!understood(status)) return "must-understand with a status not understood";
    response_no_store = false;
  }
  if (request.cc.no_store || response_no_store) return "no-store";
  if (response_cc.private_) return "private";
  // §3.5: a shared cache keeps a response to an authenticated request only when the
  // response says a shared cache may.
  if (request.authorization && !response_cc.must_revalidate && !response_cc.public_ &&
      response_cc.s_maxage == CacheControl::kAbsent)
    return "Authorization without public/s-maxage/must-revalidate";
  if (!policy.store_set_cookie && find_header(response_headers, "set-cookie")) return "Set-Cookie";
  // §3's last condition, as it lists it for a shared cache. no-cache is not on the list:
  // a no-cache response with none of these is not stored, though one that has them is
  // (and is then always revalidated).
  if (find_header(response_headers, "expires") || response_cc.max_age != CacheControl::kAbsent ||
      response_cc.s_maxage != CacheControl::kAbsent || response_cc.public_ ||
      heuristically_cacheable(status))
    return nullptr;
  return "no explicit freshness and no heuristic allowed";
}

int64_t current_age(const CachedResponse& stored, int64_t now_ms) {
  // §4.2.3 in milliseconds, floored to seconds at the end so the rounding of each term
  // does not add up. Clock steps backwards are not allowed to make a negative delay or
  // residence: they would make the response look younger than it was received.
  const ExchangeTimes& t = stored.times;
  const int64_t apparent_age =
      stored.date ? std::max<int64_t>(0, t.response_ms - *stored.date * 1000) : 0;
  const int64_t response_delay = std::max<int64_t>(0, t.response_ms - t.request_ms);
  const int64_t corrected_age_value = stored.age_value * 1000 + response_delay;
  const int64_t corrected_initial_age = std::max(apparent_age, corrected_age_value);
  const int64_t resident_time = std::max<int64_t>(0, now_ms - t.response_ms);
  return floor_seconds(corrected_initial_age + resident_time);
}

ReuseDecision decide_reuse(const CachedResponse& stored, const RequestFacts& request,
                           int64_t now_ms) {
  ReuseDecision d;
  d.age = current_age(stored, now_ms);
  d.reuse = Reuse::Revalidate;
  const int64_t age = d.age;
  const CacheControl& rq = request.cc;
  const CacheControl& rs = stored.cc;

  // §5.2.2.4 / §5.2.1.4: no-cache (either side) means validate every time.
  if (rs.no_cache || request_no_cache(request)) return d;
  // §5.2.1.1: older than the client accepts, whatever max-stale says.
  if (rq.max_age != CacheControl::kAbsent && age > rq.max_age) return d;
  // §5.2.1.3: fresh for at least min-fresh more seconds.
  if (rq.min_fresh != CacheControl::kAbsent && stored.lifetime - age < rq.min_fresh) return d;

  // immutable needs nothing here: it only tells clients not to revalidate while fresh,
  // and a fresh response is served without asking anyway.
  if (stored.lifetime > age) {
    d.reuse = Reuse::Fresh;
    return d;
  }
  if (never_stale(rs)) return d;
  const int64_t staleness = age - stored.lifetime;
  if (rq.max_stale != CacheControl::kAbsent && staleness <= rq.max_stale) {
    d.reuse = Reuse::Stale;
    return d;
  }
  if (rs.stale_while_revalidate != CacheControl::kAbsent &&
      staleness <= rs.stale_while_revalidate) {
    d.reuse = Reuse::StaleWhileRevalidate;
    return d;
  }
  return d;
}

bool stale_if_error_allows(const CachedResponse& stored, const RequestFacts& request,
                           int64_t now_ms) {
  const int64_t response_limit = stored.cc.stale_if_error;
  const int64_t request_limit = request.cc.stale_if_error;
  if (response_limit == CacheControl::kAbsent && request_limit == CacheControl::kAbsent)
    return false;
  // §4.2.4: no-cache and the revalidate directives forbid a stale answer outright.
  if (never_stale(stored.cc) || stored.cc.no_cache) return false;
  // A client that asked for validation gets a stale answer only if it said it takes one.
  if (request_no_cache(request) && request_limit == CacheControl::kAbsent) return false;
  const int64_t staleness = std::max<int64_t>(0, current_age(stored, now_ms) - stored.lifetime);
  return staleness <= std::max(response_limit, request_limit);
}

bool heuristically_cacheable(int status) {
  switch (status) {
    case 200:
    case 203:
    case 204:
    case 206:
    case 300:
    case 301:
    case 308:
    case 404:
    case 405:
    case 410:
    case 414:
    case 501:
      return true;
    default:
      return false;
  }
}

}  // namespace portico::cache
