#include "core/Listener.h"

#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/UvClose.h"

namespace portico::core {

namespace {
constexpr uint64_t kResumeAfterMs = 100;
constexpr int kMaxAcceptsPerWakeup = 64;  // stay fair to the connections already open
}  // namespace

Listener::Listener(uv_loop_t* loop, std::string name, config::SocketAddress address,
                   OnAccept on_accept)
    : loop_(loop),
      name_(std::move(name)),
      address_(std::move(address)),
      on_accept_(std::move(on_accept)) {}

Listener::~Listener() {
  close();
}

int Listener::bind_socket(const config::SocketAddress& address, std::string& error, int backlog) {
  const auto* sa = reinterpret_cast<const sockaddr*>(&address.storage);
  int fd = ::socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = "socket(): " + std::string(strerror(errno));
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
    error = "SO_REUSEPORT: " + std::string(strerror(errno));
  else if (sa->sa_family == AF_INET6 &&
           ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0)
    error = "IPV6_V6ONLY: " + std::string(strerror(errno));
  else if (::bind(fd, sa, address.length) != 0)
    error = "cannot bind " + address.text + ": " + strerror(errno);
  else if (::listen(fd, backlog) != 0)
    error = "cannot listen on " + address.text + ": " + strerror(errno);
  else
    return fd;
  ::close(fd);
  return -1;
}

std::string Listener::open(const config::SocketAddress& address) {
  std::string error;
  int fd = bind_socket(address, error);
  if (fd < 0) return error;
  adopt(fd);
  return {};
}

void Listener::adopt(int fd) {
  fd_ = fd;
  poll_ = std::make_unique<uv_poll_t>();
  uv_poll_init(loop_, poll_.get(), fd_);
  poll_->data = this;
  start_polling();
  resume_timer_ = std::make_unique<uv_timer_t>();
  uv_timer_init(loop_, resume_timer_.get());
  resume_timer_->data = this;
}

void Listener::on_readable() {
  for (int i = 0; i < kMaxAcceptsPerWakeup; ++i) {
    sockaddr_storage peer;
    socklen_t len = sizeof peer;
    int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      on_accept_(fd, peer);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
      spdlog::warn("listener {}: accept: {}; pausing accepts for {} ms", name_, strerror(errno),
                   kResumeAfterMs);
      pause_accepting();
    }
    return;  // EAGAIN: drained
  }
}

void Listener::pause_accepting() {
  // Queued clients wait in the kernel backlog; none is accepted and dropped.
  if (paused_ || !poll_) return;
  paused_ = true;
  uv_poll_stop(poll_.get());
  uv_timer_start(
      resume_timer_.get(),
      [](uv_timer_t* t) {
        auto* self = static_cast<Listener*>(t->data);
        self->paused_ = false;
        self->start_polling();
      },
      kResumeAfterMs, 0);
}

void Listener::start_polling() {
  uv_poll_start(poll_.get(), UV_READABLE, [](uv_poll_t* p, int status, int) {
    if (status == 0) static_cast<Listener*>(p->data)->on_readable();
  });
}

void Listener::close() {
  close_owned(poll_);
  close_owned(resume_timer_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace portico::core
