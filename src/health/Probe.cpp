#include "health/Probe.h"

#include "core/TcpTransport.h"
#include "core/UvError.h"
#include "health/HttpProbe.h"
#include "tls/TlsTransport.h"

namespace portico::health {

Probe::Probe(Key, uv_loop_t* loop, Check check, ProbeObserver* observer, tls::SslPtr ssl,
             std::shared_ptr<core::BufferPool> buffers)
    : buffers_(std::move(buffers)), check_(std::move(check)), observer_(observer) {
  if (ssl) {
    auto t = std::make_unique<tls::TlsTransport>(loop, *buffers_, std::move(ssl), false);
    tls_ = t.get();
    transport_ = std::move(t);
  } else {
    transport_ = std::make_unique<core::TcpTransport>(loop);
  }
  transport_->set_events(this);
}

Probe* Probe::create(uv_loop_t* loop, Check check, ProbeObserver* observer, tls::SslPtr ssl,
                     std::shared_ptr<core::BufferPool> buffers) {
  // From here the probe belongs to its handle and is freed in on_closed().
  return std::make_unique<Probe>(Key{}, loop, std::move(check), observer, std::move(ssl),
                                 std::move(buffers))
      .release();
}

void Probe::connect(const sockaddr* address) {
  int rc = transport_->connect(address, connected_cb, this);
  if (rc != 0) finish({false, "connect: " + core::uv_error_text(rc)});
}

void Probe::connected_cb(void* self, int status) {
  static_cast<Probe*>(self)->on_connected(status);
}

void Probe::on_connected(int status) {
  if (status == UV_EPROTO && tls_) {
    finish({false, "TLS handshake failed: " + tls_->failure_detail()});
    return;
  }
  if (status != 0) {
    finish({false, core::uv_error_text(status)});
    return;
  }
  if (check_.request.empty()) {
    finish({true, {}});
    return;
  }
  int rc = transport_->read_start();
  if (rc == 0) {
    // The request is a member, so a write the kernel did not take at once stays valid.
    uv_buf_t buf = uv_buf_init(check_.request.data(), unsigned(check_.request.size()));
    rc = transport_->write(&buf, 1);
  }
  if (rc < 0) finish({false, "sending the request: " + core::uv_error_text(rc)});
}

uv_buf_t Probe::on_alloc() {
  return uv_buf_init(buf_.data(), unsigned(buf_.size()));
}

void Probe::on_read(size_t n) {
  if (n == 0 || !observer_) return;
  head_bytes_ += n;
  switch (reader_.feed(buf_.data(), n)) {
    case StatusReader::Result::NeedMore:
      if (head_bytes_ > kMaxHeadBytes) finish({false, "response head too large"});
      return;
    case StatusReader::Result::Error:
      finish({false, "bad response: " + reader_.error()});
      return;
    case StatusReader::Result::Done:
      break;
  }
  int status = reader_.status();
  if (check_.expected && status_expected(*check_.expected, status)) {
    finish({true, {}});
  } else {
    finish({false, "status " + std::to_string(status)});
  }
}

void Probe::on_read_end(int status) {
  if (!observer_) return;
  if (status == UV_EOF) {
    reader_.finish();
    finish({false, reader_.error()});
  } else {
    finish({false, core::uv_error_text(status)});
  }
}

void Probe::on_write_done(int status) {
  if (status < 0) finish({false, "sending the request: " + core::uv_error_text(status)});
}

void Probe::finish(ProbeResult result) {
  ProbeObserver* observer = observer_;
  cancel();
  if (observer) observer->on_probe_done(std::move(result));
}

void Probe::cancel() {
  observer_ = nullptr;
  transport_->close();
}

void Probe::on_closed() {
  std::unique_ptr<Probe> owned(this);  // see create()
}

}  // namespace portico::health
