// A real redis-server on 127.0.0.1 for tests: a free port, no persistence, its files in a
// private directory. Start() returns once it answers PING; it can be killed, paused
// (SIGSTOP: a server that accepts bytes and answers nothing) and started again on the same
// port.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "harness/ChildProcess.h"
#include "harness/Deadline.h"
#include "harness/TempDir.h"

namespace portico::it {

class RedisServer {
 public:
  RedisServer();  // picks the port; does not start
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts it and waits (at most `timeout`) until it answers PING. False with *error set when
  // it cannot be started, exits, or does not answer in time.
  bool Start(std::string* error, Ms timeout = Ms{10000});
  void Kill();    // SIGKILL and reap: clients see their connections reset
  bool Pause();   // SIGSTOP
  bool Resume();  // SIGCONT
  bool Running() { return child_.Running(); }

  uint16_t port() const { return port_; }

  // Sends one command on a new connection and returns the reply: the text of a status,
  // error ("-ERR ...") or integer reply, the content of a bulk string, "(nil)" for a null;
  // "" on a timeout or an unexpected reply.
  std::string Command(std::initializer_list<std::string_view> argv, Ms timeout = Ms{2000});

 private:
  TempDir dir_;
  uint16_t port_;
  ChildProcess child_;
};

// The redis-server program: $REDIS_SERVER, else the first on $PATH ("" if none).
std::string RedisServerProgram();

}  // namespace portico::it
