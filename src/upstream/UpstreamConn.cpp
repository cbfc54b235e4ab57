#include "upstream/UpstreamConn.h"

#include <spdlog/spdlog.h>

#include <cstring>

#include "core/Worker.h"
#include "tls/TlsTransport.h"
#include "upstream/EndpointPool.h"

namespace portico::upstream {

namespace {
// A response head larger than the block it is read into grows once to this, and no more.
constexpr uint32_t kMaxResponseHead = 64 * 1024;
// More header fields than this in a response head make it a bad response (502). Higher than
// the request default (max_headers), as responses carry more (Set-Cookie, policies); it
// bounds the head's work and what the collector keeps for the connection's life.
constexpr uint32_t kMaxResponseHeaders = 1000;
}  // namespace

UpstreamConn::UpstreamConn(core::Worker& worker, EndpointPool& pool)
    : worker_(worker), pool_(&pool), parser_(HTTP_RESPONSE, this), timer_(this, kConnectTimeout) {
  if (const tls::UpstreamTlsContext* tls = pool.owner().tls()) {
    tls_context_ = pool.owner().tls_context();
    tls::SslPtr ssl = tls->new_connection(pool.endpoint().host,
                                          tls->session_reuse() ? pool.tls_session() : nullptr);
    if (ssl) {
      auto t = std::make_unique<tls::TlsTransport>(worker.loop(), worker.buffers(), std::move(ssl),
                                                   false);
      tls_ = t.get();
      transport_ = std::move(t);
    } else {
      tls_setup_failed_ = true;  // connect() fails: never plain HTTP to a TLS upstream
    }
  }
  if (!transport_) transport_ = std::make_unique<core::TcpTransport>(worker.loop());
  transport_->set_events(this);
  parser_.set_max_headers(kMaxResponseHeaders);
  parser_.start_message(&head_);
}

void UpstreamConn::connect() {
  pool_->stats().connections.add();
  if (tls_setup_failed_) {
    spdlog::error("upstream {}: cannot start TLS to {}: {}", pool_->upstream().name,
                  pool_->endpoint().address.text, tls::take_errors());
    fail(Failure::Connect, UV_ENOMEM);
    return;
  }
  sockaddr_storage addr;
  socklen_t length = 0;
  if (!pool_->state().address(pool_->index(), addr, length, generation_)) {
    fail(Failure::Connect, UV_EADDRNOTAVAIL);  // the name's answer changed since the pick
    return;
  }
  int rc = transport_->connect(reinterpret_cast<const sockaddr*>(&addr), connected_cb, this);
  if (rc != 0) {
    fail(Failure::Connect, rc);
    return;
  }
  timer_.set_tag(kConnectTimeout);
  pool_->connect_timeouts().arm(timer_);
}

void UpstreamConn::connected_cb(void* p, int status) {
  auto* c = static_cast<UpstreamConn*>(p);
  c->timer_.cancel();
  if (status == UV_EPROTO && c->tls_) {
    // Refused certificates are configuration or security problems: worth a warning each.
    spdlog::warn("upstream {}: TLS handshake with {} failed ({}): {}", c->pool_->upstream().name,
                 c->pool_->endpoint().address.text, tls::failure_name(c->tls_->failure()),
                 c->tls_->failure_detail());
  }
  if (status != 0) {
    c->fail(Failure::Connect, status);
    return;
  }
  c->connected_ = true;
  // Reading stays on for the connection's whole life: an idle connection notices the
  // upstream closing it, and no request pays for a read start/stop pair.
  c->transport_->read_start();
  if (c->client_) c->client_->on_upstream_connected();
}

void UpstreamConn::attach(UpstreamClient* client, bool head_request, bool decode_chunked) {
  client_ = client;
  head_request_ = head_request;
  decode_chunked_ = decode_chunked;
  head_done_ = complete_ = request_done_ = paused_ = false;
  parser_.start_message(&head_);
  response_ = {};
  ++requests_;
  timer_.cancel();
}

int UpstreamConn::send(const uv_buf_t* bufs, unsigned count) {
  int rc = transport_->write(bufs, count);
  if (rc < 0) fail(Failure::Reset, rc);
  return rc;
}

void UpstreamConn::on_write_done(int status) {
  if (status < 0) {
    fail(Failure::Reset, status);
    return;
  }
  if (client_) client_->on_upstream_request_flushed();
}

void UpstreamConn::request_complete() {
  request_done_ = true;
  if (complete_) return;
  timer_.set_tag(kResponseTimeout);
  pool_->response_timeouts().arm(timer_);
}

void UpstreamConn::pause_response() {
  if (paused_) return;
  paused_ = true;
  transport_->read_stop();
  // The client is slow, not the upstream: no response timeout while we do not read.
  if (request_done_ && !complete_) timer_.cancel();
}

void UpstreamConn::resume_response() {
  if (!paused_) return;
  paused_ = false;
  if (request_done_ && !complete_) pool_->response_timeouts().arm(timer_);
  process();
  if (!transport_->closing() && client_ && !paused_) transport_->read_start();
}

uv_buf_t UpstreamConn::on_alloc() {
  if (in_ && end_ == in_.capacity()) {
    if (parsed_ == end_ && head_done_) {
      in_.reset();
    } else if (!head_done_ && in_.capacity() < kMaxResponseHead) {
      // A head bigger than the block: grow once to the largest head we accept. Head
      // pieces are recorded as offsets, so they stay valid in the copy.
      in_ = worker_.buffers().retain(in_.data(), end_, kMaxResponseHead);
    } else {
      return uv_buf_init(nullptr, 0);  // head too large: the read fails with UV_ENOBUFS
    }
  }
  if (!in_) {
    in_ = worker_.buffers().lend();
    parsed_ = end_ = 0;
  }
  return uv_buf_init(in_.data() + end_, in_.capacity() - end_);
}

void UpstreamConn::on_read(size_t n) {
  if (n == 0) {
    settle_buffer();
    return;
  }
  end_ += uint32_t(n);
  if (!client_) {
    // Bytes on an idle connection: the upstream is out of step; never reuse it.
    close();
    return;
  }
  if (complete_) {
    // More bytes after a complete response (while the client's request body is still
    // arriving): the upstream is out of step. Drop them and never pool this connection,
    // or they would be served as the next client's response.
    reusable_ = false;
    transport_->read_stop();
    in_.reset();
    parsed_ = end_ = 0;
    return;
  }
  if (request_done_) pool_->response_timeouts().arm(timer_);
  process();
}

void UpstreamConn::process() {
  if (in_process_ || !in_) return;
  in_process_ = true;
  const ResponseHead* head_to_send = nullptr;
  uint32_t body_from = parsed_, body_to = parsed_;
  decoded_.clear();
  while (!paused_ && !complete_ && (parsed_ < end_ || parser_.must_run())) {
    bool in_body = head_done_;
    auto [stop, used] = parser_.execute(in_.data(), parsed_, end_);
    if (in_body) body_to = parsed_ + used;  // one read's body bytes are contiguous
    parsed_ += used;
    if (stop == http::MessageParser::Stop::Head) {
      if (!take_response_head())
        stop = http::MessageParser::Stop::Error;
      else {
        parser_.continue_after_head(head_request_);
        head_done_ = true;
        head_to_send = &response_;
        body_from = body_to = parsed_;
      }
    } else if (stop == http::MessageParser::Stop::Message) {
      complete_ = true;
      timer_.cancel();
      // Bytes after the response mean the upstream is out of step.
      if (parsed_ != end_ || !llhttp_should_keep_alive(&parser_.raw())) reusable_ = false;
    }
    if (stop == http::MessageParser::Stop::Error) {
      spdlog::warn(
          "upstream {}: invalid response: {}", pool_->endpoint().address.text,
          parser_.too_many_headers() ? "more than 1000 header fields" : parser_.error_reason());
      in_process_ = false;
      fail(Failure::BadResponse, 0);
      return;
    }
  }
  in_process_ = false;
  if (head_to_send || body_to > body_from || complete_ || !decoded_.empty()) {
    std::string_view body = decode_chunked_ && response_.chunked
                                ? std::string_view(decoded_)
                                : std::string_view(in_.data() + body_from, body_to - body_from);
    client_->on_upstream_response(head_to_send, body, complete_, in_);
  }
  settle_buffer();
}

bool UpstreamConn::take_response_head() {
  if (const char* why =
          read_response_head(head_, in_.data(), parser_.raw(), head_request_, response_)) {
    parser_.set_error_reason(why);
    return false;
  }
  // llhttp misses "close" when a tab follows it ("Connection: close\t": OWS allows it) and
  // would call the connection reusable; the next request would then go into a closing
  // connection. Portico's own token reading trims OWS.
  if (response_.connection.close()) reusable_ = false;
  return true;
}

bool UpstreamConn::on_body_data(const char* at, size_t n) {
  if (decode_chunked_ && response_.chunked) decoded_.append(at, n);
  return true;
}

void UpstreamConn::settle_buffer() {
  // Between messages or while streaming a body, keep no block; a partial head or bytes
  // held back by backpressure move out of the worker's read buffer into one of our own.
  // (A queued client write pins the block it points into through its own reference.)
  if (!in_) return;
  bool mid_head = !head_done_ && !complete_;
  uint32_t keep_from = mid_head ? 0 : parsed_;
  if (keep_from == end_) {
    in_.reset();
    parsed_ = end_ = 0;
    return;
  }
  if (!worker_.buffers().is_lent(in_)) return;
  in_ = worker_.buffers().retain(in_.data() + keep_from, end_ - keep_from,
                                 mid_head ? core::BufferPool::kSmallSize : 0);
  parsed_ -= keep_from;
  end_ -= keep_from;
}

void UpstreamConn::on_read_end(int status) {
  if (client_ && head_done_ && !complete_ && status == UV_EOF &&
      llhttp_message_needs_eof(&parser_.raw())) {
    // A close-delimited body ends here.
    reusable_ = false;
    complete_ = true;
    timer_.cancel();
    client_->on_upstream_response(nullptr, {}, true, in_);
    return;
  }
  if (!client_) {
    close();  // idle connection closed by the upstream: just forget it
    return;
  }
  if (status == UV_ENOBUFS && !head_done_) {
    // on_alloc had no room left: the head is still not complete in kMaxResponseHead.
    spdlog::warn("upstream {}: invalid response: head larger than 64 KiB",
                 pool_->endpoint().address.text);
    fail(Failure::BadResponse, 0);
    return;
  }
  if (complete_) {
    // Closed after a complete response: fine, but not reusable. The client still holds
    // this connection and will release() it.
    reusable_ = false;
    transport_->read_stop();
    return;
  }
  fail(Failure::Reset, status);
}

void UpstreamConn::on_timeout(int tag) {
  switch (tag) {
    case kConnectTimeout:
      fail(Failure::ConnectTimeout, UV_ETIMEDOUT);
      break;
    case kResponseTimeout:
      fail(Failure::ResponseTimeout, UV_ETIMEDOUT);
      break;
    default:
      close();
      break;  // idle too long
  }
}

void UpstreamConn::release() {
  client_ = nullptr;
  if (!complete_ || !request_done_ || !reusable_ || transport_->write_pending() || !connected_ ||
      (in_ && parsed_ != end_)) {
    close();
    return;
  }
  parser_.reset();
  settle_buffer();
  // An idle connection must be reading, to notice the upstream closing it.
  paused_ = false;
  transport_->read_start();
  if (pool_->owner().retired()) {
    // A reload replaced the pool while this connection was busy: it joins the current
    // pool for the same endpoint, if there still is one.
    EndpointPool* next = worker_.runtime().successor(*pool_);
    // Not one made under other TLS settings or files' content (see WorkerUpstream::adopt_idle).
    if (!next || !tls::UpstreamTlsContext::same(next->owner().tls(), tls_context_.get())) {
      close();
      return;
    }
    pool_ = next;
  }
  if (!pool_->put_idle(this)) {
    close();
    return;
  }
  keep_tls_session();
  timer_.set_tag(kIdleTimeout);
  pool_->idle_timeouts().arm(timer_);
}

void UpstreamConn::abort() {
  client_ = nullptr;
  close();
}

void UpstreamConn::fail(Failure f, int status) {
  UpstreamClient* c = std::exchange(client_, nullptr);
  // An idle connection the upstream closed is no error of a request's.
  if (c) pool_->stats().errors[size_t(f)].add();
  close();
  if (c) c->on_upstream_failed(f, status);
}

void UpstreamConn::move_to(EndpointPool& pool) {
  pool_ = &pool;
  timer_.set_tag(kIdleTimeout);
  pool_->idle_timeouts().arm(timer_);
}

void UpstreamConn::close() {
  keep_tls_session();
  if (holds_slot_) {
    holds_slot_ = false;
    pool_->state().release_connection(pool_->index());
  }
  timer_.cancel();
  in_.reset();
  pool_->forget(this);
  client_ = nullptr;
  transport_->close();
}

void UpstreamConn::keep_tls_session() {
  if (!tls_) return;
  tls::SslSessionPtr s = tls_->take_session();
  // A failed connection's session cannot resume (OpenSSL spoils it when the SSL is freed):
  // it would only replace a good one. One made under another context (a reload changed a
  // file) would resume without the checks the pool's context now makes.
  if (!s || !tls_->ended_cleanly() ||
      !tls::UpstreamTlsContext::same(pool_->owner().tls(), tls_context_.get()))
    return;
  pool_->keep_tls_session(std::move(s));
}

void UpstreamConn::on_closed() {
  // The handle is closed: this object owned itself since connect() (see the header).
  std::unique_ptr<UpstreamConn> owned(this);
}

}  // namespace portico::upstream
