#include "harness/StreamingUpstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace portico::it {

namespace {

struct Conn {
  Fd fd;
  std::string in;  // bytes of the request head read so far
  bool sending = false;
  Clock::time_point resume_at{};  // the pause after the head ends
  bool watching_out = false;      // EPOLLOUT is registered
  uint64_t head_left = 0;         // bytes of the head still to send (from its end)
  uint64_t fill_left = 0;
  uint64_t tail_left = 0;
};

}  // namespace

StreamingUpstream::StreamingUpstream(StreamingResponse response) : response_(std::move(response)) {
  listener_ = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  int one = 1;
  ::setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listener_.get(), 4096) != 0 ||
      ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("StreamingUpstream: cannot listen");
  port_ = ntohs(addr.sin_port);
  epoll_ = Fd(::epoll_create1(EPOLL_CLOEXEC));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listener_.get();
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, listener_.get(), &ev);
  thread_ = std::thread([this] { Loop(); });
}

StreamingUpstream::~StreamingUpstream() {
  stop_ = true;
  thread_.join();
}

void StreamingUpstream::Loop() {
  std::unordered_map<int, std::unique_ptr<Conn>> conns;
  std::string fill(64 * 1024, response_.fill);
  epoll_event events[256];
  auto close_conn = [&](int fd) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    conns.erase(fd);
    open_.fetch_sub(1);
  };
  auto watch = [&](Conn& c, bool out) {
    if (c.watching_out == out) return;
    c.watching_out = out;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0u);
    ev.data.fd = c.fd.get();
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
  };
  // Sends what the socket takes; false when the connection is gone.
  auto pump = [&](Conn& c) {
    while (c.sending) {
      std::string_view piece;
      if (c.head_left > 0)
        piece = std::string_view(response_.head).substr(response_.head.size() - c.head_left);
      else if (Clock::now() < c.resume_at) {
        watch(c, false);  // no busy loop on EPOLLOUT: the loop comes back after the pause
        return true;
      } else if (c.fill_left > 0)
        piece = std::string_view(fill).substr(0, std::min<uint64_t>(fill.size(), c.fill_left));
      else if (c.tail_left > 0)
        piece = std::string_view(response_.tail).substr(response_.tail.size() - c.tail_left);
      else {
        c.sending = false;  // done: the next request may come
        watch(c, false);
        break;
      }
      ssize_t n = ::send(c.fd.get(), piece.data(), piece.size(), MSG_NOSIGNAL);
      if (n < 0) {
        watch(c, true);
        return errno == EAGAIN || errno == EWOULDBLOCK;
      }
      uint64_t sent = uint64_t(n);
      if (c.head_left > 0) {
        c.head_left -= sent;
        if (c.head_left == 0) c.resume_at = Clock::now() + response_.pause_after_head;
      } else if (c.fill_left > 0) {
        if (c.fill_left != StreamingResponse::kEndless) c.fill_left -= sent;
      } else
        c.tail_left -= sent;
    }
    return true;
  };
  while (!stop_) {
    int n = ::epoll_wait(epoll_.get(), events, 256, 50);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == listener_.get()) {
        while (true) {
          int cfd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (cfd < 0) break;
          auto c = std::make_unique<Conn>();
          c->fd = Fd(cfd);
          if (response_.send_buffer > 0)
            ::setsockopt(cfd, SOL_SOCKET, SO_SNDBUF, &response_.send_buffer,
                         sizeof response_.send_buffer);
          epoll_event ev{};
          ev.events = EPOLLIN | EPOLLRDHUP;
          ev.data.fd = cfd;
          ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, cfd, &ev);
          conns.emplace(cfd, std::move(c));
          accepted_.fetch_add(1);
          open_.fetch_add(1);
        }
        continue;
      }
      auto it = conns.find(fd);
      if (it == conns.end()) continue;
      Conn& c = *it->second;
      if (events[i].events & (EPOLLERR | EPOLLHUP)) {
        close_conn(fd);
        continue;
      }
      if (events[i].events & (EPOLLIN | EPOLLRDHUP)) {
        char buf[16 * 1024];
        bool gone = false;
        while (true) {
          ssize_t r = ::recv(fd, buf, sizeof buf, 0);
          if (r > 0) {
            if (!c.sending) c.in.append(buf, size_t(r));
            continue;
          }
          if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) gone = true;
          break;
        }
        if (gone) {
          close_conn(fd);
          continue;
        }
        size_t end = c.in.find("\r\n\r\n");
        if (!c.sending && end != std::string::npos) {
          c.in.erase(0, end + 4);
          requests_.fetch_add(1);
          c.sending = true;
          c.head_left = response_.head.size();
          c.fill_left = response_.body_bytes;
          c.tail_left = response_.tail.size();
          c.resume_at = {};
        }
      }
      if (c.sending && !pump(c)) close_conn(fd);
    }
    if (response_.pause_after_head > Ms{0}) {
      // Connections whose pause ended: epoll has no timer for them.
      std::vector<int> gone;
      auto now = Clock::now();
      for (auto& [fd, c] : conns)
        if (c->sending && c->head_left == 0 && c->resume_at <= now && !pump(*c)) gone.push_back(fd);
      for (int fd : gone) close_conn(fd);
    }
  }
  open_ = 0;
}

}  // namespace portico::it
