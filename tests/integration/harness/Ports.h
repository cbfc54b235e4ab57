// Loopback ports for listeners the proxy will bind, and ports known to have nobody listening.
#pragma once

#include <cstdint>

namespace portico::it {

// A port that was free on 127.0.0.1 a moment ago (bound to port 0, read back, closed).
// Never returns the same port twice in one test process.
uint16_t FreePort();

// A port with no listener, for "connection refused" upstreams. Same as FreePort(): nothing is
// left listening on it.
inline uint16_t RefusedPort() {
  return FreePort();
}

}  // namespace portico::it
