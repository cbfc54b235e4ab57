#include "cache/CacheFill.h"

#include <charconv>

#include "cache/Validators.h"

namespace portico::cache {

const char* CacheFill::begin(const CacheRoute& route, const RequestFacts& request,
                             std::span<const http::Header> request_headers,
                             const ResponseHeadView& head, ExchangeTimes times) {
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
  return nullptr;
}

void CacheFill::add(std::string_view raw, uint64_t max_object_bytes) {
  if (!entry_) return;
  bool ok = chunked_ ? decoder_.feed(raw, *body_) : (body_->append(raw), true);
  if (!ok || body_->size() > max_object_bytes) reset();
}

void CacheFill::finish(CacheStore& store, std::string_view key) {
  if (entry_ && (!chunked_ || decoder_.done())) store.insert(key, std::move(entry_));
  reset();
}

void CacheFill::reset() {
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
  RequestFacts get = request;  // the stored response answered a GET, whatever revalidated it
  get.method = "GET";
  if (const char* why =
          why_not_storable(get, refreshed->status, refreshed->headers, refreshed->cc, policy)) {
    store.purge(key);
    return {std::move(refreshed), why};
  }
  // Replaced only where the revalidated entry still is: one evicted, purged or replaced
  // by a newer response meanwhile is not brought back.
  if (!store.replace(key, &stored, refreshed)) return {std::move(refreshed), "replaced meanwhile"};
  return {std::move(refreshed), nullptr};
}

}  // namespace portico::cache
