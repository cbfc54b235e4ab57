#include "tls/TlsTransport.h"

#include <openssl/err.h>

#include <cassert>
#include <cstring>

#include "tls/ServerTlsContext.h"

namespace portico::tls {

namespace {

// The BIO between OpenSSL and the transport's blocks: reads take ciphertext the transport
// already holds, writes append records to its output. It never blocks: with nothing to
// read it asks OpenSSL to retry, which surfaces as SSL_ERROR_WANT_READ.
int bio_read_ex(BIO* bio, char* out, size_t len, size_t* done) {
  auto* t = static_cast<TlsTransport*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  *done = t->bio_read(out, len);
  if (*done > 0) return 1;
  BIO_set_retry_read(bio);
  return 0;
}

int bio_write_ex(BIO* bio, const char* data, size_t len, size_t* done) {
  static_cast<TlsTransport*>(BIO_get_data(bio))->bio_write(data, len);
  *done = len;
  return 1;
}

long bio_ctrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

int bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

// One method table for the process, made on first use and never freed (like OpenSSL's
// own built-in methods).
const BIO_METHOD* transport_bio_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "portico transport");
    BIO_meth_set_read_ex(m, bio_read_ex);
    BIO_meth_set_write_ex(m, bio_write_ex);
    BIO_meth_set_ctrl(m, bio_ctrl);
    BIO_meth_set_create(m, bio_create);
    return m;
  }();
  return method;
}

// A plain-HTTP request on the TLS port gets a readable answer, as nginx gives, rather than
// bytes the client cannot show.
constexpr std::string_view kPlainHttpAnswer =
    "HTTP/1.1 400 Bad Request\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Length: 52\r\n"
    "Connection: close\r\n"
    "\r\n"
    "This port speaks HTTPS: the request was plain HTTP.\n";
static_assert(kPlainHttpAnswer.size() - kPlainHttpAnswer.find("\r\n\r\n") - 4 == 52);

}  // namespace

TlsTransport::TlsTransport(uv_loop_t* loop, core::BufferPool& buffers, SslPtr ssl, bool server)
    : tcp_(loop), buffers_(buffers), ssl_(std::move(ssl)), server_(server) {
  tcp_.set_events(this);
  uv_idle_init(loop, &resume_);
  resume_.data = this;
  BIO* bio = BIO_new(transport_bio_method());
  BIO_set_data(bio, this);
  SSL_set_bio(ssl_.get(), bio, bio);  // one BIO both ways: SSL owns it (one reference)
  SSL_set_read_ahead(ssl_.get(), 1);
  SSL_set_app_data(ssl_.get(), static_cast<SessionSink*>(this));
}

int TlsTransport::open(uv_os_sock_t fd) {
  return tcp_.open(fd);
}

int TlsTransport::connect(const sockaddr* addr, ConnectDone done, void* owner) {
  connect_done_ = done;
  connect_owner_ = owner;
  connecting_ = true;
  return tcp_.connect(addr, on_tcp_connected, this);
}

void TlsTransport::on_tcp_connected(void* self, int status) {
  auto* t = static_cast<TlsTransport*>(self);
  if (status != 0) {
    t->connecting_ = false;
    t->connect_done_(t->connect_owner_, status);
    return;
  }
  t->handshake();  // sends the ClientHello
  t->update_tcp_reading();
}

// ---- the BIO's ends --------------------------------------------------------------------

size_t TlsTransport::bio_read(char* out, size_t len) {
  size_t n = std::min<size_t>(len, in_to_ - in_from_);
  if (n == 0) return 0;
  std::memcpy(out, in_.data() + in_from_, n);
  in_from_ += uint32_t(n);
  return n;
}

void TlsTransport::bio_write(const char* data, size_t len) {
  constexpr uint32_t kBlock = core::BufferPool::kBlockSize;
  while (len > 0) {
    unsigned last = out_.count - 1;
    if (out_.empty() || out_.lens[last] == out_.blocks[last].capacity()) {
      if (out_.count == Chain::kBlocks) {
        // Only a handshake flight larger than the chain gets here: the last block grows.
        core::BufRef bigger = buffers_.acquire(uint32_t(out_.lens[last] + len));
        std::memcpy(bigger.data(), out_.blocks[last].data(), out_.lens[last]);
        out_.blocks[last] = std::move(bigger);
      } else {
        out_.blocks[out_.count] = buffers_.acquire(kBlock);
        out_.lens[out_.count++] = 0;
        last = out_.count - 1;
      }
    }
    size_t n = std::min<size_t>(len, out_.blocks[last].capacity() - out_.lens[last]);
    std::memcpy(out_.blocks[last].data() + out_.lens[last], data, n);
    out_.lens[last] += uint32_t(n);
    data += n;
    len -= n;
  }
}

// ---- reading ----------------------------------------------------------------------------

int TlsTransport::read_start() {
  if (closing_) return 0;
  upper_reading_ = true;
  // Plaintext or ciphertext already here, or an end not yet reported, would not make the
  // socket readable again.
  if (handshake_done_ &&
      (SSL_has_pending(ssl_.get()) || in_from_ < in_to_ || (pending_end_ && !end_reported_)))
    uv_idle_start(&resume_, [](uv_idle_t* h) {
      auto* t = static_cast<TlsTransport*>(h->data);
      uv_idle_stop(&t->resume_);
      t->deliver();
    });
  update_tcp_reading();
  return 0;
}

void TlsTransport::read_stop() {
  upper_reading_ = false;
  uv_idle_stop(&resume_);
  update_tcp_reading();
}

void TlsTransport::update_tcp_reading() {
  if (closing_) return;
  bool handshaking = !handshake_done_ && (server_ ? upper_reading_ : connecting_);
  bool room = !in_ || in_to_ < in_.capacity() || in_from_ > 0;
  bool want = room && !peer_eof_ && (handshaking || (handshake_done_ && upper_reading_));
  if (want && !tcp_reading_) {
    tcp_reading_ = tcp_.read_start() == 0;
  } else if (!want && tcp_reading_) {
    tcp_.read_stop();
    tcp_reading_ = false;
  }
}

uv_buf_t TlsTransport::on_alloc() {
  if (!in_) {
    in_ = buffers_.acquire(core::BufferPool::kBlockSize);
    in_from_ = in_to_ = 0;
  } else if (in_from_ > 0) {
    std::memmove(in_.data(), in_.data() + in_from_, in_to_ - in_from_);
    in_to_ -= in_from_;
    in_from_ = 0;
  }
  return uv_buf_init(in_.data() + in_to_, in_.capacity() - in_to_);
}

void TlsTransport::on_read(size_t n) {
  in_to_ += uint32_t(n);
  if (n == 0) {
    settle_input();
    return;
  }
  if (!handshake_done_) {
    handshake();
    if (closing_ || !handshake_done_) {
      settle_input();
      update_tcp_reading();
      return;
    }
  }
  deliver();
}

void TlsTransport::on_read_end(int status) {
  tcp_reading_ = false;  // libuv stops reading at EOF and on errors
  peer_eof_ = true;
  if (!handshake_done_) {
    if (status == UV_EOF)
      fail_handshake(HandshakeFailure::Closed, "the peer closed the connection");
    else
      fail_handshake(HandshakeFailure::Closed, uv_strerror(status));
    return;
  }
  // Plaintext still buffered goes up first; the end follows it, as over TCP.
  pending_end_ = status;
  deliver();
}

void TlsTransport::report_end(int status) {
  if (end_reported_ || closing_) return;
  end_reported_ = true;
  events_->on_read_end(status);
}

void TlsTransport::handshake() {
  if (server_ && !first_bytes_checked_ && in_to_ > in_from_) {
    first_bytes_checked_ = true;
    switch (classify_first_byte(static_cast<unsigned char>(in_.data()[in_from_]))) {
      case HandshakeFailure::PlainHttp: {
        uv_buf_t answer = uv_buf_init(const_cast<char*>(kPlainHttpAnswer.data()),
                                      unsigned(kPlainHttpAnswer.size()));
        tcp_.write(&answer, 1);  // static memory: fine to leave queued
        fail_handshake(HandshakeFailure::PlainHttp, "plain HTTP request on the TLS port");
        return;
      }
      case HandshakeFailure::NotTls:
        fail_handshake(HandshakeFailure::NotTls, "the first bytes are not a TLS record");
        return;
      default:
        break;
    }
  }
  ERR_clear_error();
  int rc = SSL_do_handshake(ssl_.get());
  if (!flush()) {
    fail_handshake(HandshakeFailure::Closed, failure_detail_);
    return;
  }
  if (rc == 1) {
    handshake_done_ = true;
    if (!server_) {
      connecting_ = false;
      connect_done_(connect_owner_, 0);
    } else {
      events_->on_handshake_done();
    }
    return;
  }
  int err = SSL_get_error(ssl_.get(), rc);
  if (err == SSL_ERROR_WANT_READ) return;
  unsigned long queued = ERR_peek_error();
  HandshakeFailure why = classify_failure(ssl_.get(), queued);
  if (server_ && ServerTlsContext::refused_server_name(ssl_.get()))
    why = HandshakeFailure::UnknownServerName;
  std::string detail = take_errors();
  long verify = SSL_get_verify_result(ssl_.get());
  if (verify != X509_V_OK) {
    detail += detail.empty() ? "" : ": ";
    detail += X509_verify_cert_error_string(verify);
  }
  if (detail.empty()) detail = err == SSL_ERROR_SYSCALL ? "the peer closed the connection" : "?";
  fail_handshake(why, std::move(detail));
}

void TlsTransport::fail_handshake(HandshakeFailure why, std::string detail) {
  failure_ = why;
  failure_detail_ = std::move(detail);
  ERR_clear_error();
  if (!server_) {
    if (!connecting_) return;
    connecting_ = false;
    connect_done_(connect_owner_, UV_EPROTO);
    return;
  }
  report_end(UV_EPROTO);
}

void TlsTransport::deliver() {
  while (upper_reading_ && !closing_ && handshake_done_ && !end_reported_) {
    if (in_from_ == in_to_ && !SSL_has_pending(ssl_.get())) break;
    uv_buf_t buf = events_->on_alloc();
    if (buf.len == 0) {
      report_end(UV_ENOBUFS);
      return;
    }
    size_t n = 0;
    ERR_clear_error();
    if (SSL_read_ex(ssl_.get(), buf.base, buf.len, &n) == 1) {
      events_->on_read(n);
      continue;
    }
    int err = SSL_get_error(ssl_.get(), 0);
    events_->on_read(0);  // hands the buffer back
    if (closing_) return;
    if (!flush()) {
      report_end(UV_ECONNRESET);
      return;
    }
    if (err == SSL_ERROR_WANT_READ) break;
    if (err == SSL_ERROR_ZERO_RETURN) {  // close_notify: the peer's orderly end
      peer_eof_ = true;
      report_end(UV_EOF);
      update_tcp_reading();
      return;
    }
    failure_ = classify_failure(ssl_.get(), ERR_peek_error());
    failure_detail_ = take_errors();
    report_end(UV_EPROTO);
    return;
  }
  if (closing_) return;
  if (pending_end_ && upper_reading_ && !end_reported_) {
    if (in_from_ < in_to_ || SSL_has_pending(ssl_.get())) {
      // The stream stopped inside a record: data was cut off.
      failure_ = HandshakeFailure::Other;
      failure_detail_ = "the connection ended in the middle of a TLS record";
      report_end(UV_EPROTO);
    } else if (pending_end_ == UV_EOF && !server_ &&
               !(SSL_get_shutdown(ssl_.get()) & SSL_RECEIVED_SHUTDOWN)) {
      // An upstream's end without close_notify could be a forged FIN: a body delimited by
      // the close must not count as complete (clients often skip close_notify: not them).
      report_end(UV_ECONNRESET);
    } else {
      report_end(pending_end_);
    }
    return;
  }
  if (!flush()) {  // TLS 1.3 tickets or key updates that reading produced
    report_end(UV_ECONNRESET);
    return;
  }
  settle_input();
  update_tcp_reading();
}

void TlsTransport::settle_input() {
  if (in_ && in_from_ == in_to_) {
    in_.reset();  // an idle connection keeps no block
    in_from_ = in_to_ = 0;
  }
}

// ---- writing ----------------------------------------------------------------------------

int TlsTransport::write(const uv_buf_t* bufs, unsigned count) {
  assert(!upper_write_pending_ && count <= plain_.size());
  if (closing_) return UV_ECANCELED;
  if (!handshake_done_) return UV_ENOTCONN;
  plain_count_ = plain_index_ = 0;
  plain_offset_ = 0;
  for (unsigned i = 0; i < count; ++i)
    if (bufs[i].len) plain_[plain_count_++] = bufs[i];
  int rc = pump_writes();
  if (rc != 0) return rc;
  upper_write_pending_ = true;
  return 0;
}

int TlsTransport::pump_writes() {
  while (true) {
    if (!sending_.empty()) return 0;
    if (!encrypt_some()) return UV_EPROTO;
    if (out_.empty()) return 1;
    if (!flush()) return UV_ECONNRESET;
  }
}

bool TlsTransport::encrypt_some() {
  // About four blocks of records per TCP write: large bodies go out in pieces while the
  // socket takes them, and no block but the pool's is ever needed.
  constexpr size_t kWriteBudget = 4 * core::BufferPool::kBlockSize;
  constexpr size_t kRecord = 16384;  // TLS's largest record: one encryption each
  size_t queued = 0;
  for (unsigned i = 0; i < out_.count; ++i) queued += out_.lens[i];
  core::BufRef staged;
  while (plain_index_ < plain_count_ && queued < kWriteBudget) {
    const uv_buf_t& cur = plain_[plain_index_];
    size_t left = cur.len - plain_offset_;
    const char* from = cur.base + plain_offset_;
    size_t n = std::min(left, kRecord);
    if (left < kRecord && plain_index_ + 1 < plain_count_) {
      // A head and a small body in one record: one encryption, one tag, fewer bytes.
      if (!staged) staged = buffers_.acquire(uint32_t(kRecord));
      n = 0;
      while (plain_index_ < plain_count_ && n < kRecord) {
        const uv_buf_t& p = plain_[plain_index_];
        size_t take = std::min(p.len - plain_offset_, kRecord - n);
        std::memcpy(staged.data() + n, p.base + plain_offset_, take);
        n += take;
        plain_offset_ += take;
        if (plain_offset_ == p.len) {
          ++plain_index_;
          plain_offset_ = 0;
        }
      }
      from = staged.data();
    } else {
      plain_offset_ += n;
      if (plain_offset_ == cur.len) {
        ++plain_index_;
        plain_offset_ = 0;
      }
    }
    size_t done = 0;
    ERR_clear_error();
    if (SSL_write_ex(ssl_.get(), from, n, &done) != 1) {
      failure_detail_ = take_errors();
      return false;
    }
    queued += n + 64;
  }
  return true;
}

bool TlsTransport::flush() {
  if (!sending_.empty() || out_.empty() || closing_) return true;
  std::array<uv_buf_t, Chain::kBlocks> bufs;
  for (unsigned i = 0; i < out_.count; ++i)
    bufs[i] = uv_buf_init(out_.blocks[i].data(), out_.lens[i]);
  int rc = tcp_.write(bufs.data(), out_.count);
  if (rc == 0) {
    std::swap(sending_, out_);  // TCP points into these blocks until it is done
    return true;
  }
  out_.clear();
  if (rc == 1) return true;
  failure_detail_ = uv_strerror(rc);
  return false;
}

void TlsTransport::on_write_done(int status) {
  sending_.clear();
  if (status == 0) {
    int rc = pump_writes();
    if (rc == 0) return;  // more went out behind these
    if (rc < 0) status = rc;
  }
  if (upper_write_pending_) {
    upper_write_pending_ = false;
    plain_count_ = 0;
    events_->on_write_done(status);
  }
}

// ---- closing ----------------------------------------------------------------------------

void TlsTransport::close() {
  if (closing_) return;
  if (handshake_done_ && failure_ == HandshakeFailure::None) {
    if (sending_.empty()) {
      // close_notify, best effort: it goes out if the socket takes it now.
      ERR_clear_error();
      if (SSL_shutdown(ssl_.get()) < 0) ERR_clear_error();
      flush();
    } else {
      // A clean end all the same: OpenSSL spoils the session of an SSL freed without
      // one, and the session may be resumed by the next connection.
      SSL_set_shutdown(ssl_.get(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    }
  }
  closing_ = true;
  upper_reading_ = tcp_reading_ = false;
  uv_idle_stop(&resume_);
  uv_close(reinterpret_cast<uv_handle_t*>(&resume_),
           [](uv_handle_t* h) { static_cast<TlsTransport*>(h->data)->closed_one(); });
  tcp_.close();
}

void TlsTransport::close_reset() {
  if (closing_) return;
  // The client stopped reading, which spoils nothing: its session stays resumable.
  if (ended_cleanly()) SSL_set_shutdown(ssl_.get(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  closing_ = true;
  upper_reading_ = tcp_reading_ = false;
  uv_idle_stop(&resume_);
  uv_close(reinterpret_cast<uv_handle_t*>(&resume_),
           [](uv_handle_t* h) { static_cast<TlsTransport*>(h->data)->closed_one(); });
  tcp_.close_reset();
}

void TlsTransport::on_closed() {
  closed_one();
}

void TlsTransport::closed_one() {
  if (--handles_open_ == 0) events_->on_closed();
}

}  // namespace portico::tls
