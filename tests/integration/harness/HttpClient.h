// A raw TCP HTTP/1.x client for tests: sends exactly the bytes it is given, reads responses
// with llhttp (Content-Length, chunked, close-delimited, HEAD), one at a time, with deadlines.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/Deadline.h"
#include "harness/ResponseParser.h"
#include "harness/Socket.h"

namespace portico::it {

struct ReadOptions {
  Ms timeout{3000};
  bool head = false;                     // the response answers a HEAD request
  bool skip_informational = true;        // skip 1xx interim responses (100 Continue ...)
  ResponseParser::BodySink body_sink{};  // stream the body here instead of storing it
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;

  bool Connect(uint16_t port, Ms timeout = Ms{2000});
  bool connected() const { return static_cast<bool>(fd_); }

  // Sends every byte; false on timeout or when the server has gone away (see error()).
  bool Send(std::string_view data, Ms timeout = Ms{5000});
  // Sends what it can and reports how far it got (for bodies the server may refuse).
  IoStatus SendPartial(std::string_view data, Ms timeout, size_t* sent);

  // Reads the next response. std::nullopt on timeout, parse error or a close before a
  // complete response; error() says which.
  std::optional<HttpResponse> ReadResponse(const ReadOptions& options = {});
  // Reads `n` responses in order; stops at the first failure.
  std::vector<HttpResponse> ReadResponses(size_t n, const ReadOptions& options = {});

  // Waits until the server closes the connection (EOF or reset). Bytes that arrive meanwhile
  // are kept (see unread()).
  bool WaitForClose(Ms timeout);
  // Waits for the peer to reset or close the connection without reading what it sent.
  bool WaitForCloseWithoutReading(Ms timeout);
  bool peer_closed() const { return eof_; }

  // Raw receive (bypasses the parser): appends at most `cap` bytes to *out.
  IoStatus RecvRaw(std::string* out, size_t cap, Ms timeout);

  const std::string& unread() const { return buf_; }
  const std::string& error() const { return error_; }
  int fd() const { return fd_.get(); }
  void Close();
  void Reset();  // close with a TCP reset

 private:
  Fd fd_;
  std::string buf_;
  std::unique_ptr<ResponseParser> parser_;
  bool eof_ = false;
  std::string error_;
};

// "METHOD target HTTP/1.1" plus the headers given; adds Host: test.local when no Host header is
// given and Content-Length when there is a body without Content-Length/Transfer-Encoding.
std::string Request(std::string_view method, std::string_view target,
                    const std::vector<std::pair<std::string, std::string>>& headers = {},
                    std::string_view body = {});
inline std::string Get(std::string_view target,
                       const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  return Request("GET", target, headers);
}

// Chunked encoding of `pieces` (one chunk each, then the last chunk).
std::string Chunked(const std::vector<std::string>& pieces);

// Connects, sends `request`, reads one response. On failure returns nullopt and sets *error.
std::optional<HttpResponse> Fetch(uint16_t port, std::string_view request,
                                  const ReadOptions& options = {}, std::string* error = nullptr);

}  // namespace portico::it
