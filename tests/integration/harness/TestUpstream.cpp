#include "harness/TestUpstream.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstdio>
#include <stdexcept>

#include "harness/Checksum.h"

namespace portico::it {

namespace {

const char* Reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 418:
      return "I'm a teapot";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

bool BodyForbidden(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

std::string Hex(size_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%zx", n);
  return buf;
}

constexpr Ms kForever{3600 * 1000};

}  // namespace

UpstreamResponse DefaultResponse(const HttpRequest& request) {
  UpstreamResponse r;
  r.headers.Add("Content-Type", "text/plain");
  r.body = "ok " + request.method + " " + request.target;
  return r;
}

UpstreamResponse EchoResponse(const HttpRequest& request) {
  UpstreamResponse r;
  r.headers.Add("Content-Type", "application/octet-stream");
  r.body = request.body;
  return r;
}

UpstreamResponse BodySummaryResponse(const HttpRequest& request) {
  UpstreamResponse r;
  r.headers.Add("Content-Type", "text/plain");
  r.body = "size=" + std::to_string(request.body_size) +
           " checksum=" + std::to_string(request.body_checksum);
  return r;
}

TestUpstream::TestUpstream(BindAddress bind, UpstreamHandler handler, UpstreamOptions options)
    : options_(options), ip_(std::move(bind.ip)), handler_(std::move(handler)) {
  listener_ = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!listener_) throw std::runtime_error("upstream: socket() failed");
  int one = 1;
  ::setsockopt(listener_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  if (::inet_pton(AF_INET, ip_.c_str(), &addr.sin_addr) != 1) {
    throw std::runtime_error("upstream: not an IPv4 address: " + ip_);
  }
  addr.sin_port = htons(bind.port);
  if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener_.get(), 512) != 0) {
    throw std::runtime_error("upstream: bind/listen failed on " + ip_ + ":" +
                             std::to_string(bind.port));
  }
  socklen_t len = sizeof addr;
  ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

TestUpstream::~TestUpstream() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (accept_thread_.joinable()) accept_thread_.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(connection_threads_);
  }
  for (auto& t : threads) t.join();
}

void TestUpstream::SetHandler(UpstreamHandler handler) {
  std::lock_guard lock(mu_);
  handler_ = std::move(handler);
}

size_t TestUpstream::requests_received() const {
  std::lock_guard lock(mu_);
  return requests_.size();
}

std::vector<HttpRequest> TestUpstream::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

std::optional<HttpRequest> TestUpstream::last_request() const {
  std::lock_guard lock(mu_);
  if (requests_.empty()) return std::nullopt;
  return requests_.back();
}

bool TestUpstream::WaitForRequests(size_t n, Ms timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
}

bool TestUpstream::WaitForRequestHeads(size_t n, Ms timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return heads_ >= n; });
}

size_t TestUpstream::request_heads() const {
  std::lock_guard lock(mu_);
  return heads_;
}

bool TestUpstream::WaitForOpenConnectionsAtMost(size_t n, Ms timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return open_.load() <= n; });
}

bool TestUpstream::WaitForConnections(size_t n, Ms timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return accepted_.load() >= n; });
}

bool TestUpstream::SleepFor(Ms duration) const {
  if (duration.count() <= 0) return !stop_;
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, duration, [&] { return stop_.load(); });
}

void TestUpstream::Record(HttpRequest request) {
  {
    std::lock_guard lock(mu_);
    requests_.push_back(std::move(request));
  }
  cv_.notify_all();
}

void TestUpstream::AcceptLoop() {
  while (!stop_) {
    pollfd p{listener_.get(), POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) continue;
    Fd conn(fd);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    size_t index = accepted_.fetch_add(1);
    size_t open_now = open_.fetch_add(1) + 1;
    size_t peak = peak_open_.load();
    while (open_now > peak && !peak_open_.compare_exchange_weak(peak, open_now)) {
    }
    std::lock_guard lock(mu_);
    if (stop_) {
      open_.fetch_sub(1);
      break;
    }
    connection_threads_.emplace_back(
        [this, index, c = std::move(conn)]() mutable { Serve(std::move(c), index); });
    cv_.notify_all();
  }
}

void TestUpstream::CloseGracefully(Fd& fd) {
  // FIN first, then drain what the peer still sends (bounded), so close() does not turn into
  // a reset because of unread bytes.
  ::shutdown(fd.get(), SHUT_WR);
  Deadline deadline(Ms{500});
  std::string sink;
  while (true) {
    sink.clear();
    IoStatus st = RecvSome(fd.get(), &sink, 1 << 16, deadline, &stop_);
    if (st != IoStatus::kOk) break;
  }
  fd.reset();
}

void TestUpstream::Serve(Fd fd, size_t index) {
  struct OpenCount {
    TestUpstream* self;
    ~OpenCount() {
      {
        std::lock_guard lock(self->mu_);
        self->open_.fetch_sub(1);
      }
      self->cv_.notify_all();
    }
  } open_count{this};

  switch (options_.mode) {
    case UpstreamMode::kResetOnAccept:
      ResetAndClose(fd);
      return;
    case UpstreamMode::kCloseOnAccept:
      fd.reset();
      return;
    default:
      break;
  }

  RequestParser parser(options_.max_stored_body);
  bool pause_pending = false;
  parser.set_head_callback([&](const HttpRequest& head) {
    {
      std::lock_guard lock(mu_);
      ++heads_;
    }
    cv_.notify_all();
    if (options_.answer_100_continue && head.headers.HasToken("expect", "100-continue") &&
        (head.http_major > 1 || head.http_minor >= 1)) {
      SendAll(fd.get(), "HTTP/1.1 100 Continue\r\n\r\n", Deadline(Ms{2000}), &stop_);
    }
    if (options_.pause_after_head.count() > 0) pause_pending = true;
  });

  std::string buf;
  while (!stop_) {
    buf.clear();
    IoStatus st = RecvSome(fd.get(), &buf, 256 * 1024, Deadline(kForever), &stop_);
    if (st != IoStatus::kOk) return;  // stopped, closed or reset
    if (!parser.Feed(buf)) {
      SendAll(fd.get(),
              "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
              Deadline(Ms{1000}), &stop_);
      CloseGracefully(fd);
      return;
    }
    for (HttpRequest& request : parser.TakeComplete()) {
      request.connection_index = index;
      HttpRequest copy = request;
      Record(std::move(request));
      if (options_.mode == UpstreamMode::kResetAfterRequest) {
        ResetAndClose(fd);
        return;
      }
      if (options_.mode == UpstreamMode::kNeverRespond) continue;
      UpstreamHandler handler;
      {
        std::lock_guard lock(mu_);
        handler = handler_;
      }
      UpstreamResponse response = handler(copy);
      if (!WriteResponse(fd.get(), copy, response)) {
        if (response.abort_after) {
          ResetAndClose(fd);
        } else {
          CloseGracefully(fd);
        }
        return;
      }
      bool close_delimited = !response.chunked && !response.content_length &&
                             !BodyForbidden(response.status) && copy.method != "HEAD";
      if (!copy.keep_alive || response.close || response.close_silently || close_delimited ||
          response.raw) {
        CloseGracefully(fd);
        return;
      }
    }
    if (pause_pending) {
      pause_pending = false;
      if (!SleepFor(options_.pause_after_head)) return;
    }
  }
}

bool TestUpstream::WriteResponse(int fd, const HttpRequest& request,
                                 const UpstreamResponse& response) {
  if (!SleepFor(response.delay)) return false;
  Deadline deadline(kForever);
  if (response.raw) {
    SendAll(fd, *response.raw, deadline, &stop_);
    return false;  // raw answers end the connection
  }
  bool is_head = request.method == "HEAD";
  bool forbidden = BodyForbidden(response.status);
  uint64_t total = response.generated_size > 0 ? response.generated_size : response.body.size();

  std::string head = "HTTP/1.1 " + std::to_string(response.status) + " " +
                     (response.reason.empty() ? Reason(response.status) : response.reason) + "\r\n";
  for (const auto& [name, value] : response.headers.fields()) head += name + ": " + value + "\r\n";
  if (!forbidden) {
    if (response.chunked) {
      head += "Transfer-Encoding: chunked\r\n";
    } else if (response.content_length) {
      head += "Content-Length: " + std::to_string(total) + "\r\n";
    }
  }
  if (response.close) head += "Connection: close\r\n";
  head += "\r\n";
  bool no_body = forbidden || is_head;
  // A small fixed body goes out with the head in one write, as real servers do.
  if (!no_body && !response.chunked && response.generated_size == 0 && !response.abort_after &&
      response.chunk_delay.count() == 0 && response.body.size() <= 16384) {
    head += response.body;
    return SendAll(fd, head, deadline, &stop_) == IoStatus::kOk;
  }
  if (SendAll(fd, head, deadline, &stop_) != IoStatus::kOk) return false;
  if (no_body) return true;

  uint64_t limit = response.abort_after ? std::min(*response.abort_after, total) : total;
  size_t piece_size = std::max<size_t>(1, response.chunk_size);
  for (uint64_t off = 0; off < limit;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(piece_size, limit - off));
    std::string_view piece;
    if (response.generated_size > 0) {
      n = std::min(n, kMaxPatternView);
      piece = PatternView(off, n);
    } else {
      piece = std::string_view(response.body).substr(off, n);
    }
    if (response.chunked) {
      std::string size_line = Hex(n) + "\r\n";
      if (SendAll(fd, size_line, deadline, &stop_) != IoStatus::kOk) return false;
    }
    if (SendAll(fd, piece, deadline, &stop_) != IoStatus::kOk) return false;
    if (response.chunked && SendAll(fd, "\r\n", deadline, &stop_) != IoStatus::kOk) return false;
    off += n;
    if (off < limit && response.chunk_delay.count() > 0 && !SleepFor(response.chunk_delay)) {
      return false;
    }
  }
  if (response.abort_after) return false;
  if (response.chunked && SendAll(fd, "0\r\n\r\n", deadline, &stop_) != IoStatus::kOk) {
    return false;
  }
  return true;
}

}  // namespace portico::it
