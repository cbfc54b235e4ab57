#include "harness/HttpClient.h"

#include <poll.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "harness/Headers.h"

namespace portico::it {

HttpClient::HttpClient() : parser_(std::make_unique<ResponseParser>()) {}
HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

bool HttpClient::Connect(uint16_t port, Ms timeout) {
  int err = 0;
  fd_ = ConnectLoopback(port, Deadline(timeout), &err);
  buf_.clear();
  eof_ = false;
  parser_ = std::make_unique<ResponseParser>();
  if (!fd_) {
    error_ = "connect to 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(err);
    return false;
  }
  return true;
}

bool HttpClient::Send(std::string_view data, Ms timeout) {
  size_t sent = 0;
  IoStatus st = SendPartial(data, timeout, &sent);
  return st == IoStatus::kOk;
}

IoStatus HttpClient::SendPartial(std::string_view data, Ms timeout, size_t* sent) {
  if (!fd_) {
    error_ = "send: not connected";
    return IoStatus::kError;
  }
  IoStatus st = SendAll(fd_.get(), data, Deadline(timeout), nullptr, sent);
  if (st != IoStatus::kOk) {
    error_ = std::string("send: ") + ToString(st) + " after " + std::to_string(*sent) + " of " +
             std::to_string(data.size()) + " bytes";
  }
  return st;
}

std::optional<HttpResponse> HttpClient::ReadResponse(const ReadOptions& options) {
  if (!fd_) {
    error_ = "read: not connected";
    return std::nullopt;
  }
  Deadline deadline(options.timeout);
  parser_->set_body_sink(options.body_sink);
  struct ClearSink {
    ResponseParser* p;
    ~ClearSink() { p->set_body_sink({}); }
  } clear_sink{parser_.get()};

  while (true) {
    if (!parser_->started()) parser_->set_head_response(options.head);
    while (!buf_.empty()) {
      size_t used = 0;
      ResponseParser::Result r = parser_->Feed(buf_, &used);
      buf_.erase(0, used);
      if (r == ResponseParser::Result::kError) {
        error_ = "response parse error: " + parser_->error();
        return std::nullopt;
      }
      if (r == ResponseParser::Result::kComplete) {
        HttpResponse resp = parser_->Take();
        if (options.skip_informational && resp.status >= 100 && resp.status < 200 &&
            resp.status != 101) {
          parser_->set_head_response(options.head);
          continue;
        }
        return resp;
      }
      if (used == 0) break;  // defensive: no progress
    }
    if (eof_) {
      if (parser_->FinishAtEof() == ResponseParser::Result::kComplete) return parser_->Take();
      error_ = parser_->error();
      return std::nullopt;
    }
    IoStatus st = RecvSome(fd_.get(), &buf_, 1 << 20, deadline);
    if (st == IoStatus::kClosed || st == IoStatus::kReset) {
      eof_ = true;
      if (st == IoStatus::kReset) error_ = "connection reset";
      continue;
    }
    if (st != IoStatus::kOk) {
      error_ = std::string("no complete response within ") +
               std::to_string(options.timeout.count()) + " ms (" + ToString(st) +
               (parser_->started() ? ", response started" : ", nothing received") + ")";
      return std::nullopt;
    }
  }
}

std::vector<HttpResponse> HttpClient::ReadResponses(size_t n, const ReadOptions& options) {
  std::vector<HttpResponse> out;
  for (size_t i = 0; i < n; ++i) {
    auto resp = ReadResponse(options);
    if (!resp) break;
    out.push_back(std::move(*resp));
  }
  return out;
}

bool HttpClient::WaitForCloseWithoutReading(Ms timeout) {
  if (!fd_) return true;
  pollfd p{fd_.get(), POLLRDHUP, 0};
  int n = ::poll(&p, 1, int(timeout.count()));
  if (n > 0 && (p.revents & (POLLERR | POLLHUP | POLLRDHUP))) return true;
  error_ = "connection still open after " + std::to_string(timeout.count()) + " ms";
  return false;
}

bool HttpClient::WaitForClose(Ms timeout) {
  if (eof_) return true;
  if (!fd_) return true;
  Deadline deadline(timeout);
  while (buf_.size() < (64u << 20)) {
    IoStatus st = RecvSome(fd_.get(), &buf_, 1 << 20, deadline);
    if (st == IoStatus::kClosed || st == IoStatus::kReset) {
      eof_ = true;
      return true;
    }
    if (st != IoStatus::kOk) {
      error_ = "connection still open after " + std::to_string(timeout.count()) + " ms";
      return false;
    }
  }
  error_ = "connection kept sending data";
  return false;
}

IoStatus HttpClient::RecvRaw(std::string* out, size_t cap, Ms timeout) {
  if (!buf_.empty()) {
    size_t n = std::min(cap, buf_.size());
    out->append(buf_, 0, n);
    buf_.erase(0, n);
    return IoStatus::kOk;
  }
  if (eof_) return IoStatus::kClosed;
  IoStatus st = RecvSome(fd_.get(), out, cap, Deadline(timeout));
  if (st == IoStatus::kClosed || st == IoStatus::kReset) eof_ = true;
  return st;
}

void HttpClient::Close() {
  fd_.reset();
}

void HttpClient::Reset() {
  ResetAndClose(fd_);
}

std::string Request(std::string_view method, std::string_view target,
                    const std::vector<std::pair<std::string, std::string>>& headers,
                    std::string_view body) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  bool has_host = false;
  bool has_framing = false;
  for (const auto& [name, value] : headers) {
    has_host |= EqualsIgnoreCase(name, "host");
    has_framing |=
        EqualsIgnoreCase(name, "content-length") || EqualsIgnoreCase(name, "transfer-encoding");
  }
  if (!has_host) out += "Host: test.local\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  if (!body.empty() && !has_framing) {
    out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  out += "\r\n";
  out.append(body);
  return out;
}

std::string Chunked(const std::vector<std::string>& pieces) {
  std::string out;
  char size[32];
  for (const auto& piece : pieces) {
    if (piece.empty()) continue;
    std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
    out += size;
    out += piece;
    out += "\r\n";
  }
  out += "0\r\n\r\n";
  return out;
}

std::optional<HttpResponse> Fetch(uint16_t port, std::string_view request,
                                  const ReadOptions& options, std::string* error) {
  HttpClient client;
  std::optional<HttpResponse> resp;
  if (client.Connect(port) && client.Send(request)) resp = client.ReadResponse(options);
  if (!resp && error) *error = client.error();
  return resp;
}

}  // namespace portico::it
