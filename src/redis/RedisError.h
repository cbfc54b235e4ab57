// How a Redis call ended, when not with a reply.
#pragma once

#include <cstdint>

namespace portico::redis {

enum class RedisError : uint8_t {
  kNone,          // a reply (not an error reply)
  kErrorReply,    // Redis answered with an error; the reply holds its text
  kTimeout,       // no reply within command_timeout
  kDisconnected,  // the connection was lost (or dropped as stalled) before the reply
  kUnavailable,   // refused at once: not connected
  kBusy,          // refused at once: max_in_flight commands are outstanding
  kClosed,        // the client was closed (or destroyed) before the reply
};

constexpr const char* to_string(RedisError e) {
  switch (e) {
    case RedisError::kNone:
      return "ok";
    case RedisError::kErrorReply:
      return "error reply";
    case RedisError::kTimeout:
      return "timeout";
    case RedisError::kDisconnected:
      return "disconnected";
    case RedisError::kUnavailable:
      return "unavailable";
    case RedisError::kBusy:
      return "busy";
    case RedisError::kClosed:
      return "closed";
  }
  return "?";
}

}  // namespace portico::redis
