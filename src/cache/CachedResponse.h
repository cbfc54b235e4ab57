// One stored response (RFC 9111 §3): immutable once built and shared by every worker
// through shared_ptr<const>, so a hit copies nothing; the body is shared again by the
// entry a 304 refreshes (§4.3.4), so revalidation does not copy it either.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cache/CacheControl.h"
#include "http/Header.h"

namespace portico::cache {

// A field the response varies on (§4.1) and the request's value of it, normalised
// (every line joined with ", ", whitespace around values dropped); nullopt: absent.
struct VaryField {
  std::string name;  // lower-case
  std::optional<std::string> value;
};

// When the response was asked for and received, on the wall clock (milliseconds since
// the epoch): the request_time and response_time of §4.2.3.
struct ExchangeTimes {
  int64_t request_ms = 0;
  int64_t response_ms = 0;
};

struct CachedResponse {
  int status = 200;
  std::string reason;
  // The stored header lines, "Name: value\r\n" each, without the fields a cache does not
  // store or forward (§3.1: Connection and the fields it names, Keep-Alive,
  // Proxy-Connection, TE, Transfer-Encoding, Upgrade, Proxy-Authenticate,
  // Proxy-Authorization, Proxy-Authentication-Info; also Age, which is recomputed;
  // Content-Length, which is rewritten from the body).
  std::string fields;
  std::vector<http::Header> headers;  // views into `fields`
  std::shared_ptr<const std::string> body;

  ExchangeTimes times;
  std::optional<int64_t> date;  // Date, seconds; nullopt when absent or invalid
  int64_t age_value = 0;        // Age as received, seconds (0 when absent or invalid)
  CacheControl cc;              // the response's Cache-Control
  // §4.2.1 for a shared cache: s-maxage, else max-age, else Expires - Date, else a
  // heuristic (§4.2.2), else 0. Seconds.
  int64_t lifetime = 0;
  bool heuristic = false;
  std::string_view etag;                 // a view into `fields`; "" when none
  std::optional<int64_t> last_modified;  // seconds
  std::vector<VaryField> vary;
  bool vary_any = false;  // Vary: * (never matches a request, §4.1)

  // What the entry counts against max_bytes: fields, body and bookkeeping.
  uint64_t size() const;
};

// Heuristic freshness (§4.2.2), used only where the RFC allows it: no explicit
// expiration, and a heuristically cacheable status or `public`. With a Last-Modified the
// lifetime is fraction × (Date − Last-Modified), at most max_seconds; without one it is
// default_seconds (0: not stored for freshness). Both are the cache's configuration.
struct Heuristic {
  double fraction = 0.1;
  int64_t max_seconds = 86400;
  int64_t default_seconds = 0;
};

// Inputs for building an entry from an upstream response.
struct ResponseToStore {
  int status = 200;
  std::string_view reason;
  std::span<const http::Header> headers;          // the response's, as received
  std::span<const http::Header> request_headers;  // for Vary's secondary key
  ExchangeTimes times;
  std::shared_ptr<const std::string> body;
  Heuristic heuristic;
};

std::shared_ptr<const CachedResponse> build_cached_response(const ResponseToStore& in);

// §4.3.4: the stored response updated with a 304's header fields (each replaces the
// stored lines of its name, except Content-Length and the fields §3.1 leaves out), with
// the new exchange's times, Date and Age. The body is shared, not copied.
std::shared_ptr<const CachedResponse> refreshed_by_304(const CachedResponse& stored,
                                                       std::span<const http::Header> not_modified,
                                                       ExchangeTimes times,
                                                       const Heuristic& heuristic);

// A request's value of a field for Vary (VaryField::value): every line of that name
// joined with ", ", whitespace around each value dropped; nullopt when absent.
std::optional<std::string> normalized_field(std::span<const http::Header> headers,
                                            std::string_view name);
// Whether a request's fields select this stored variant (§4.1). Vary: * never does.
bool vary_matches(const CachedResponse& stored, std::span<const http::Header> request_headers);
// Whether two stored responses are the same variant (same fields and values), so a new
// one replaces the old.
bool same_variant(const CachedResponse& a, const CachedResponse& b);
// Whether they vary on the same fields (whatever the values and their order).
bool same_vary_fields(const CachedResponse& a, const CachedResponse& b);

}  // namespace portico::cache
