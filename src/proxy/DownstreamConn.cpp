#include "proxy/DownstreamConn.h"

#include <arpa/inet.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <utility>

#include "core/TcpTransport.h"
#include "core/UvError.h"
#include "core/Worker.h"
#include "flags/FlagsHeader.h"
#include "http/HeadWriter.h"
#include "http/StatusText.h"
#include "http/TraceContext.h"
#include "proxy/RequestHeadCheck.h"
#include "router/Router.h"
#include "tls/TlsTransport.h"
#include "upstream/EndpointPool.h"
#include "upstream/HashKey.h"
#include "upstream/NameSlots.h"

namespace portico::proxy {

namespace {

constexpr std::string_view k100Continue = "HTTP/1.1 100 Continue\r\n\r\n";

bool idempotent(std::string_view m) {
  return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "TRACE" || m == "PUT" || m == "DELETE";
}

}  // namespace

void DownstreamConn::open(core::Worker& worker, std::shared_ptr<core::WorkerRuntime> runtime,
                          const core::CompiledListener& listener, int fd,
                          const sockaddr_storage& peer, core::ConnectionSlot slot) {
  auto conn = std::make_unique<DownstreamConn>(worker, std::move(runtime), listener, peer);
  conn->slot_ = std::move(slot);
  int rc = 0;
  if (listener.tls) {
    tls::SslPtr ssl = listener.tls->new_connection();
    if (!ssl) {
      spdlog::error("listener {}: cannot start TLS on an accepted connection: {}",
                    listener.config->name, tls::take_errors());
      ::close(fd);
      return;
    }
    auto t =
        std::make_unique<tls::TlsTransport>(worker.loop(), worker.buffers(), std::move(ssl), true);
    rc = t->open(fd);
    t->set_events(conn.get());
    conn->tls_ = t.get();
    conn->transport_ = std::move(t);
  } else {
    auto tcp = std::make_unique<core::TcpTransport>(worker.loop());
    rc = tcp->open(fd);
    tcp->set_events(conn.get());
    conn->transport_ = std::move(tcp);
  }
  // From here the connection is owned by its handle and freed in on_closed().
  DownstreamConn* c = conn.release();
  worker.connection_opened(c);
  c->listener_stats_->accepted.add();
  c->listener_stats_->open.add();
  if (rc != 0) {
    spdlog::warn("listener {}: cannot adopt accepted socket: {}", listener.config->name,
                 core::uv_error_text(rc));
    ::close(fd);
    c->close();
    return;
  }
  // A TLS client first has handshake_timeout to finish its handshake.
  c->arm_timer(c->tls_ ? kHandshakeTimeout : kHeaderTimeout);
  c->update_reading();
}

DownstreamConn::DownstreamConn(core::Worker& worker, std::shared_ptr<core::WorkerRuntime> runtime,
                               const core::CompiledListener& listener, const sockaddr_storage& peer)
    : worker_(worker),
      runtime_(std::move(runtime)),
      parser_(HTTP_REQUEST, this),
      timer_(this, kHeaderTimeout),
      send_timer_(this, kSendTimeout) {
  const char* ok = nullptr;
  if (peer.ss_family == AF_INET)
    ok = inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(peer).sin_addr, client_ip_,
                   sizeof client_ip_);
  else if (peer.ss_family == AF_INET6)
    ok = inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(peer).sin6_addr, client_ip_,
                   sizeof client_ip_);
  client_ip_len_ = ok ? uint8_t(strlen(client_ip_)) : 0;
  use_listener(listener);
}

void DownstreamConn::use_listener(const core::CompiledListener& listener) {
  listener_ = &listener;
  listener_stats_ = &runtime_->listener_stats(listener);
  header_timeouts_ = &worker_.timers().list(listener.config->limits.header_timeout);
  handshake_timeouts_ = listener.config->tls.enabled
                            ? &worker_.timers().list(listener.config->tls.handshake_timeout)
                            : header_timeouts_;
  idle_timeouts_ = &worker_.timers().list(listener.config->limits.idle_timeout);
}

const config::Limits& DownstreamConn::limits() const {
  return listener_->config->limits;
}

const core::CompiledListener* DownstreamConn::same_listener_in(const core::Runtime& rt) const {
  // The same name at the same address; otherwise the listener is gone (or renamed, which
  // changes its stats and routes as much): the connection drains.
  const core::CompiledListener* same = rt.listener(listener_->config->name);
  return same && upstream::same_address(same->config->address, listener_->config->address)
             ? same
             : nullptr;
}

void DownstreamConn::runtime_changed() {
  if (ex_) {
    // Busy: finish_exchange follows the new config; a connection whose listener is gone
    // ends with this response (and says so in it, if it has not started yet).
    if (!same_listener_in(worker_.runtime().runtime())) close_after_ = true;
    return;
  }
  if (follow_runtime() && timer_.armed()) arm_timer(timer_tag_);  // the new limits' list
}

bool DownstreamConn::follow_runtime() {
  const std::shared_ptr<core::WorkerRuntime>& current = worker_.current_runtime();
  if (runtime_ == current) return true;
  const core::CompiledListener* same = same_listener_in(current->runtime());
  if (!same) {
    close();
    return false;
  }
  worker_.release_later(std::exchange(runtime_, current));
  use_listener(*same);
  return true;
}

void DownstreamConn::arm_timer(Tag tag) {
  timer_tag_ = tag;
  timer_.set_tag(tag);
  core::DeadlineList* list = tag == kHeaderTimeout      ? header_timeouts_
                             : tag == kHandshakeTimeout ? handshake_timeouts_
                                                        : idle_timeouts_;
  list->arm(timer_);
}

// ---- reading and parsing ------------------------------------------------------------

uv_buf_t DownstreamConn::on_alloc() {
  if (in_ && end_ == in_.capacity()) {
    uint64_t max_head = limits().max_header_bytes;
    if (parsed_ == end_ && !head_in_progress() && !holds_head()) {
      in_.reset();
    } else if (head_in_progress() && in_.capacity() <= max_head) {
      // A head larger than the block: grow once to the largest head we accept (pieces
      // of the head are offsets, so they stay valid in the copy).
      in_ = worker_.buffers().retain(in_.data(), end_, uint32_t(max_head + 1024));
    } else {
      return uv_buf_init(nullptr, 0);  // the read reports UV_ENOBUFS
    }
  }
  if (!in_) {
    in_ = worker_.buffers().lend();
    parsed_ = end_ = 0;
  }
  return uv_buf_init(in_.data() + end_, in_.capacity() - end_);
}

bool DownstreamConn::head_in_progress() const {
  return ex_ && !body_flowing_ && pause_ == Pause::None && !failed_;
}

bool DownstreamConn::holds_head() const {
  // A paused filter and a request waiting for a cache fill resume from the head; a cache
  // miss needs the request's fields again for the stored response's Vary.
  return ex_ && (ex_->filter.paused() || ex_->cache.waiting ||
                 ex_->cache.mode == CacheExchange::Mode::Miss ||
                 ex_->cache.mode == CacheExchange::Mode::Revalidate);
}

void DownstreamConn::settle_buffer() {
  // Keep only what this connection still needs (a partial head, bytes not yet parsed)
  // in a block of its own, and hand the worker's read buffer back.
  if (!in_) return;
  bool head = head_in_progress();
  uint32_t keep_from = head || holds_head() ? 0 : parsed_;
  if (keep_from == end_ || failed_) {
    in_.reset();
    parsed_ = end_ = 0;
    return;
  }
  if (!worker_.buffers().is_lent(in_)) return;
  in_ = worker_.buffers().retain(in_.data() + keep_from, end_ - keep_from,
                                 head ? core::BufferPool::kSmallSize : 0);
  parsed_ -= keep_from;
  end_ -= keep_from;
}

void DownstreamConn::on_read(size_t n) {
  if (n == 0) {
    settle_buffer();
    return;
  }
  end_ += uint32_t(n);
  if (ex_) {
    ex_->bytes_in += n;
    if (timer_.armed() && timer_tag_ == kBodyTimeout) idle_timeouts_->arm(timer_);
  }
  pump();
}

void DownstreamConn::begin_request() {
  if (parsed_ > 0) {
    // Pipelined bytes left behind by the previous request: move them to the front so
    // the new head starts at offset 0 and has the whole block to grow into.
    uint32_t left = end_ - parsed_;
    if (in_.unique())
      std::memmove(in_.data(), in_.data() + parsed_, left);
    else
      in_ = worker_.buffers().retain(in_.data() + parsed_, left);
    parsed_ = 0;
    end_ = left;
  }
  ex_ = worker_.take_exchange();
  ex_->reset();
  ex_->filter.reset(this);
  parser_.start_message(&ex_->head);
  parser_.set_max_headers(limits().max_headers);
  // uv_hrtime is clock_gettime through the vDSO: no system call, microsecond-true durations
  // in the access log (the loop clock only has milliseconds).
  ex_->start_ns = uv_hrtime();
  ex_->bytes_in = end_;
  body_flowing_ = false;
  parse_error_status_ = 0;
  // The head's deadline runs from the request's first byte, or from accept for the
  // first request (already armed then).
  if (!(timer_.armed() && timer_tag_ == kHeaderTimeout)) arm_timer(kHeaderTimeout);
}

void DownstreamConn::pump() {
  if (in_pump_) {
    pump_again_ = true;
    return;
  }
  in_pump_ = true;
  do {
    pump_again_ = false;
    pump_once();
  } while (pump_again_ && !closing_);
  in_pump_ = false;
  update_reading();
}

void DownstreamConn::pump_once() {
  uint32_t body_from = 0, body_to = 0;
  while (!closing_ && !failed_) {
    if (pause_ == Pause::HeadDone) {
      if (!body_flowing_) break;  // waiting for the upstream connection
      pause_ = Pause::None;
      parser_.continue_after_head();
    } else if (pause_ == Pause::MessageDone) {
      if (ex_) break;  // the next request waits until this response is out
      pause_ = Pause::None;
      parser_.continue_after_message();
    }
    if ((parsed_ == end_ && !parser_.must_run()) || upstream_write_pending_) break;
    if (!ex_) begin_request();
    bool in_body = body_flowing_;
    auto [stop, used] = parser_.execute(in_ ? in_.data() : nullptr, parsed_, end_);
    if (in_body) {
      if (body_to != parsed_) body_from = parsed_;  // first body slice of this pass
      body_to = parsed_ + used;
    }
    parsed_ += used;
    switch (stop) {
      case http::MessageParser::Stop::Head:
        pause_ = Pause::HeadDone;
        // A body still to come gets an inactivity deadline; none otherwise.
        if ((parser_.raw().flags & F_CHUNKED) || parser_.raw().content_length > 0)
          arm_timer(kBodyTimeout);
        else
          timer_.cancel();
        if (parsed_ > limits().max_header_bytes) {
          reject(431, "request head larger than max_header_bytes");
          return;
        }
        on_request_head();
        break;
      case http::MessageParser::Stop::Message:
        pause_ = Pause::MessageDone;
        ex_->request_complete = true;
        timer_.cancel();
        if (body_to > body_from) {
          flush_upstream(body_from, body_to);
          body_from = body_to = 0;
        }
        maybe_finish_exchange();
        break;
      case http::MessageParser::Stop::Error:
        if (parser_.too_many_headers())
          reject(431, "request head has more header fields than max_headers");
        else
          reject(parse_error_status_ ? parse_error_status_ : 400, parser_.error_reason());
        return;
      case http::MessageParser::Stop::NeedMore:
        if (!body_flowing_ && ex_ && parsed_ > limits().max_header_bytes) {
          reject(431, "request head larger than max_header_bytes");
          return;
        }
        break;
    }
  }
  if (!closing_ && !failed_) flush_upstream(body_from, body_to);
  settle_buffer();
}

void DownstreamConn::update_reading() {
  if (closing_) return;
  bool full = in_ && end_ == in_.capacity() && (parsed_ < end_ || holds_head()) &&
              !(head_in_progress() && in_.capacity() <= limits().max_header_bytes);
  bool want = !upstream_write_pending_ && !failed_ && !full;
  if (want && !reading_) {
    reading_ = transport_->read_start() == 0;
  } else if (!want && reading_) {
    transport_->read_stop();
    reading_ = false;
  }
}

bool DownstreamConn::on_body_data(const char*, size_t n) {
  ex_->body_bytes += n;
  uint64_t max = limits().max_body_bytes;
  if (max && ex_->body_bytes > max) {
    parse_error_status_ = 413;
    parser_.set_error_reason("request body larger than max_body_bytes");
    return false;
  }
  return true;
}

// ---- the request head: validate, route, dispatch ------------------------------------

void DownstreamConn::on_request_head() {
  uint64_t head_ns = uv_hrtime();  // for the proxy-overhead histogram
  Exchange& ex = *ex_;
  char* base = in_.data();
  ex.head.unfold(base);
  ex.head.finish(base);
  const auto& headers = ex.head.headers();
  std::string_view method = ex.head.method(base);
  std::string_view raw_target = ex.head.target(base);
  ex.method.assign(method);
  ex.target.assign(raw_target);
  ex.http10 = parser_.raw().http_minor == 0;
  ex.head_request = method == "HEAD";
  ex.conn.parse(headers);
  if (ex.conn.too_many()) return reject(400, "too many Connection header tokens");
  ex.keep_alive = ex.http10 ? ex.conn.keep_alive() : !ex.conn.close();
  ex.has_body = (parser_.raw().flags & F_CHUNKED) || parser_.raw().content_length > 0;

  CheckedRequestHead checked = check_request_head(method, raw_target, headers, parser_.raw(),
                                                  ex.has_body, limits().max_body_bytes);
  std::string_view host = checked.host;
  std::string_view target = checked.target;
  if (!target.empty()) {
    // Kept as offsets: a filter may pause the request, and the buffer move meanwhile.
    if (!host.empty()) ex.host_at = {uint32_t(host.data() - base), uint32_t(host.size())};
    ex.target_at = {uint32_t(target.data() - base), uint32_t(target.size())};
  }
  ex.expect_continue = checked.expect_continue;
  if (checked.status) return reject(checked.status, checked.why);

  if (const http::Header* id = http::find_header(headers, "x-request-id")) {
    ex.request_id_len = std::min(id->value.size(), ex.request_id.size());
    std::memcpy(ex.request_id.data(), id->value.data(), ex.request_id_len);
  }
  // W3C Trace Context: one valid traceparent is continued with a new parent id for this
  // hop (so a locally answered request still logs the client's trace id); several, or an
  // invalid one, count as none: a new trace starts below and the tracestate is dropped.
  http::IncomingTraceparent incoming;
  bool trace_continued =
      checked.traceparent && http::parse_traceparent(checked.traceparent->value, incoming);
  if (trace_continued) {
    http::write_traceparent(ex.traceparent, &incoming, worker_.trace_ids());
    ex.has_traceparent = true;
  }

  size_t q = target.find('?');
  router::RequestView view{method, target.substr(0, q),
                           q == std::string_view::npos ? std::string_view{} : target.substr(q + 1),
                           host, headers};
  // Flags are decided on demand: by the router for routes that match on them, then all of
  // them for the upstream header.
  ex.flags.start(&runtime_->runtime().flags(), runtime_->flag_stats());
  ex.flags.bind({view.path, std::string_view(client_ip_, client_ip_len_), headers});
  view.flags = &ex.flags;
  const config::Route* route = listener_->router->match(view, worker_.match_scratch());
  if (!route) {
    respond_local(404, false);
    return;
  }
  ex.route = listener_->route_for(route);
  ex.trace_continued = trace_continued;
  ex.phase_ns = head_ns;
  if (ex.route->filters.empty()) return forward_request();
  fill_filter_context();
  after_request_filters(ex.route->filters.run_request(ex.filter));
}

void DownstreamConn::fill_filter_context() {
  Exchange& ex = *ex_;
  const char* base = in_.data();
  filters::FilterContext& f = ex.filter;
  f.method = ex.head.method(base);
  std::string_view target = ex.target_at.in(base);
  size_t q = target.find('?');
  f.path = target.substr(0, q);
  f.query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  f.host = ex.host_at.in(base);
  f.client_ip = std::string_view(client_ip_, client_ip_len_);
  f.headers = ex.head.headers();
  f.listener = listener_->config->name;
  f.route = ex.route->route->name;
  f.now_ns = ex.phase_ns;  // read when this stretch of work began
  f.route_stats = &runtime_->route_stats(*listener_, ex.route);
  f.services = &worker_;
}

void DownstreamConn::after_request_filters(filters::Verdict verdict) {
  Exchange& ex = *ex_;
  switch (verdict) {
    case filters::Verdict::Continue:
      forward_request();
      break;
    case filters::Verdict::Respond:
      respond_local(ex.filter.local_status(), false, ex.filter.local_body());
      break;
    case filters::Verdict::Pause:
      ex.overhead_ns += uv_hrtime() - ex.phase_ns;  // waiting is not Portico's own time
      break;
  }
}

void DownstreamConn::resume_filters(filters::Verdict verdict) {
  // Answered meanwhile (a 408, a 413) or closing: the pause was cancelled then.
  if (!ex_ || closing_ || failed_ || ex_->response_started || !ex_->filter.paused()) return;
  Exchange& ex = *ex_;
  ex.phase_ns = uv_hrtime();
  // The buffer may have moved while the filter waited: every view into it is rebuilt.
  ex.head.finish(in_.data());
  ex.conn.parse(ex.head.headers());
  fill_filter_context();
  after_request_filters(ex.route->filters.resume(ex.filter, verdict));
  pump();
}

void DownstreamConn::respond_route() {
  Exchange& ex = *ex_;
  const config::Respond& respond = *ex.route->route->respond;
  ex.route->filters.run_response(ex.filter, respond.status);
  bool close = close_after_ || must_close_after_local_answer();
  if (ex.filter.response_headers().empty()) {
    respond_prebuilt(ex.route->respond[close][ex.head_request], respond.status);
    return;
  }
  http::write_local_response(ex.response_head, respond.status, ex.route->respond_headers,
                             respond.body, close, ex.head_request, ex.filter.response_headers());
  respond_prebuilt(ex.response_head, respond.status);
}

void DownstreamConn::forward_request() {
  Exchange& ex = *ex_;
  const config::Route* route = ex.route->route;
  if (route->respond) return respond_route();
  if (ex.filter.cache && cache_lookup()) return;
  char* base = in_.data();
  const auto& headers = ex.head.headers();
  std::string_view method = ex.head.method(base);
  std::string_view target = ex.target_at.in(base);
  std::string_view host = ex.host_at.in(base);
  bool trace_continued = ex.trace_continued;

  std::array<char, 36> generated;
  std::string_view new_id;
  if (ex.request_id_len == 0) {
    new_id = worker_.request_ids().next(generated);
    std::memcpy(ex.request_id.data(), new_id.data(), new_id.size());
    ex.request_id_len = new_id.size();
  }
  if (!ex.has_traceparent) {
    http::write_traceparent(ex.traceparent, nullptr, worker_.trace_ids());
    ex.has_traceparent = true;
  }
  // A filter may have chosen another pool (a breaker's fallback).
  ex.pool = &runtime_->upstream(ex.filter.upstream >= 0 ? ex.filter.upstream : ex.route->upstream);
  ex.pool->state().request_started();
  ex.counted_active = true;
  ex.hash = upstream::request_hash(
      ex.pool->config().hash_key,
      {target.substr(0, target.find('?')), std::string_view(client_ip_, client_ip_len_), headers});
  if (core::DeadlineList* total = ex.pool->total_timeouts()) {
    ex.total_timer.set_handler(this);
    ex.total_timer.set_tag(kTotalTimeout);
    total->arm(ex.total_timer);
  }
  // No endpoint while every healthy one is full: the request queues (below).
  if (!choose_endpoint(-1) && !ex.pool->full()) return respond_unavailable("no healthy endpoint");
  // An HTTP/1.0 request without Host gets the endpoint's address, or while it waits for
  // one, the upstream's name (nginx's $proxy_host).
  std::string_view send_host = route->host_rewrite ? std::string_view(*route->host_rewrite)
                               : !host.empty()     ? host
                               : ex.endpoint
                                   ? std::string_view(ex.endpoint->endpoint().address.text)
                                   : std::string_view(ex.pool->config().name);
  // The client's own flags header is always dropped, under the default name and the
  // configured one, flags or not: backends trust it.
  const config::Config& config = runtime_->runtime().config();
  std::string_view flags_header = config.flags_header;
  if (!flags_header.empty() && ex.flags.size() > 0) {
    // Views again: a filter's pause may have moved the read buffer.
    ex.flags.bind({target.substr(0, target.find('?')), std::string_view(client_ip_, client_ip_len_),
                   headers});
    flags::write_flags_header(ex.flags_line, flags_header, runtime_->runtime().flags(),
                              ex.flags.all());
  }
  // A miss asks for the whole response (it is stored), a revalidation with the stored
  // validators: the client's own conditionals are answered by the cache.
  bool cache_fetch = ex.cache.mode == CacheExchange::Mode::Miss ||
                     ex.cache.mode == CacheExchange::Mode::Revalidate;
  std::string_view added_lines = ex.flags_line;
  if (!ex.cache.upstream_lines.empty()) {
    ex.cache.upstream_lines.insert(0, ex.flags_line);
    added_lines = ex.cache.upstream_lines;
  }
  http::UpstreamRequest req{
      .method = method,
      .target = target,
      .host = send_host,
      .original_host = host,
      .client_ip = std::string_view(client_ip_, client_ip_len_),
      .request_id = new_id,
      .traceparent = {ex.traceparent.data(), ex.traceparent.size()},
      .drop_tracestate = !trace_continued,
      .drop_headers = {config::Config::kDefaultFlagsHeader, flags_header,
                       cache_fetch ? "if-none-match" : "", cache_fetch ? "if-modified-since" : ""},
      .drop_more = runtime_->runtime().subject_headers(),
      .connection_lines = client_cert_line(),
      .added_lines = added_lines,
      .tls = tls_ != nullptr};
  http::write_upstream_request_head(ex.upstream_head, req, headers, ex.conn);
  // Portico's own time: validating, routing, filters, picking and building the upstream head.
  ex.overhead_ns += uv_hrtime() - ex.phase_ns;
  if (ex.endpoint)
    connect_upstream(false);
  else
    wait_for_connection();
}

// ---- upstream attempts -------------------------------------------------------------

bool DownstreamConn::choose_endpoint(int avoid) {
  Exchange& ex = *ex_;
  end_attempt();
  ex.endpoint = ex.pool->pick(ex.hash, avoid, worker_.timers().now());
  if (!ex.endpoint) return false;
  ex.endpoint->health().outstanding.fetch_add(1, std::memory_order_relaxed);
  ex.counted_outstanding = true;
  ++ex.attempts;
  return true;
}

void DownstreamConn::end_attempt() {
  Exchange& ex = *ex_;
  if (ex.counted_outstanding) {
    ex.endpoint->health().outstanding.fetch_sub(1, std::memory_order_relaxed);
    ex.counted_outstanding = false;
  }
}

void DownstreamConn::detach_upstream(bool abort) {
  Exchange& ex = *ex_;
  if (ex.up) {
    if (abort)
      ex.up->abort();
    else
      ex.up->release();  // back to the pool if it finished cleanly, else closed
    ex.up = nullptr;
  }
  // A write queued on that connection is cancelled with it (and reports nothing).
  upstream_write_pending_ = false;
  upstream_pin_.reset();
  upstream_paused_ = false;
}

void DownstreamConn::release_upstream_accounting() {
  Exchange& ex = *ex_;
  if (!ex.pool) return;
  ex.pool->dequeue(this);
  ex.queue_timer.cancel();
  ex.total_timer.cancel();
  end_attempt();
  if (ex.holds_retry) ex.pool->state().end_retry();
  if (ex.counted_active) ex.pool->state().request_ended();
  ex.holds_retry = ex.counted_active = false;
}

void DownstreamConn::connect_upstream(bool fresh_only) {
  Exchange& ex = *ex_;
  ex.head_sent_upstream = ex.up_request_done = false;
  bool fresh = false;
  if (upstream::UpstreamConn* c = acquire_connection(fresh_only, fresh))
    start_attempt(c, fresh);
  else
    wait_for_connection();
}

// An idle connection to the chosen endpoint first; else a new one if the endpoint is
// under max_connections; else another endpoint. nullptr: every usable endpoint is full.
upstream::UpstreamConn* DownstreamConn::acquire_connection(bool fresh_only, bool& fresh) {
  Exchange& ex = *ex_;
  for (size_t tries = 0; ex.endpoint && tries <= ex.pool->size(); ++tries) {
    if (!fresh_only) {
      bool replayable = !ex.has_body && idempotent(ex.method);
      if (upstream::UpstreamConn* c = ex.endpoint->take_idle(!replayable)) {
        fresh = false;
        return c;
      }
    }
    size_t i = ex.endpoint->index();
    if (ex.pool->state().reserve_connection(i)) {
      fresh = true;
      // A new connection owns itself from here (see UpstreamConn.h).
      return std::make_unique<upstream::UpstreamConn>(worker_, *ex.endpoint).release();
    }
    --ex.attempts;  // not an attempt: the endpoint was full
    if (!choose_endpoint(int(i)) || ex.endpoint->index() == i) break;
  }
  return nullptr;
}

void DownstreamConn::start_attempt(upstream::UpstreamConn* c, bool fresh) {
  Exchange& ex = *ex_;
  ex.up = c;
  ex.endpoint->stats().requests.add();
  c->attach(this, ex.head_request, ex.http10);
  if (fresh)
    c->connect();
  else
    on_upstream_connected();
}

// Every usable endpoint is at max_connections: wait in the pool's queue, within
// max_pending and for at most timeouts.queue, as HAProxy's server queues do.
void DownstreamConn::wait_for_connection() {
  Exchange& ex = *ex_;
  if (ex.endpoint) {  // picked, but it had no room after all: no attempt started
    end_attempt();
    --ex.attempts;
    ex.endpoint = nullptr;
  }
  if (!ex.pool->enqueue(this)) {
    ex.pool->state().overflows_total().fetch_add(1, std::memory_order_relaxed);
    respond_unavailable("every endpoint is at max_connections and max_pending requests wait", true);
    return;
  }
  spdlog::debug("route {}: {} {} waits for a connection (every endpoint at max_connections)",
                ex.route->route->name, ex.method, ex.target);
  ex.queue_timer.set_handler(this);
  ex.queue_timer.set_tag(kQueueTimeout);
  ex.pool->queue_timeouts().arm(ex.queue_timer);
}

bool DownstreamConn::on_connection_slot() {
  Exchange& ex = *ex_;
  if (!choose_endpoint(ex.avoid)) return false;
  bool fresh = false;
  upstream::UpstreamConn* c = acquire_connection(false, fresh);
  if (!c) {
    if (ex.endpoint) {
      end_attempt();
      --ex.attempts;
      ex.endpoint = nullptr;
    }
    return false;
  }
  ex.pool->dequeue(this);
  ex.queue_timer.cancel();
  start_attempt(c, fresh);
  return true;
}

// Whether the request can go to another attempt after a failure of kind `on`.
bool DownstreamConn::can_retry(uint32_t on, bool refused) {
  Exchange& ex = *ex_;
  const config::Retries& r = ex.pool->config().retries;
  if (ex.attempts >= r.attempts || !(r.on & on) || ex.response_started) return false;
  // A body can be replayed only while none of it has been read from the client.
  if (ex.body_sent_upstream || (ex.has_body && pause_ != Pause::HeadDone)) return false;
  // A request that reached the upstream may have had effects: only idempotent ones again.
  if (on != config::Retries::kConnectFailure && !idempotent(ex.method)) return false;
  if (refused) return ex.pool->state().refused_retry_allowed();
  if (!ex.holds_retry) {
    if (!ex.pool->state().try_start_retry()) return false;
    ex.holds_retry = true;
  }
  return true;
}

void DownstreamConn::retry() {
  Exchange& ex = *ex_;
  int previous = int(ex.endpoint->index());
  ex.avoid = previous;
  if (!choose_endpoint(previous)) {
    if (!ex.pool->full()) return respond_unavailable("no healthy endpoint to retry on");
    ex.head_sent_upstream = ex.up_request_done = false;
    return wait_for_connection();
  }
  spdlog::debug("route {}: retrying {} {} on {} (attempt {})", ex.route->route->name, ex.method,
                ex.target, ex.endpoint->endpoint().address.text, ex.attempts);
  connect_upstream(false);
}

void DownstreamConn::respond_unavailable(const char* why, bool overloaded) {
  Exchange& ex = *ex_;
  spdlog::warn("route {}: 503 for {} {}: {}", ex.route->route->name, ex.method, ex.target, why);
  // As Envoy's x-envoy-overloaded: the pool's limits, not its health, refused the request.
  if (overloaded) ex.filter.add_response_header("x-portico-overloaded", "true");
  if (ex.filter.outcome.kind == filters::UpstreamOutcome::Kind::None)
    ex.filter.outcome = {filters::UpstreamOutcome::Kind::Unavailable, 503};
  end_attempt();
  respond_upstream_failure(503);
}

void DownstreamConn::respond_upstream_failure(int status) {
  Exchange& ex = *ex_;
  // stale-if-error: a stored response may answer instead (DownstreamCache.cpp).
  if (!cache_serve_stale_on_error())
    respond_local(status, ex.has_body && !ex.request_complete);  // closes if a body still comes
  pump();  // a bodiless request completes (and the exchange ends) once parsing resumes
}

// ---- relaying ----------------------------------------------------------------------

void DownstreamConn::on_upstream_connected() {
  if (!ex_) return;
  if (ex_->expect_continue && !ex_->request_complete && !ex_->response_started) {
    uv_buf_t b = uv_buf_init(const_cast<char*>(k100Continue.data()), unsigned(k100Continue.size()));
    write_client(&b, 1, {});
  }
  body_flowing_ = true;
  pump();
}

void DownstreamConn::flush_upstream(uint32_t body_from, uint32_t body_to) {
  if (!ex_ || !ex_->up || !ex_->up->connected() || !body_flowing_ || upstream_write_pending_)
    return;
  uv_buf_t bufs[2];
  unsigned n = 0;
  if (!ex_->head_sent_upstream) {
    bufs[n++] = uv_buf_init(ex_->upstream_head.data(), unsigned(ex_->upstream_head.size()));
    ex_->head_sent_upstream = true;
  }
  if (body_to > body_from) {
    bufs[n++] = uv_buf_init(in_.data() + body_from, body_to - body_from);
    ex_->body_sent_upstream = true;
  }
  if (n > 0) {
    int rc = ex_->up->send(bufs, n);
    if (rc < 0) return;  // on_upstream_failed has run
    if (rc == 0) {
      upstream_write_pending_ = true;
      upstream_pin_ = in_;
      // Portico stops reading the client meanwhile: the client is not the one stalling.
      if (timer_tag_ == kBodyTimeout) timer_.cancel();
      return;
    }
  }
  if (ex_->request_complete && !ex_->up_request_done) {
    ex_->up_request_done = true;
    ex_->up->request_complete();
  }
}

void DownstreamConn::on_upstream_request_flushed() {
  upstream_write_pending_ = false;
  upstream_pin_.reset();
  if (ex_ && timer_tag_ == kBodyTimeout && !ex_->request_complete) arm_timer(kBodyTimeout);
  if (ex_ && ex_->up && ex_->request_complete && !ex_->up_request_done) {
    ex_->up_request_done = true;
    ex_->up->request_complete();
  }
  pump();
}

void DownstreamConn::on_upstream_response(const upstream::ResponseHead* head, std::string_view body,
                                          bool complete, const core::BufRef& pin) {
  if (!ex_) return;
  Exchange& ex = *ex_;
  uv_buf_t bufs[2];
  unsigned n = 0;
  uint64_t head_ns = 0;  // for the proxy-overhead histogram
  if (head) {
    head_ns = uv_hrtime();
    int st = head->status;
    bool gateway = st == 502 || st == 503 || st == 504;
    ex.pool->state().record(ex.endpoint->index(),
                            gateway     ? upstream::Outcome::GatewayFailure
                            : st >= 500 ? upstream::Outcome::Status5xx
                                        : upstream::Outcome::Success,
                            worker_.timers().now());
    // The breaker judges this attempt, even if a retry follows that never gets an answer.
    ex.filter.outcome = {filters::UpstreamOutcome::Kind::Response, st};
    uint32_t on = st == 502   ? uint32_t(config::Retries::k502)
                  : st == 503 ? uint32_t(config::Retries::k503)
                  : st == 504 ? uint32_t(config::Retries::k504)
                              : 0u;
    if (on && can_retry(on)) {
      // This answer is dropped with its connection; another endpoint gets the request.
      detach_upstream(true);
      retry();
      return;
    }
    ex.status = head->status;
    ex.response_started = true;
    bool close = close_after_ || !ex.keep_alive || worker_.draining();
    bool dechunk = false;
    if (head->has_body && !head->chunked && !head->has_content_length) close = true;
    if (head->has_body && head->chunked && ex.http10) dechunk = close = true;
    close_after_ = close;
    const http::ConnectionTokens& tokens = head->connection;
    if (tokens.too_many()) {
      spdlog::warn("route {}: upstream {} sent too many Connection tokens", ex.route->route->name,
                   ex.endpoint->endpoint().address.text);
      detach_upstream(true);
      end_attempt();
      respond_local(502, ex.has_body && !ex.request_complete);
      pump();
      return;
    }
    if (ex.filter.cache && cache_on_response_head(*head, complete)) {
      pump();
      return;
    }
    ex.route->filters.run_response(ex.filter, head->status);
    http::ClientResponse r{head->status,        head->reason, close,
                           ex.http10 && !close, dechunk,      ex.filter.response_headers()};
    http::write_client_response_head(ex.response_head, r, head->headers, tokens);
    bufs[n++] = uv_buf_init(ex.response_head.data(), unsigned(ex.response_head.size()));
  }
  if (!body.empty()) {
    bufs[n++] = uv_buf_init(const_cast<char*>(body.data()), unsigned(body.size()));
    if (!ex.route->filters.empty()) ex.route->filters.run_body(ex.filter, body);
  }
  if (ex.cache.fill.active()) cache_on_body(body, complete);
  if (complete) {
    ex.response_complete = true;
    ex.total_timer.cancel();
  }
  if (head_ns) ex.overhead_ns += uv_hrtime() - head_ns;
  if (n > 0)
    write_client(bufs, n, pin);
  else
    maybe_finish_exchange();
}

void DownstreamConn::on_upstream_failed(upstream::Failure failure, int uv_status) {
  if (!ex_) return;
  Exchange& ex = *ex_;
  bool reused = ex.up && ex.up->reused();
  ex.up = nullptr;  // it closed itself
  detach_upstream(false);
  const char* what = failure == upstream::Failure::Connect           ? "connect failed"
                     : failure == upstream::Failure::ConnectTimeout  ? "connect timed out"
                     : failure == upstream::Failure::ResponseTimeout ? "response timed out"
                     : failure == upstream::Failure::BadResponse     ? "invalid response"
                                                                     : "connection reset";
  using K = filters::UpstreamOutcome::Kind;
  ex.filter.outcome.kind =
      failure == upstream::Failure::Connect || failure == upstream::Failure::ConnectTimeout
          ? K::ConnectFailure
      : failure == upstream::Failure::ResponseTimeout ? K::Timeout
      : failure == upstream::Failure::BadResponse     ? K::BadResponse
                                                      : K::Reset;
  if (ex.response_started) {
    spdlog::warn("route {}: upstream {} failed mid-response ({}: {}); closing client {}",
                 ex.route->route->name, ex.endpoint->endpoint().address.text, what,
                 core::uv_error_text(uv_status), std::string_view(client_ip_, client_ip_len_));
    abort();
    return;
  }
  // A keep-alive connection the upstream closed just as we reused it: the request never
  // reached it, so one more try on a fresh connection is safe for a bodiless request
  // (and is no retry: the endpoint did nothing wrong).
  if (failure == upstream::Failure::Reset && reused && !ex.retried && !ex.has_body &&
      idempotent(ex.method)) {
    ex.retried = true;
    connect_upstream(true);
    return;
  }
  ex.pool->state().record(ex.endpoint->index(), upstream::Outcome::GatewayFailure,
                          worker_.timers().now());
  using R = config::Retries;
  uint32_t on =
      failure == upstream::Failure::Connect || failure == upstream::Failure::ConnectTimeout
          ? R::kConnectFailure
      : failure == upstream::Failure::ResponseTimeout ? R::kTimeout
      : failure == upstream::Failure::BadResponse     ? R::k502
                                                      : R::kReset;
  // A failed TLS handshake was logged by the connection, with its reason: one line per
  // attempt is enough ("protocol error" would add nothing).
  bool logged_tls_failure =
      failure == upstream::Failure::Connect && uv_status == UV_EPROTO && ex.pool->tls();
  if (!logged_tls_failure)
    spdlog::warn("route {}: upstream {} {} ({}) for {} {}", ex.route->route->name,
                 ex.endpoint->endpoint().address.text, what, core::uv_error_text(uv_status),
                 ex.method, ex.target);
  // A refused connection (an endpoint restarting, say) is retried outside the budget: a
  // burst of them is what a graceful restart looks like, and they cost the endpoint nothing.
  if (can_retry(on, failure == upstream::Failure::Connect && uv_status == UV_ECONNREFUSED)) {
    retry();
    return;
  }
  bool timeout =
      failure == upstream::Failure::ConnectTimeout || failure == upstream::Failure::ResponseTimeout;
  end_attempt();
  respond_upstream_failure(timeout ? 504 : 502);
}

// ---- answering ---------------------------------------------------------------------

// A client that sent Expect: 100-continue and got a final answer instead may send its
// body or may not: reading on would mistake one for the other, so such a connection closes.
bool DownstreamConn::must_close_after_local_answer() const {
  const Exchange& ex = *ex_;
  // HTTP/1.0 keep-alive would need a Connection: keep-alive in the prebuilt answers;
  // closing is simpler and such clients are rare.
  return !ex.keep_alive || ex.http10 || worker_.draining() ||
         (ex.expect_continue && !ex.request_complete);
}

void DownstreamConn::respond_local(int status, bool close, std::string_view body) {
  Exchange& ex = *ex_;
  cache_stop_waiting();  // answered meanwhile (a 408)
  if (close || must_close_after_local_answer()) close_after_ = true;
  std::string text;
  if (body.empty()) {
    std::string_view reason = http::status_text(status);
    text.reserve(reason.size() + 1);
    text.append(reason).append("\n");
    body = text;
  }
  if (ex.route) {
    ex.route->filters.cancel_pause(ex.filter);  // answered without it (a 408, a 413)
    ex.route->filters.run_response(ex.filter, status);
  }
  http::write_local_response(ex.response_head, status, {}, body, close_after_, ex.head_request,
                             ex.filter.response_headers());
  ex.status = status;
  ex.response_started = ex.response_complete = true;
  ex.total_timer.cancel();
  // The rest of the request's body is read and dropped, unless the connection closes.
  if (!ex.request_complete && !close_after_) body_flowing_ = true;
  uv_buf_t b = uv_buf_init(ex.response_head.data(), unsigned(ex.response_head.size()));
  write_client(&b, 1, {});
}

void DownstreamConn::respond_prebuilt(const std::string& bytes, int status) {
  Exchange& ex = *ex_;
  if (must_close_after_local_answer()) close_after_ = true;
  ex.status = status;
  ex.response_started = ex.response_complete = true;
  if (!ex.request_complete && !close_after_) body_flowing_ = true;
  uv_buf_t b = uv_buf_init(const_cast<char*>(bytes.data()), unsigned(bytes.size()));
  write_client(&b, 1, {});
}

void DownstreamConn::reject(int status, const char* why) {
  failed_ = true;  // the parser's state is no longer trustworthy: no more requests
  close_after_ = true;
  if (!ex_) begin_request();
  spdlog::info("listener {}: client {}: {} {}: {}", listener_->config->name,
               std::string_view(client_ip_, client_ip_len_), status, http::status_text(status),
               why);
  detach_upstream(true);
  if (ex_->response_started) {
    abort();
    return;
  }
  respond_local(status, true);
}

void DownstreamConn::write_client(const uv_buf_t* bufs, unsigned count, const core::BufRef& pin) {
  if (closing_) return;
  if (client_write_pending_) {
    // Only an interim 100 Continue can still be queued here, and only if the client
    // stopped reading; there is no way to order another write behind it.
    abort();
    return;
  }
  for (unsigned i = 0; i < count; ++i) ex_->bytes_out += bufs[i].len;
  int rc = transport_->write(bufs, count);
  if (rc < 0) {
    abort();
    return;
  }
  if (rc == 0) {
    client_write_pending_ = true;
    client_pin_ = pin;
    idle_timeouts_->arm(send_timer_);  // a client that stops reading is dropped
    if (ex_->up && !upstream_paused_) {
      upstream_paused_ = true;
      ex_->up->pause_response();
    }
    return;
  }
  after_client_write();
}

void DownstreamConn::on_write_done(int status) {
  if (status < 0) {
    abort();
    return;
  }
  after_client_write();
}

void DownstreamConn::after_client_write() {
  client_write_pending_ = false;
  send_timer_.cancel();
  client_pin_.reset();
  if (ex_ && ex_->up && upstream_paused_) {
    upstream_paused_ = false;
    ex_->up->resume_response();
  }
  maybe_finish_exchange();
}

void DownstreamConn::maybe_finish_exchange() {
  if (!ex_ || closing_ || !ex_->response_complete || client_write_pending_) return;
  if (!ex_->request_complete && !close_after_) return;  // still dropping the request body
  finish_exchange();
}

void DownstreamConn::record_stats(const Exchange& ex, uint64_t duration_us) {
  if (ex.status == 0) return;  // no request came of it (a partial head, then a close)
  runtime_->route_stats(*listener_, ex.route).record(ex.status, duration_us);
  if (ex.response_started && ex.endpoint) worker_.stats().overhead.record(ex.overhead_ns / 1000);
}

void DownstreamConn::finish_exchange() {
  Exchange& ex = *ex_;
  uint64_t duration_us = (uv_hrtime() - ex.start_ns) / 1000;
  record_stats(ex, duration_us);
  log::AccessLog& log = worker_.access_log();
  if (log.enabled()) {
    log.record({std::string_view(client_ip_, client_ip_len_), ex.method, ex.target, ex.status,
                ex.bytes_in, ex.bytes_out, duration_us,
                ex.route ? std::string_view(ex.route->route->name) : std::string_view{},
                ex.endpoint && ex.route && ex.route->upstream >= 0
                    ? std::string_view(ex.endpoint->endpoint().address.text)
                    : std::string_view{},
                std::string_view(ex.request_id.data(), ex.request_id_len),
                ex.has_traceparent ? http::trace_id_of(ex.traceparent) : std::string_view{}});
  }
  if (ex.route) {
    ex.filter.now_ns = uv_hrtime();
    ex.route->filters.run_done(ex.filter);
  }
  detach_upstream(false);
  release_upstream_accounting();
  cache_end();
  bool close = close_after_ || !ex.keep_alive || !ex.request_complete || worker_.draining();
  worker_.return_exchange(std::move(ex_));
  body_flowing_ = false;
  upstream_paused_ = false;
  if (close) {
    this->close();
    return;
  }
  if (!follow_runtime()) return;
  arm_timer(kIdleTimeout);
  pump();  // a pipelined request may be waiting in the buffer
}

// ---- ends --------------------------------------------------------------------------

void DownstreamConn::on_read_end(int status) {
  if (tls_ && !tls_->handshake_done() && tls_->failure() != tls::HandshakeFailure::None) {
    tls_failed(tls_->failure(), tls_->failure_detail());
    close();
    return;
  }
  if (status == UV_ENOBUFS) {
    reject(431, "request head larger than max_header_bytes");
    return;
  }
  if (ex_ && status != UV_EOF)
    spdlog::debug("client {}: read error: {}", std::string_view(client_ip_, client_ip_len_),
                  core::uv_error_text(status));
  if (ex_ && !ex_->response_complete) ex_->status = 499;  // client went away (nginx's code)
  close();
}

// ---- TLS -----------------------------------------------------------------------------

void DownstreamConn::on_handshake_done() {
  listener_stats_->tls_handshakes.add();
  SSL* ssl = tls_->ssl();
  if (SSL_session_reused(ssl)) listener_stats_->tls_resumed.add();
  if (listener_->config->tls.client_certificates.enabled) {
    client_subject_ = tls::ServerTlsContext::client_subject(ssl);
    // RFC 2253 text escapes control bytes; anything else could not go in a header.
    if (std::any_of(client_subject_.begin(), client_subject_.end(),
                    [](char ch) { return static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f; }))
      client_subject_.clear();
  }
  arm_timer(kHeaderTimeout);
}

std::string_view DownstreamConn::client_cert_line() {
  // The listener's settings now: a reload that turned client certificates off ends the
  // header on connections verified before it.
  const config::ClientCertificates& cc = listener_->config->tls.client_certificates;
  const std::string& name = cc.subject_header;
  if (client_subject_.empty() || !cc.enabled || name.empty()) return {};
  client_cert_line_.assign(name).append(": ").append(client_subject_).append("\r\n");
  return client_cert_line_;
}

void DownstreamConn::tls_failed(tls::HandshakeFailure why, std::string_view detail) {
  listener_stats_->tls_failures[size_t(why)].add();
  // A client that connects and leaves (a port check) is routine; the rest is worth a line.
  auto level = why == tls::HandshakeFailure::Closed ? spdlog::level::debug : spdlog::level::info;
  spdlog::log(level, "listener {}: TLS handshake with {} failed ({}): {}", listener_->config->name,
              std::string_view(client_ip_, client_ip_len_), tls::failure_name(why), detail);
}

void DownstreamConn::on_timeout(int tag) {
  switch (tag) {
    case kIdleTimeout:
      close();
      break;
    case kHandshakeTimeout:
      tls_failed(tls::HandshakeFailure::Timeout, "not finished within handshake_timeout");
      close();
      break;
    case kHeaderTimeout:
      // No byte yet: just close, as nginx does; a partial head gets its 408.
      if (!ex_ && end_ == 0)
        close();
      else
        reject(408, "request head not received within header_timeout");
      break;
    case kBodyTimeout:
      reject(408, "request body stalled longer than idle_timeout");
      break;
    case kQueueTimeout:
      if (!ex_) break;
      ex_->pool->dequeue(this);
      ex_->pool->state().overflows_total().fetch_add(1, std::memory_order_relaxed);
      respond_unavailable("no connection became free within timeouts.queue", true);
      break;
    case kTotalTimeout:
      on_total_timeout();
      break;
    case kCacheWaitTimeout:
      // The fill took longer than collapse.timeout: this request asks the upstream itself.
      if (!ex_ || !ex_->cache.waiting) break;
      cache_stop_waiting();
      cache_resume();
      break;
    case kSendTimeout:
      // A reset, not a FIN queued behind data the client will never read.
      spdlog::info("client {}: not reading its response for idle_timeout; resetting",
                   std::string_view(client_ip_, client_ip_len_));
      reset_after_close_ = true;
      close();
      break;
  }
}

void DownstreamConn::on_total_timeout() {
  if (!ex_) return;
  Exchange& ex = *ex_;
  spdlog::warn("route {}: {} {} exceeded timeouts.total ({} ms){}", ex.route->route->name,
               ex.method, ex.target, ex.pool->config().total_timeout.count(),
               ex.response_started ? "; closing the client mid-response" : "");
  // An attempt in flight timed out; one still waiting for a connection did not reach the pool.
  if (ex.up) ex.filter.outcome = {filters::UpstreamOutcome::Kind::Timeout, 0};
  if (ex.response_started) {
    abort();
    return;
  }
  ex.pool->dequeue(this);
  ex.queue_timer.cancel();
  detach_upstream(true);
  end_attempt();
  respond_upstream_failure(504);
}

void DownstreamConn::drain() {
  close_after_ = true;
  if (!ex_) close();
}

void DownstreamConn::abort() {
  close();
}

void DownstreamConn::close() {
  if (closing_) return;
  closing_ = true;
  timer_.cancel();
  send_timer_.cancel();
  listener_stats_->open.sub();
  if (ex_) {
    record_stats(*ex_, (uv_hrtime() - ex_->start_ns) / 1000);
    if (ex_->route) {
      ex_->filter.now_ns = uv_hrtime();
      ex_->route->filters.run_done(ex_->filter);
    }
    detach_upstream(true);
    release_upstream_accounting();
    cache_end();
    worker_.return_exchange(std::move(ex_));
  }
  reading_ = false;
  in_.reset();
  if (reset_after_close_)
    transport_->close_reset();
  else
    transport_->close();
}

void DownstreamConn::on_closed() {
  worker_.connection_closed(this);
  std::unique_ptr<DownstreamConn> owned(this);  // see open()
}

}  // namespace portico::proxy
