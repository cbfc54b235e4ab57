// Loopback ports for listeners the proxy will bind, and ports known to refuse connections.
#pragma once

#include <cstdint>
#include <string>

#include "harness/Socket.h"

namespace portico::it {

// A port that is free on 127.0.0.1 right now, for the proxy to bind. Taken below the kernel's
// ephemeral range (so client sockets of parallel tests cannot grab it meanwhile), starting at
// an offset derived from the pid (so parallel test processes rarely try the same ports), and
// never the same port twice in one process.
uint16_t FreePort();

// A port bound on 127.0.0.1 but never listening: connecting to it is refused, and nothing else
// can bind it while this object lives.
class ClosedPort {
 public:
  ClosedPort();
  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  Fd fd_;
  uint16_t port_ = 0;
};

}  // namespace portico::it
