// A one-thread epoll origin on 127.0.0.1 that answers every request head (bodies are not
// expected) with a fixed response head and then `body_bytes` copies of one byte, sent as
// fast as each connection takes them, or for ever (kEndless). Cheap for hundreds of
// connections, and the way to play an upstream that never stops sending a head line or a
// chunk-size line. It records connections accepted, still open, and requests.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>

#include "harness/Deadline.h"
#include "harness/Socket.h"

namespace portico::it {

struct StreamingResponse {
  static constexpr uint64_t kEndless = std::numeric_limits<uint64_t>::max();
  std::string head;         // sent first, as is (e.g. "HTTP/1.1 200 OK\r\nX: ")
  char fill = 'x';          // then this byte
  uint64_t body_bytes = 0;  // this many times (kEndless: until the peer goes away)
  std::string tail;         // then this, and the connection waits for the next request
  Ms pause_after_head{0};   // a pause between the head and the fill (e.g. so it is relayed)
  int send_buffer = 0;      // > 0: SO_SNDBUF of each connection (less kept in the kernel)
};

class StreamingUpstream {
 public:
  explicit StreamingUpstream(StreamingResponse response);
  ~StreamingUpstream();
  StreamingUpstream(const StreamingUpstream&) = delete;
  StreamingUpstream& operator=(const StreamingUpstream&) = delete;

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  size_t connections_accepted() const { return accepted_.load(); }
  size_t open_connections() const { return open_.load(); }
  size_t requests() const { return requests_.load(); }
  // Waits until `pred()` holds, polling every 10 ms.
  template <typename Pred>
  bool WaitFor(Pred pred, Ms timeout) const {
    Deadline deadline(timeout);
    while (!pred()) {
      if (deadline.Expired()) return false;
      std::this_thread::sleep_for(Ms{10});
    }
    return true;
  }

 private:
  void Loop();

  StreamingResponse response_;
  Fd listener_;
  Fd epoll_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> accepted_{0};
  std::atomic<size_t> open_{0};
  std::atomic<size_t> requests_{0};
  std::thread thread_;
};

}  // namespace portico::it
