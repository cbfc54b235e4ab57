#include "core/TcpTransport.h"

#include <sys/socket.h>

#include <cassert>
#include <cerrno>

namespace portico::core {

namespace {
TcpTransport* self(uv_handle_t* h) {
  return static_cast<TcpTransport*>(h->data);
}
}  // namespace

TcpTransport::TcpTransport(uv_loop_t* loop) {
  uv_tcp_init(loop, &tcp_);
  tcp_.data = this;
}

int TcpTransport::open(uv_os_sock_t fd) {
  int rc = uv_tcp_open(&tcp_, fd);
  if (rc == 0) uv_tcp_nodelay(&tcp_, 1);
  return rc;
}

int TcpTransport::connect(const sockaddr* addr, ConnectDone done, void* owner) {
  connect_done_ = done;
  connect_owner_ = owner;
  connect_req_.data = this;
  return uv_tcp_connect(&connect_req_, &tcp_, addr, [](uv_connect_t* req, int status) {
    auto* t = static_cast<TcpTransport*>(req->data);
    if (status == UV_ECANCELED || t->closing_) return;
    if (status == 0) uv_tcp_nodelay(&t->tcp_, 1);
    t->connect_done_(t->connect_owner_, status);
  });
}

int TcpTransport::read_start() {
  if (reading_ || closing_) return 0;
  int rc = uv_read_start(
      reinterpret_cast<uv_stream_t*>(&tcp_),
      [](uv_handle_t* h, size_t, uv_buf_t* buf) { *buf = self(h)->events_->on_alloc(); },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
        auto* t = self(reinterpret_cast<uv_handle_t*>(s));
        // nread == 0 (EAGAIN) is passed on too: the owner gets its lent buffer back.
        if (nread >= 0)
          t->events_->on_read(size_t(nread));
        else
          t->events_->on_read_end(int(nread));
      });
  if (rc == 0) reading_ = true;
  return rc;
}

void TcpTransport::read_stop() {
  if (!reading_) return;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
  reading_ = false;
}

int TcpTransport::write(const uv_buf_t* bufs, unsigned count) {
  assert(!write_pending_ && count <= kMaxBufs);
  if (closing_) return UV_ECANCELED;
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  size_t total = 0;
  for (unsigned i = 0; i < count; ++i) total += bufs[i].len;
  int n = uv_try_write(stream, bufs, count);
  if (n == UV_EAGAIN || n == UV_ENOSYS) n = 0;
  if (n < 0) return n;
  if (size_t(n) == total) return 1;
  // Queue what the kernel did not take, pointing into the caller's memory.
  unsigned q = 0;
  size_t skip = size_t(n);
  for (unsigned i = 0; i < count; ++i) {
    if (skip >= bufs[i].len) {
      skip -= bufs[i].len;
      continue;
    }
    queued_[q++] = uv_buf_init(bufs[i].base + skip, unsigned(bufs[i].len - skip));
    skip = 0;
  }
  write_req_.data = this;
  int rc = uv_write(&write_req_, stream, queued_.data(), q, [](uv_write_t* req, int status) {
    auto* t = static_cast<TcpTransport*>(req->data);
    t->write_pending_ = false;
    if (status == UV_ECANCELED || t->closing_) return;
    t->events_->on_write_done(status);
  });
  if (rc < 0) return rc;
  write_pending_ = true;
  return 0;
}

void TcpTransport::close() {
  if (closing_) return;
  closing_ = true;
  reading_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_),
           [](uv_handle_t* h) { self(h)->events_->on_closed(); });
}

void TcpTransport::close_reset() {
  if (closing_) return;
  closing_ = true;
  reading_ = false;
  if (uv_tcp_close_reset(&tcp_, [](uv_handle_t* h) { self(h)->events_->on_closed(); }) != 0) {
    closing_ = false;
    close();
  }
}

bool TcpTransport::peer_spoke() const {
  uv_os_fd_t fd;
  if (closing_ || uv_fileno(reinterpret_cast<const uv_handle_t*>(&tcp_), &fd) != 0) return true;
  char byte;
  ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

}  // namespace portico::core
