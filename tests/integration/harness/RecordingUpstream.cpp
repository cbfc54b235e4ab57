#include "harness/RecordingUpstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <stdexcept>

namespace portico::it {

namespace {
// Waits are bounded by the stop flag; the deadline only has to be out of reach.
constexpr Ms kForever{3600 * 1000};
}  // namespace

RecordingUpstream::RecordingUpstream(Handler handler) : handler_(std::move(handler)) {
  listener_ = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!listener_) throw std::runtime_error("recording upstream: socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener_.get(), 128) != 0 ||
      ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("recording upstream: bind/listen failed");
  port_ = ntohs(addr.sin_port);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

RecordingUpstream::~RecordingUpstream() {
  stop_ = true;
  if (accept_thread_.joinable()) accept_thread_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
}

std::vector<WireMessage> RecordingUpstream::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

std::vector<std::string> RecordingUpstream::errors() const {
  std::lock_guard lock(mu_);
  return errors_;
}

void RecordingUpstream::AcceptLoop() {
  while (!stop_) {
    pollfd p{listener_.get(), POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) continue;
    Fd conn(fd);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    size_t index = accepted_.fetch_add(1);
    std::lock_guard lock(mu_);
    threads_.emplace_back(
        [this, index, c = std::move(conn)]() mutable { Serve(std::move(c), index); });
  }
}

void RecordingUpstream::Serve(Fd fd, size_t index) {
  WireParser parser(WireParser::Kind::kRequest);
  auto fail = [&](std::string what) {
    std::lock_guard lock(mu_);
    errors_.push_back("upstream connection " + std::to_string(index) + ": " + std::move(what));
  };
  std::string in;
  while (!stop_) {
    in.clear();
    IoStatus st = RecvSome(fd.get(), &in, 1 << 16, Deadline(kForever), &stop_);
    if (st != IoStatus::kOk) {
      if (st == IoStatus::kClosed && !parser.FinishAtEof()) fail("closed mid-request");
      return;
    }
    if (!parser.Feed(in)) return fail("unparsable request bytes: " + parser.error());
    for (WireMessage& request : parser.TakeComplete()) {
      request.connection = index;
      RawAnswer answer = handler_(request);
      {
        std::lock_guard lock(mu_);
        requests_.push_back(std::move(request));
      }
      if (SendAll(fd.get(), answer.bytes, Deadline(kForever), &stop_) != IoStatus::kOk) return;
      if (answer.close) {
        // FIN, then read until the proxy closes too, so that close() sends no reset.
        ::shutdown(fd.get(), SHUT_WR);
        std::string sink;
        while (RecvSome(fd.get(), &sink, 1 << 16, Deadline(Ms{2000}), &stop_) == IoStatus::kOk)
          sink.clear();
        return;
      }
    }
  }
}

}  // namespace portico::it
