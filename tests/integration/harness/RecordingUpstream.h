// An origin on 127.0.0.1 that records every byte it receives, re-parses them into requests
// (WireParser) and answers each complete request with whatever bytes a handler returns, so a
// test controls the response's exact wire shape (header layout, framing, chunk extensions,
// trailers, a close-delimited body). Keep-alive and pipelining are supported.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness/Socket.h"
#include "harness/WireParser.h"

namespace portico::it {

struct RawAnswer {
  std::string bytes;
  bool close = false;  // close the connection after sending (a close-delimited body needs it)
};

class RecordingUpstream {
 public:
  using Handler = std::function<RawAnswer(const WireMessage& request)>;

  // Listens on 127.0.0.1 (any free port); throws std::runtime_error when it cannot.
  explicit RecordingUpstream(Handler handler);
  ~RecordingUpstream();
  RecordingUpstream(const RecordingUpstream&) = delete;
  RecordingUpstream& operator=(const RecordingUpstream&) = delete;

  uint16_t port() const { return port_; }
  size_t connections_accepted() const { return accepted_.load(); }
  // Every complete request, in the order they were completed (connection set).
  std::vector<WireMessage> requests() const;
  // Problems seen on any connection: parse errors, a close mid-request.
  std::vector<std::string> errors() const;

 private:
  void AcceptLoop();
  void Serve(Fd fd, size_t index);

  Handler handler_;
  Fd listener_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> accepted_{0};

  mutable std::mutex mu_;
  std::vector<WireMessage> requests_;
  std::vector<std::string> errors_;
  std::vector<std::thread> threads_;
  std::thread accept_thread_;
};

}  // namespace portico::it
