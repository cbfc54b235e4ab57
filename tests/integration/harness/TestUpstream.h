// A real HTTP/1.1 origin server on 127.0.0.1 for the proxy to talk to. One thread accepts, one
// thread per connection serves (blocking-style code over non-blocking sockets and poll, in
// 50 ms slices so that stopping is prompt). Keep-alive and pipelining are supported.
// What it answers is decided per request by a handler; it records everything it receives.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "harness/Deadline.h"
#include "harness/Headers.h"
#include "harness/RequestParser.h"
#include "harness/Socket.h"

namespace portico::it {

struct UpstreamResponse {
  int status = 200;
  std::string reason;  // empty: the standard phrase
  Headers headers;
  std::string body;
  bool chunked = false;           // Transfer-Encoding: chunked
  size_t chunk_size = 64 * 1024;  // piece size for chunks and generated/slow bodies
  uint64_t generated_size = 0;  // > 0: the body is PatternBytes(0, generated_size), made on the fly
  Ms delay{0};                  // wait before sending anything
  Ms chunk_delay{0};            // wait between body pieces (slow stream)
  bool content_length = true;   // false (and not chunked): close-delimited body
  bool close = false;           // Connection: close, then close
  bool close_silently = false;  // close after the response without announcing it
  std::optional<uint64_t> abort_after;  // send only this many body bytes, then reset
  std::optional<std::string> raw;       // send exactly these bytes instead of a response
};

using UpstreamHandler = std::function<UpstreamResponse(const HttpRequest&)>;

enum class UpstreamMode {
  kServe,              // answer every request with the handler
  kResetOnAccept,      // accept, then close with a TCP reset at once
  kCloseOnAccept,      // accept, then close (FIN) at once
  kResetAfterRequest,  // read one whole request, then reset without answering
  kNeverRespond,       // read requests, never answer, keep the connection open
};

struct UpstreamOptions {
  UpstreamMode mode = UpstreamMode::kServe;
  bool answer_100_continue = true;  // send "100 Continue" when a request head has Expect
  Ms pause_after_head{0};           // stop reading for this long after each request head
  size_t max_stored_body = std::numeric_limits<size_t>::max();  // keep at most this much body
};

// 200 text/plain "ok METHOD TARGET".
UpstreamResponse DefaultResponse(const HttpRequest& request);
// 200 with the request body as the response body.
UpstreamResponse EchoResponse(const HttpRequest& request);
// 200 with "size=N checksum=H" of the request body (for large uploads).
UpstreamResponse BodySummaryResponse(const HttpRequest& request);

// A given port for TestUpstream to listen on, e.g. to bring back an upstream that a test
// stopped, on the address the proxy already knows.
struct BindPort {
  uint16_t port = 0;  // 0: any free port
};

// A loopback IPv4 address (and port) for TestUpstream to listen on. Linux routes all of
// 127.0.0.0/8 to lo, so e.g. 127.0.0.2 binds without any setup; two upstreams can then share
// one port on different addresses (as the addresses of one DNS name would).
struct BindAddress {
  std::string ip = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port
};

class TestUpstream {
 public:
  explicit TestUpstream(UpstreamHandler handler = DefaultResponse, UpstreamOptions options = {})
      : TestUpstream(BindPort{}, std::move(handler), options) {}
  explicit TestUpstream(UpstreamOptions options) : TestUpstream(DefaultResponse, options) {}
  // Listens on 127.0.0.1:port; throws std::runtime_error when the port cannot be bound.
  explicit TestUpstream(BindPort bind, UpstreamHandler handler = DefaultResponse,
                        UpstreamOptions options = {})
      : TestUpstream(BindAddress{"127.0.0.1", bind.port}, std::move(handler), options) {}
  // Listens on ip:port (an IPv4 address); throws std::runtime_error when it cannot be bound.
  explicit TestUpstream(BindAddress bind, UpstreamHandler handler = DefaultResponse,
                        UpstreamOptions options = {});
  ~TestUpstream();
  TestUpstream(const TestUpstream&) = delete;
  TestUpstream& operator=(const TestUpstream&) = delete;

  uint16_t port() const { return port_; }
  const std::string& ip() const { return ip_; }
  std::string address() const { return ip_ + ":" + std::to_string(port_); }

  void SetHandler(UpstreamHandler handler);

  size_t connections_accepted() const { return accepted_.load(); }
  size_t open_connections() const { return open_.load(); }
  // The most connections that were open at once.
  size_t peak_open_connections() const { return peak_open_.load(); }
  size_t requests_received() const;
  std::vector<HttpRequest> requests() const;
  std::optional<HttpRequest> last_request() const;

  bool WaitForRequests(size_t n, Ms timeout) const;
  bool WaitForConnections(size_t n, Ms timeout) const;
  bool WaitForRequestHeads(size_t n, Ms timeout) const;
  size_t request_heads() const;
  // Waits until at most `n` accepted connections are still open on the upstream side.
  bool WaitForOpenConnectionsAtMost(size_t n, Ms timeout) const;

 private:
  void AcceptLoop();
  void Serve(Fd fd, size_t index);
  bool WriteResponse(int fd, const HttpRequest& request, const UpstreamResponse& response);
  bool SleepFor(Ms duration) const;  // false if stopped meanwhile
  void Record(HttpRequest request);
  void CloseGracefully(Fd& fd);

  UpstreamOptions options_;
  Fd listener_;
  std::string ip_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> accepted_{0};
  std::atomic<size_t> open_{0};
  std::atomic<size_t> peak_open_{0};

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  UpstreamHandler handler_;
  std::vector<HttpRequest> requests_;
  size_t heads_ = 0;
  std::vector<std::thread> connection_threads_;
  std::thread accept_thread_;
};

}  // namespace portico::it
