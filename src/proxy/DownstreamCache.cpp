// The cache phase of a client connection (RFC 9111): the lookup after the route's
// filters, answers from the store, revalidation, storing what the upstream sends while it
// streams to the client, and invalidation by unsafe methods. See proxy/CacheExchange.h.
#include <spdlog/spdlog.h>

#include "cache/CacheKey.h"
#include "cache/CachedHead.h"
#include "cache/HttpDate.h"
#include "cache/Validators.h"
#include "core/Worker.h"
#include "proxy/CacheRefresh.h"
#include "proxy/DownstreamConn.h"

namespace portico::proxy {

namespace {

using cache::CacheResult;
using Mode = CacheExchange::Mode;

bool safe_method(std::string_view m) {
  return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "TRACE";
}

}  // namespace

void CacheWaiter::fill_finished() {
  worker->post_cache_wakeup(id);
}

bool DownstreamConn::cache_lookup() {
  Exchange& ex = *ex_;
  CacheExchange& c = ex.cache;
  const cache::CacheRoute& route = *ex.filter.cache;
  c.route = &route;
  cache::CacheStore& store = route.zone->store();
  const char* base = in_.data();
  std::string_view host = ex.host_at.in(base);
  bool get = ex.method == "GET";
  if (!safe_method(ex.method)) {
    c.mode = host.empty() ? Mode::Bypass : Mode::Invalidate;
    cache::append_key(c.key, host, ex.target_at.in(base));
    c.host_len = uint32_t(host.size());
    return false;
  }
  // A GET with a body has no meaning a cache can rely on; without Host there is no key. A
  // request a filter sent to another pool than the route's (a canary, a breaker's
  // fallback) gets that pool's answer, which is not the route's to store or serve.
  bool other_pool = ex.filter.upstream >= 0 && ex.filter.upstream != ex.route->upstream;
  if ((!get && ex.method != "HEAD") || host.empty() || ex.has_body || other_pool) {
    c.mode = Mode::Bypass;
    return false;
  }
  const auto& headers = ex.head.headers();
  c.facts = cache::request_facts(ex.method, headers);
  c.facts.method = ex.method;  // the copy that outlives the read buffer
  if (c.facts.range) {
    c.mode = Mode::Bypass;
    return false;
  }
  cache::append_key(c.key, host, ex.target_at.in(base));
  c.host_len = uint32_t(host.size());
  int64_t now = cache::unix_now_ms();
  std::shared_ptr<const cache::CachedResponse> entry = store.find(c.key, headers);
  if (entry) {
    cache::ReuseDecision d = cache::decide_reuse(*entry, c.facts, now);
    switch (d.reuse) {
      case cache::Reuse::Fresh:
        cache_serve(std::move(entry), CacheResult::Hit, d.age);
        return true;
      case cache::Reuse::Stale:
        cache_serve(std::move(entry), CacheResult::Stale, d.age);
        return true;
      case cache::Reuse::StaleWhileRevalidate:
        cache_refresh_in_background(entry);
        cache_serve(std::move(entry), CacheResult::Stale, d.age);
        return true;
      case cache::Reuse::Revalidate:
        break;
    }
  }
  if (c.facts.cc.only_if_cached) {
    // RFC 9111 §5.2.1.7: nothing stored that may answer, and the upstream must not be asked.
    c.result = CacheResult::Miss;
    add_cache_status();
    respond_local(504, false);
    return true;
  }
  if (get && route.collapse_max_waiters > 0 && !c.woken) {
    // The waiter is complete before the store can see it: the leader may finish (and
    // tell it) on another thread the moment claim_fill returns.
    c.waiter.worker = &worker_;
    c.waiter.id = worker_.add_cache_waiter(this);
    switch (store.claim_fill(c.key, &c.waiter, route.collapse_max_waiters)) {
      case cache::CacheStore::Claim::Lead:
        worker_.remove_cache_waiter(c.waiter.id);
        c.lease = cache::FillLease(route.zone->store_ptr(), c.key);
        break;
      case cache::CacheStore::Claim::Wait:
        cache_wait();
        return true;
      case cache::CacheStore::Claim::Full:
        worker_.remove_cache_waiter(c.waiter.id);
        break;
    }
  }
  c.stored = std::move(entry);
  c.mode = Mode::Miss;
  if (c.stored && (!c.stored->etag.empty() || c.stored->last_modified)) {
    c.mode = Mode::Revalidate;
    // Our own validators replace the client's (DownstreamConn drops those), so a 304
    // refreshes the stored response whatever the client holds.
    if (!c.stored->etag.empty())
      c.upstream_lines.append("If-None-Match: ").append(c.stored->etag).append("\r\n");
    if (c.stored->last_modified) {
      cache::HttpDateText date;
      cache::format_http_date(*c.stored->last_modified, date);
      c.upstream_lines.append("If-Modified-Since: ")
          .append(date.data(), date.size())
          .append("\r\n");
    }
  }
  c.request_ms = now;
  c.generation = store.purge_generation(c.key);
  return false;
}

void DownstreamConn::cache_refresh_in_background(
    const std::shared_ptr<const cache::CachedResponse>& stale) {
  Exchange& ex = *ex_;
  CacheExchange& c = ex.cache;
  int upstream = ex.filter.upstream >= 0 ? ex.filter.upstream : ex.route->upstream;
  if (worker_.draining() || upstream < 0) return;
  // One refresh (or fill) per key at a time; nobody waits on a refresh.
  cache::CacheStore& store = c.route->zone->store();
  if (store.claim_fill(c.key, nullptr, 0) != cache::CacheStore::Claim::Lead) return;
  const config::Route& route = *ex.route->route;
  std::string_view host = std::string_view(c.key).substr(0, c.host_len);
  CacheRefresh::start(worker_, {.runtime = runtime_,
                                .route = c.route,
                                .upstream = upstream,
                                .key = c.key,
                                .host = route.host_rewrite ? *route.host_rewrite : host,
                                .target = std::string_view(c.key).substr(c.host_len),
                                .stored = stale,
                                .lease = cache::FillLease(c.route->zone->store_ptr(), c.key),
                                .generation = store.purge_generation(c.key)});
}

void DownstreamConn::cache_wait() {
  CacheExchange& c = ex_->cache;
  c.waiting = true;
  c.wait_timer.set_handler(this);
  c.wait_timer.set_tag(kCacheWaitTimeout);
  worker_.timers().list(c.route->collapse_timeout).arm(c.wait_timer);
  ex_->overhead_ns += uv_hrtime() - ex_->phase_ns;  // waiting is not Portico's own time
}

void DownstreamConn::cache_stop_waiting() {
  CacheExchange& c = ex_->cache;
  if (!c.waiting) return;
  c.waiting = false;
  c.woken = true;
  c.wait_timer.cancel();
  c.route->zone->store().cancel_wait(c.key, &c.waiter);
  worker_.remove_cache_waiter(c.waiter.id);
}

void DownstreamConn::cache_fill_finished() {
  // The store forgot this waiter when it told it; the worker forgot its id.
  if (!ex_ || closing_ || !ex_->cache.waiting) return;
  ex_->cache.waiting = false;
  ex_->cache.woken = true;
  ex_->cache.wait_timer.cancel();
  cache_resume();
}

void DownstreamConn::cache_resume() {
  Exchange& ex = *ex_;
  ex.phase_ns = uv_hrtime();
  // The read buffer may have moved while the request waited.
  ex.head.finish(in_.data());
  ex.conn.parse(ex.head.headers());
  fill_filter_context();
  forward_request();  // looks the key up again: stored now, or the upstream is asked
  pump();
}

void DownstreamConn::add_cache_status() {
  Exchange& ex = *ex_;
  const CacheExchange& c = ex.cache;
  c.route->zone->count(worker_.index(), c.result);
  if (!c.route->status_header.empty())
    ex.filter.add_response_header(c.route->status_header,
                                  cache::kCacheResultNames[size_t(c.result)]);
}

void DownstreamConn::cache_serve(std::shared_ptr<const cache::CachedResponse> entry,
                                 CacheResult result, int64_t age) {
  Exchange& ex = *ex_;
  CacheExchange& c = ex.cache;
  c.result = result;
  add_cache_status();
  // A client's own conditional request is answered from the stored validators.
  const auto& headers = ex.head.headers();
  const http::Header* inm = http::find_header(headers, "if-none-match");
  const http::Header* ims = http::find_header(headers, "if-modified-since");
  bool not_modified = false;
  if (inm || ims) {
    cache::StoredValidators v{entry->etag, entry->last_modified, entry->date};
    not_modified = entry->status == 200 &&
                   cache::evaluate_conditional(inm ? std::optional(inm->value) : std::nullopt,
                                               ims ? std::optional(ims->value) : std::nullopt,
                                               v) == cache::Precondition::NotModified;
  }
  int status = not_modified ? 304 : entry->status;
  ex.route->filters.run_response(ex.filter, status);
  // As a local answer, but an HTTP/1.0 client that asked to keep the connection may:
  // the head is built here anyway.
  if (!ex.keep_alive || worker_.draining() || (ex.expect_continue && !ex.request_complete))
    close_after_ = true;
  cache::write_cached_head(ex.response_head, {.stored = entry.get(),
                                              .not_modified = not_modified,
                                              .age = age,
                                              .added_lines = ex.filter.response_headers(),
                                              .close = close_after_,
                                              .keep_alive_http10 = ex.http10 && !close_after_});
  uv_buf_t bufs[2];
  unsigned n = 0;
  bufs[n++] = uv_buf_init(ex.response_head.data(), unsigned(ex.response_head.size()));
  bool bodyless = status < 200 || status == 204 || status == 304;
  if (!ex.head_request && !bodyless && entry->body && !entry->body->empty())
    bufs[n++] = uv_buf_init(const_cast<char*>(entry->body->data()), unsigned(entry->body->size()));
  c.serving = std::move(entry);  // its bytes stay alive until the write is done
  c.lease.release();
  ex.status = status;
  ex.response_started = ex.response_complete = true;
  ex.total_timer.cancel();
  if (!ex.request_complete && !close_after_) body_flowing_ = true;
  write_client(bufs, n, {});
}

bool DownstreamConn::cache_on_response_head(const upstream::ResponseHead& head, bool complete) {
  Exchange& ex = *ex_;
  CacheExchange& c = ex.cache;
  switch (c.mode) {
    case Mode::None:
      return false;
    case Mode::Bypass:
      c.result = CacheResult::Bypass;
      add_cache_status();
      return false;
    case Mode::Invalidate:
      c.result = CacheResult::Bypass;
      add_cache_status();
      if (head.status >= 200 && head.status < 400) cache_invalidate(head);
      return false;
    case Mode::Miss:
    case Mode::Revalidate:
      break;
  }
  cache::CacheStore& store = c.route->zone->store();
  int64_t now = cache::unix_now_ms();
  cache::ExchangeTimes times{c.request_ms, now};
  // The request's fields (for a client's conditionals, and Vary): the read buffer kept the
  // head (holds_head), but it may have moved since the views were made.
  ex.head.finish(in_.data());
  if (c.mode == Mode::Revalidate && head.status == 304) {
    cache::Refreshed r =
        cache::store_refreshed(store, c.key, *c.stored, *c.route, c.facts, head.headers, times);
    detach_upstream(!complete);
    end_attempt();
    if (r.why_not_stored)
      spdlog::debug("cache {}: revalidated {} {} not stored: {}", c.route->zone->name(), ex.method,
                    ex.target, r.why_not_stored);
    if (!r.entry) {
      // RFC 9111 §4.3.4: a 304 for a representation the cache does not hold updates
      // nothing, and it is no answer to a request without conditionals.
      spdlog::warn(
          "route {}: upstream {} answered the revalidation of {} with a 304 for another "
          "ETag; the stored response is dropped",
          ex.route->route->name, ex.endpoint->endpoint().address.text, ex.target);
      c.lease.release();
      c.result = CacheResult::Miss;
      add_cache_status();
      respond_local(502, false);
      return true;
    }
    int64_t age = cache::current_age(*r.entry, now);
    cache_serve(std::move(r.entry), CacheResult::Revalidated, age);
    return true;
  }
  bool server_error =
      head.status == 500 || head.status == 502 || head.status == 503 || head.status == 504;
  if (server_error && c.stored && cache::stale_if_error_allows(*c.stored, c.facts, now)) {
    detach_upstream(!complete);
    end_attempt();
    auto stale = std::move(c.stored);
    int64_t age = cache::current_age(*stale, now);
    cache_serve(std::move(stale), CacheResult::Stale, age);
    return true;
  }
  c.result = CacheResult::Miss;
  add_cache_status();
  // An HTTP/1.0 client's body comes de-chunked already (UpstreamConn::attach).
  const char* why =
      c.fill.begin(*c.route, c.facts, ex.head.headers(),
                   {head.status, head.reason, head.headers, head.chunked && !ex.http10}, times,
                   runtime_->runtime().config().flags_header, c.generation);
  c.stored.reset();
  c.mode = Mode::Bypass;  // the request head no longer needs keeping
  if (why) {
    spdlog::debug("cache {}: not storing {} {} ({}): {}", c.route->zone->name(), ex.method,
                  ex.target, head.status, why);
    c.lease.release();  // waiters go to the upstream themselves
  }
  return false;
}

void DownstreamConn::cache_on_body(std::string_view body, bool complete) {
  CacheExchange& c = ex_->cache;
  cache::CacheStore& store = c.route->zone->store();
  c.fill.add(body, store.limits().max_object_bytes);
  if (!c.fill.active()) {
    c.lease.release();  // abandoned: the waiters ask the upstream themselves
    return;
  }
  if (!complete) return;
  c.fill.finish(store, c.key);
  c.lease.release();  // after the insert: the waiters find the entry
}

void DownstreamConn::cache_invalidate(const upstream::ResponseHead& head) {
  Exchange& ex = *ex_;
  CacheExchange& c = ex.cache;
  cache::CacheStore& store = c.route->zone->store();
  store.purge(c.key);
  std::string_view host = std::string_view(c.key).substr(0, c.host_len);
  std::string other;
  for (std::string_view name : {"location", "content-location"}) {
    const http::Header* h = http::find_header(head.headers, name);
    if (h &&
        cache::key_of_reference(other, h->value, host, std::string_view(c.key).substr(c.host_len)))
      store.purge(other);
  }
}

bool DownstreamConn::cache_serve_stale_on_error() {
  Exchange& ex = *ex_;
  CacheExchange& c = ex.cache;
  if (!c.stored || ex.response_started) return false;
  int64_t now = cache::unix_now_ms();
  if (!cache::stale_if_error_allows(*c.stored, c.facts, now)) return false;
  ex.head.finish(in_.data());  // as in cache_on_response_head
  auto stale = std::move(c.stored);
  int64_t age = cache::current_age(*stale, now);
  cache_serve(std::move(stale), CacheResult::Stale, age);
  return true;
}

void DownstreamConn::cache_end() {
  if (!ex_) return;
  cache_stop_waiting();
  ex_->cache.reset();  // releases a lease (waking the waiters) and the pinned entries
}

}  // namespace portico::proxy
