#include "cache/CachedResponse.h"

#include <algorithm>
#include <cmath>

#include "cache/CachePolicy.h"
#include "cache/HttpDate.h"
#include "cache/Validators.h"

namespace portico::cache {

namespace {

using http::Header;
using http::iequals;

constexpr int64_t kDeltaMax = 2147483648;  // RFC 9111 §1.2.2

using http::is_ows;
using http::trim_ows;

// Calls f(element) for each non-empty element of a comma list (no quoted strings: used
// for Connection and Vary, whose elements are tokens).
template <typename F>
void for_each_element(std::string_view v, F&& f) {
  while (!v.empty()) {
    const size_t comma = v.find(',');
    const std::string_view e = trim_ows(v.substr(0, comma));
    v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
    if (!e.empty()) f(e);
  }
}

// §3.1: fields meaningful only to one connection (the fixed list and what Connection
// names), Age (recomputed when served) and Content-Length (rewritten from the body).
class Excluded {
 public:
  explicit Excluded(std::span<const Header> message) : message_(message) {}

  bool operator()(std::string_view name) const {
    static constexpr std::string_view kFixed[] = {"connection",
                                                  "keep-alive",
                                                  "proxy-connection",
                                                  "te",
                                                  "transfer-encoding",
                                                  "upgrade",
                                                  "proxy-authenticate",
                                                  "proxy-authorization",
                                                  "proxy-authentication-info",
                                                  "age",
                                                  "content-length"};
    for (std::string_view f : kFixed)
      if (iequals(name, f)) return true;
    // The message's own Connection lines: there are a few at most, so they are read
    // again per field instead of being collected.
    bool named = false;
    for (const Header& h : message_) {
      if (!iequals(h.name, "connection")) continue;
      for_each_element(h.value, [&](std::string_view token) {
        if (iequals(token, name)) named = true;
      });
      if (named) return true;
    }
    return false;
  }

 private:
  std::span<const Header> message_;
};

// Lays out `lines` as "Name: value\r\n" in r.fields and points r.headers into it. The
// views are made only once the string is complete and in place: growing or moving it
// (a short string lives inside the object) would leave them dangling.
void set_fields(CachedResponse& r, const std::vector<Header>& lines) {
  size_t total = 0;
  for (const Header& h : lines) total += h.name.size() + h.value.size() + 4;
  r.fields.clear();
  r.fields.reserve(total);
  for (const Header& h : lines) {
    r.fields.append(h.name);
    r.fields.append(": ");
    r.fields.append(h.value);
    r.fields.append("\r\n");
  }
  const std::string_view all = r.fields;
  r.headers.clear();
  r.headers.reserve(lines.size());
  size_t pos = 0;
  for (const Header& h : lines) {
    const std::string_view name = all.substr(pos, h.name.size());
    pos += h.name.size() + 2;
    const std::string_view value = all.substr(pos, h.value.size());
    pos += h.value.size() + 2;
    r.headers.push_back({name, value});
  }
}

// Age (§5.1): delta-seconds; anything else counts as absent (0).
int64_t age_of(std::span<const Header> message) {
  const Header* h = http::find_header(message, "age");
  if (!h) return 0;
  const std::string_view v = trim_ows(h->value);
  if (v.empty()) return 0;
  int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return 0;
    if (n <= kDeltaMax) n = n * 10 + (c - '0');
  }
  return std::min(n, kDeltaMax);
}

std::optional<int64_t> date_field(std::span<const Header> headers, std::string_view name) {
  const Header* h = http::find_header(headers, name);
  if (!h) return std::nullopt;
  return parse_http_date(h->value);
}

int64_t floor_seconds(int64_t ms) {
  return ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
}

// §4.2.1 for a shared cache, then §4.2.2's heuristic where it is allowed.
void set_lifetime(CachedResponse& r, const Heuristic& heuristic) {
  r.heuristic = false;
  if (r.cc.s_maxage != CacheControl::kAbsent) {
    r.lifetime = r.cc.s_maxage;
    return;
  }
  if (r.cc.max_age != CacheControl::kAbsent) {
    r.lifetime = r.cc.max_age;
    return;
  }
  // Without a usable Date the receipt time stands in for it: what the origin would have
  // said, less the transit time.
  const int64_t date_value = r.date ? *r.date : floor_seconds(r.times.response_ms);
  if (const Header* expires = http::find_header(r.headers, "expires")) {
    // The first Expires line (§4.2.1 allows first-wins). One that does not parse, such as
    // "0", means already expired (§5.3).
    const std::optional<int64_t> when = parse_http_date(expires->value);
    r.lifetime = when ? std::max<int64_t>(0, *when - date_value) : 0;
    return;
  }
  r.lifetime = 0;
  if (!heuristically_cacheable(r.status) && !r.cc.public_) return;
  if (!r.last_modified) {
    // Nothing to guess from: the configured default, if any.
    r.lifetime = std::max<int64_t>(0, heuristic.default_seconds);
    r.heuristic = r.lifetime > 0;
    return;
  }
  if (*r.last_modified >= date_value) return;
  // The fraction is configuration: a negative or NaN one allows nothing.
  if (!(heuristic.fraction > 0) || heuristic.max_seconds <= 0) return;
  const double guess = heuristic.fraction * static_cast<double>(date_value - *r.last_modified);
  r.lifetime = guess >= static_cast<double>(heuristic.max_seconds) ? heuristic.max_seconds
                                                                   : static_cast<int64_t>(guess);
  r.heuristic = true;
}

// Everything read from the stored fields: Date, Cache-Control, ETag, Last-Modified and
// the lifetime they give. Age and Vary come from elsewhere (the message, the request).
void derive(CachedResponse& r, const Heuristic& heuristic) {
  r.date = date_field(r.headers, "date");
  r.cc = parse_cache_control(r.headers);
  r.etag = {};
  if (const Header* e = http::find_header(r.headers, "etag")) {
    const std::string_view tag = trim_ows(e->value);
    if (valid_etag(tag)) r.etag = tag;
  }
  r.last_modified = date_field(r.headers, "last-modified");
  set_lifetime(r, heuristic);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = http::ascii_lower(c);
  return out;
}

}  // namespace

std::shared_ptr<const CachedResponse> build_cached_response(const ResponseToStore& in) {
  auto r = std::make_shared<CachedResponse>();
  r->status = in.status;
  r->reason = std::string(in.reason);
  r->body = in.body;
  r->times = in.times;

  const Excluded excluded(in.headers);
  std::vector<Header> kept;
  kept.reserve(in.headers.size() + 1);
  for (const Header& h : in.headers)
    if (!excluded(h.name)) kept.push_back(h);
  // RFC 9110 §6.6.1: a cache records when a response without Date was received, as its
  // Date, so its age is measured from then (and clients see one).
  HttpDateText received;
  if (!http::find_header(in.headers, "date")) {
    format_http_date(floor_seconds(in.times.response_ms), received);
    kept.push_back({"Date", std::string_view(received.data(), received.size())});
  }
  set_fields(*r, kept);

  r->age_value = age_of(in.headers);
  derive(*r, in.heuristic);

  for (const Header& h : r->headers) {
    if (!iequals(h.name, "vary")) continue;
    for_each_element(h.value, [&](std::string_view name) {
      if (name == "*") {
        r->vary_any = true;
        return;
      }
      // Not a field name: nothing a request could carry, so nothing to match.
      if (!http::is_token(name)) return;
      for (const VaryField& f : r->vary)
        if (iequals(f.name, name)) return;
      std::string lowered = lower(name);
      std::optional<std::string> value = normalized_field(in.request_headers, lowered);
      r->vary.push_back({std::move(lowered), std::move(value)});
    });
  }
  return r;
}

std::shared_ptr<const CachedResponse> refreshed_by_304(const CachedResponse& stored,
                                                       std::span<const http::Header> not_modified,
                                                       ExchangeTimes times,
                                                       const Heuristic& heuristic) {
  auto r = std::make_shared<CachedResponse>();
  r->status = stored.status;
  r->reason = stored.reason;
  r->body = stored.body;  // shared, not copied
  r->times = times;
  r->vary = stored.vary;
  r->vary_any = stored.vary_any;

  // §3.2: each field the 304 carries replaces the stored lines of that name, except the
  // ones §3.1 never stores and Content-Length (the 304's describes no body). Kept lines
  // stay in order; the 304's go after them.
  const Excluded excluded(not_modified);
  auto updates = [&](std::string_view name) {
    for (const Header& h : not_modified)
      if (iequals(h.name, name) && !excluded(h.name)) return true;
    return false;
  };
  // A 304 without Date dates the refreshed response from its receipt, not the old Date
  // (RFC 9110 §6.6.1), or its age would count from the first response.
  HttpDateText received;
  const bool dated = http::find_header(not_modified, "date") != nullptr;
  std::vector<Header> merged;
  merged.reserve(stored.headers.size() + not_modified.size() + 1);
  for (const Header& h : stored.headers)
    if (!updates(h.name) && (dated || !iequals(h.name, "date"))) merged.push_back(h);
  for (const Header& h : not_modified)
    if (!excluded(h.name)) merged.push_back(h);
  if (!dated) {
    format_http_date(floor_seconds(times.response_ms), received);
    merged.push_back({"Date", std::string_view(received.data(), received.size())});
  }
  // The views point into `stored` and `not_modified`, both alive until set_fields has
  // copied them.
  set_fields(*r, merged);

  r->age_value = age_of(not_modified);
  derive(*r, heuristic);
  return r;
}

}  // namespace portico::cache
