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
                   std::shared_ptr<ConnectionLimit> limit, OnAccept on_accept)
    : loop_(loop),
      name_(std::move(name)),
      address_(std::move(address)),
      limit_(limit ? std::move(limit) : std::make_shared<ConnectionLimit>(0)),
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
  // A uv_async_t per socket rather than polling the count on a timer: a worker waits for a
  // slot only while its listener is full, wakes exactly when a connection closes anywhere
  // (uv_async_send coalesces, and costs nothing when nobody waits: release() then only
  // reads an atomic), and a timer would either add latency or spin while full.
  slot_async_ = std::make_unique<uv_async_t>();
  uv_async_init(loop_, slot_async_.get(),
                [](uv_async_t* a) { static_cast<Listener*>(a->data)->on_slot_freed(); });
  slot_async_->data = this;
}

void Listener::on_readable() {
  for (int i = 0; i < kMaxAcceptsPerWakeup; ++i) {
    // The slot is taken first, so the limit is exact and a client over it is never
    // accepted; the last turn (EAGAIN) gives its slot back.
    ConnectionSlot slot = ConnectionSlot::try_take(limit_);
    if (!slot) {
      // Only the first turn knows a client is queued (the socket polled readable); after
      // accepting up to the limit the backlog may well be empty, and then nobody waits:
      // keep polling, and a queued client makes the next turn pause.
      if (i == 0) wait_for_slot();
      return;
    }
    sockaddr_storage peer;
    socklen_t len = sizeof peer;
    int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      on_accept_(fd, peer, std::move(slot));
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
        if (!self->waiting_for_slot_) self->start_polling();
      },
      kResumeAfterMs, 0);
}

void Listener::wait_for_slot() {
  // Queued clients wait in the kernel backlog, as when out of descriptors; connections
  // already open go on being served.
  if (!poll_) return;
  uv_poll_stop(poll_.get());
  waiting_for_slot_ = true;
  if (!limit_->wait(this)) {
    // A connection closed meanwhile: try again rather than wait for a wake-up that was
    // already spent.
    waiting_for_slot_ = false;
    start_polling();
    return;
  }
  if (limit_->note_paused(uv_now(loop_)))
    spdlog::info(
        "listener {}: at max_connections ({} open, limit {}); new connections wait in the "
        "backlog until one closes (logged at most once a minute; "
        "portico_listener_accept_paused_total counts every pause)",
        name_, limit_->open(), limit_->max());
}

void Listener::slot_freed() {
  uv_async_send(slot_async_.get());
}

void Listener::on_slot_freed() {
  if (!waiting_for_slot_) return;
  waiting_for_slot_ = false;
  if (!paused_) start_polling();  // a client still queued makes the socket readable at once
}

void Listener::start_polling() {
  uv_poll_start(poll_.get(), UV_READABLE, [](uv_poll_t* p, int status, int) {
    if (status == 0) static_cast<Listener*>(p->data)->on_readable();
  });
}

void Listener::close() {
  // Before the handle closes: once cancel_wait returns, no other thread posts to it.
  if (slot_async_) limit_->cancel_wait(this);
  waiting_for_slot_ = false;
  close_owned(slot_async_);
  close_owned(poll_);
  close_owned(resume_timer_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace portico::core
