#include "proxy/CacheRefresh.h"

#include <spdlog/spdlog.h>

#include "cache/HttpDate.h"
#include "core/Worker.h"
#include "upstream/EndpointPool.h"
#include "upstream/WorkerUpstream.h"

namespace portico::proxy {

void CacheRefresh::start(core::Worker& worker, RefreshRequest request) {
  auto refresh = std::make_unique<CacheRefresh>(worker, std::move(request));
  CacheRefresh* r = refresh.release();  // owned by itself from here; see finish()
  worker.refresh_started(r);
  r->begin();
}

CacheRefresh::CacheRefresh(core::Worker& worker, RefreshRequest request)
    : worker_(worker), request_(std::move(request)) {
  const cache::CachedResponse& stored = *request_.stored;
  head_.append("GET ").append(request_.target).append(" HTTP/1.1\r\nHost: ");
  head_.append(request_.host).append("\r\n");
  // The fields the stored variant was selected by, so the upstream answers for the same
  // variant, and the new entry records the same values.
  // (Never a field Portico sets itself: such responses are not stored, CacheFill::begin.
  // Host is the key's, written above.)
  for (const cache::VaryField& f : stored.vary) {
    if (!f.value || f.name == "host") continue;
    head_.append(f.name).append(": ").append(*f.value).append("\r\n");
  }
  if (!stored.etag.empty()) head_.append("If-None-Match: ").append(stored.etag).append("\r\n");
  if (stored.last_modified) {
    cache::HttpDateText date;
    cache::format_http_date(*stored.last_modified, date);
    head_.append("If-Modified-Since: ").append(date.data(), date.size()).append("\r\n");
  }
  head_.append("\r\n");
  for (const cache::VaryField& f : stored.vary)
    if (f.value) vary_headers_.push_back({f.name, *f.value});
  // request_.host and target view the caller's buffer: from here only head_ is used.
  request_.host = request_.target = {};
}

void CacheRefresh::begin() {
  upstream::WorkerUpstream& pool = request_.runtime->upstream(request_.upstream);
  upstream::EndpointPool* endpoint = pool.pick(std::nullopt, -1, worker_.timers().now());
  if (!endpoint) return finish(false);
  request_ms_ = cache::unix_now_ms();
  bool fresh = false;
  up_ = endpoint->take_idle();
  if (!up_) {
    if (!pool.state().reserve_connection(endpoint->index())) return finish(false);
    fresh = true;
    // A new connection owns itself (see UpstreamConn.h).
    up_ = std::make_unique<upstream::UpstreamConn>(worker_, *endpoint).release();
  }
  endpoint->stats().requests.add();
  up_->attach(this, false, false);
  if (fresh)
    up_->connect();
  else
    on_upstream_connected();
}

void CacheRefresh::on_upstream_connected() {
  uv_buf_t b = uv_buf_init(head_.data(), unsigned(head_.size()));
  int rc = up_->send(&b, 1);
  if (rc < 0) return;  // on_upstream_failed has run
  if (rc == 1) up_->request_complete();
}

void CacheRefresh::on_upstream_request_flushed() {
  up_->request_complete();
}

void CacheRefresh::on_upstream_response(const upstream::ResponseHead* head, std::string_view body,
                                        bool complete, const core::BufRef&) {
  const cache::CacheRoute& route = *request_.route;
  cache::CacheStore& store = route.zone->store();
  if (head) {
    cache::ExchangeTimes times{request_ms_, cache::unix_now_ms()};
    if (head->status == 304) {
      cache::RequestFacts facts;
      facts.method = "GET";
      cache::store_refreshed(store, request_.key, *request_.stored, route, facts, head->headers,
                             times);
      return finish(complete);
    }
    cache::RequestFacts facts;
    facts.method = "GET";
    const char* why = fill_.begin(
        route, facts, vary_headers_, {head->status, head->reason, head->headers, head->chunked},
        times, request_.runtime->runtime().config().flags_header, request_.generation);
    if (why) {
      // Not storable now (an error, no-store): the stale entry stays until it expires.
      spdlog::debug("cache {}: background refresh of {}: {} not stored: {}", route.zone->name(),
                    request_.key, head->status, why);
      return finish(complete);
    }
  }
  fill_.add(body, store.limits().max_object_bytes);
  if (!fill_.active()) return finish(complete);
  if (complete) {
    fill_.finish(store, request_.key);
    finish(true);
  }
}

void CacheRefresh::on_upstream_failed(upstream::Failure, int uv_status) {
  spdlog::debug("cache {}: background refresh of {} failed: {}", request_.route->zone->name(),
                request_.key, uv_strerror(uv_status));
  up_ = nullptr;  // it closed itself
  finish(false);
}

void CacheRefresh::finish(bool clean) {
  if (up_) {
    if (clean)
      up_->release();  // back to the pool when it finished cleanly
    else
      up_->abort();
    up_ = nullptr;
  }
  request_.lease.release();
  worker_.refresh_ended(this);
  // Not dropped here: this may run inside a callback of that config's pools.
  worker_.release_later(std::move(request_.runtime));
  std::unique_ptr<CacheRefresh> owned(this);  // see start()
}

}  // namespace portico::proxy
