#include "cache/CacheFill.h"

#include <charconv>

#include "cache/Validators.h"

namespace portico::cache {

namespace {

// A response that varies on a field Portico sets or drops on the way upstream varies on
// what the upstream saw, not on what the client sent: its variants could not be told
// apart by the client's request (and a refresh would have to forge the field).
bool varies_on_portico_field(const CachedResponse& r, std::string_view flags_header) {
  static constexpr std::string_view kPortico[] = {
      "x-portico-flags",   "x-forwarded-for",   "x-forwarded-host", "x-forwarded-proto",
      "x-request-id",      "traceparent",       "tracestate",       "if-none-match",
      "if-modified-since", "connection",        "keep-alive",       "te",
      "upgrade",           "transfer-encoding", "proxy-connection", "expect"};
  for (const VaryField& f : r.vary) {
    if (!flags_header.empty() && http::iequals(f.name, flags_header)) return true;
    for (std::string_view n : kPortico)
      if (http::iequals(f.name, n)) return true;
  }
  return false;
}

}  // namespace

const char* CacheFill::begin(const CacheRoute& route, const RequestFacts& request,
                             std::span<const http::Header> request_headers,
                             const ResponseHeadView& head, ExchangeTimes times,
                             std::string_view flags_header, uint64_t generation) {
  reset();
  CacheControl cc = parse_cache_control(head.headers);
  StorePolicy policy{.store_set_cookie = route.store_set_cookie};
  if (const char* why = why_not_storable(request, head.status, head.headers, cc, policy))
    return why;
  uint64_t expected = 0;
  if (const http::Header* length = http::find_header(head.headers, "content-length")) {
    auto [end, ec] = std::from_chars(length->value.data(),
                                     length->value.data() + length->value.size(), expected);
    if (ec != std::errc{} || expected > route.zone->store().limits().max_object_bytes)
      return "larger than max_object_bytes";
  }
  body_ = std::make_shared<std::string>();
  body_->reserve(size_t(expected));
  chunked_ = head.chunked;
  entry_ = build_cached_response({.status = head.status,
                                  .reason = head.reason,
                                  .headers = head.headers,
                                  .request_headers = request_headers,
                                  .times = times,
                                  .body = body_,
                                  .heuristic = route.heuristic});
  if (entry_->vary_any) {
    reset();
    return "Vary: *";
  }
  if (varies_on_portico_field(*entry_, flags_header)) {
    reset();
    return "Vary names a field Portico sets or drops upstream";
  }
  generation_ = generation;
  return nullptr;
}

void CacheFill::add(std::string_view raw, uint64_t max_object_bytes) {
  if (!entry_) return;
  bool ok = chunked_ ? decoder_.feed(raw, *body_) : (body_->append(raw), true);
  if (!ok || body_->size() > max_object_bytes) reset();
}

void CacheFill::finish(CacheStore& store, std::string_view key) {
  if (entry_ && (!chunked_ || decoder_.done()))
    store.insert_unless_purged(key, std::move(entry_), generation_);
  reset();
}

void CacheFill::reset() {
  generation_ = 0;
  entry_.reset();
  body_.reset();
  chunked_ = false;
  decoder_ = {};
}

Refreshed store_refreshed(CacheStore& store, std::string_view key, const CachedResponse& stored,
                          const CacheRoute& route, const RequestFacts& request,
                          std::span<const http::Header> not_modified, ExchangeTimes times) {
  const http::Header* etag = http::find_header(not_modified, "etag");
  if (etag && !stored.etag.empty() && !weak_match(etag->value, stored.etag)) {
    store.purge(key);
    return {nullptr, "the 304 names another representation"};
  }
  auto refreshed = refreshed_by_304(stored, not_modified, times, route.heuristic);
  StorePolicy policy{.store_set_cookie = route.store_set_cookie};
  // What the 304 says about the response (private, no-store, a Set-Cookie) ends the shared
  // copy; what the revalidating request was (with Authorization, or no-store) only keeps
  // this answer out of the store. A stored response answered a GET, whatever revalidated it.
  RequestFacts plain;
  plain.method = "GET";
  if (const char* why =
          why_not_storable(plain, refreshed->status, refreshed->headers, refreshed->cc, policy)) {
    store.purge(key);
    return {std::move(refreshed), why};
  }
  RequestFacts get = request;
  get.method = "GET";
  if (const char* why =
          why_not_storable(get, refreshed->status, refreshed->headers, refreshed->cc, policy))
    return {std::move(refreshed), why};
  // Replaced only where the revalidated entry still is: one evicted, purged or replaced
  // by a newer response meanwhile is not brought back.
  if (!store.replace(key, &stored, refreshed)) return {std::move(refreshed), "replaced meanwhile"};
  return {std::move(refreshed), nullptr};
}

}  // namespace portico::cache
