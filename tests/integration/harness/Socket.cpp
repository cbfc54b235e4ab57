#include "harness/Socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace portico::it {

void Fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

const char* ToString(IoStatus status) {
  switch (status) {
    case IoStatus::kOk:
      return "ok";
    case IoStatus::kTimeout:
      return "timeout";
    case IoStatus::kClosed:
      return "closed by peer";
    case IoStatus::kReset:
      return "reset by peer";
    case IoStatus::kError:
      return "socket error";
    case IoStatus::kStopped:
      return "stopped";
  }
  return "?";
}

void SetNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL, 0);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

Fd ConnectLoopback(uint16_t port, Deadline deadline, int* error) {
  int dummy = 0;
  int& err = error ? *error : dummy;
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    err = errno;
    return {};
  }
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
  if (errno != EINPROGRESS) {
    err = errno;
    return {};
  }
  while (true) {
    pollfd p{fd.get(), POLLOUT, 0};
    int rc = ::poll(&p, 1, deadline.PollMs(50));
    if (rc < 0 && errno != EINTR) {
      err = errno;
      return {};
    }
    if (rc > 0) break;
    if (deadline.Expired()) {
      err = ETIMEDOUT;
      return {};
    }
  }
  int so_error = 0;
  socklen_t len = sizeof so_error;
  ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &so_error, &len);
  if (so_error != 0) {
    err = so_error;
    return {};
  }
  return fd;
}

namespace {

bool Stopped(const std::atomic<bool>* stop) {
  return stop && stop->load(std::memory_order_relaxed);
}

IoStatus FromErrno(int e) {
  if (e == ECONNRESET || e == EPIPE) return IoStatus::kReset;
  return IoStatus::kError;
}

}  // namespace

IoStatus SendAll(int fd, std::string_view data, Deadline deadline, const std::atomic<bool>* stop,
                 size_t* sent) {
  size_t done = 0;
  auto finish = [&](IoStatus s) {
    if (sent) *sent = done;
    return s;
  };
  while (done < data.size()) {
    ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return finish(FromErrno(errno));
    if (Stopped(stop)) return finish(IoStatus::kStopped);
    if (deadline.Expired()) return finish(IoStatus::kTimeout);
    pollfd p{fd, POLLOUT, 0};
    ::poll(&p, 1, deadline.PollMs(50));
  }
  return finish(IoStatus::kOk);
}

bool WaitReadable(int fd, Deadline deadline, const std::atomic<bool>* stop) {
  while (true) {
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, deadline.PollMs(50));
    if (rc > 0) return true;
    if (Stopped(stop) || deadline.Expired()) return false;
  }
}

IoStatus RecvSome(int fd, std::string* out, size_t cap, Deadline deadline,
                  const std::atomic<bool>* stop) {
  char buf[65536];
  while (true) {
    size_t want = cap < sizeof buf ? cap : sizeof buf;
    ssize_t n = ::recv(fd, buf, want, 0);
    if (n > 0) {
      out->append(buf, static_cast<size_t>(n));
      return IoStatus::kOk;
    }
    if (n == 0) return IoStatus::kClosed;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return FromErrno(errno);
    if (Stopped(stop)) return IoStatus::kStopped;
    if (deadline.Expired()) return IoStatus::kTimeout;
    pollfd p{fd, POLLIN, 0};
    ::poll(&p, 1, deadline.PollMs(50));
  }
}

void ResetAndClose(Fd& fd) {
  if (!fd) return;
  linger l{1, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  fd.reset();
}

}  // namespace portico::it
