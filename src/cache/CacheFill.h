// A response on its way into the store: the entry is built from the head, the body is
// appended (de-chunked) as it streams past, and the whole is inserted once complete. A
// body that outgrows max_object_bytes, or framing that makes no sense, abandons it.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "cache/CachePolicy.h"
#include "cache/CacheStore.h"
#include "cache/CacheZone.h"
#include "cache/CachedResponse.h"
#include "http/ChunkedDecoder.h"

namespace portico::cache {

struct ResponseHeadView {
  int status = 200;
  std::string_view reason;
  std::span<const http::Header> headers;
  bool chunked = false;
};

class CacheFill {
 public:
  // Starts storing the response when it may be stored; otherwise returns why not.
  // `flags_header`: the config's name for the flags header Portico sets (besides
  // x-portico-flags). `generation`: the key's purge generation when the request was sent.
  const char* begin(const CacheRoute& route, const RequestFacts& request,
                    std::span<const http::Header> request_headers, const ResponseHeadView& head,
                    ExchangeTimes times, std::string_view flags_header, uint64_t generation);
  bool active() const { return entry_ != nullptr; }
  // Body bytes as received (still chunked when the response is); abandons the fill when
  // they do not fit.
  void add(std::string_view raw, uint64_t max_object_bytes);
  // The response is complete: stores it under `key`, unless something abandoned it or
  // the key was purged meanwhile (an invalidation must not be undone by an older fetch).
  void finish(CacheStore& store, std::string_view key);
  void reset();

 private:
  std::shared_ptr<const CachedResponse> entry_;
  std::shared_ptr<std::string> body_;
  bool chunked_ = false;
  uint64_t generation_ = 0;
  http::ChunkedDecoder decoder_;
};

// A 304 answered a revalidation of `stored` (RFC 9111 §4.3.3, §4.3.4). `entry` is the
// refreshed response, put in the stored one's place when a shared cache may keep it; one
// the 304 made private (private, no-store, a Set-Cookie) answers this request only, and
// the stored one is dropped. nullptr when the 304 is for another representation (its
// ETag is not the stored one's): nothing is updated, and the stored one is dropped.
struct Refreshed {
  std::shared_ptr<const CachedResponse> entry;
  const char* why_not_stored = nullptr;
};
Refreshed store_refreshed(CacheStore& store, std::string_view key, const CachedResponse& stored,
                          const CacheRoute& route, const RequestFacts& request,
                          std::span<const http::Header> not_modified, ExchangeTimes times);

}  // namespace portico::cache
