// A bare TLS origin for the cases nginx will not produce: it answers every connection
// with fixed bytes and then ends it either properly (close_notify, then FIN) or with a
// bare FIN, which over TLS is indistinguishable from an attacker cutting the stream.
// One thread, one connection at a time, every wait bounded.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "harness/Socket.h"

namespace portico::it {

class TlsOrigin {
 public:
  // `cert`/`key`: PEM files; `response`: the bytes sent after each request head.
  TlsOrigin(std::string cert, std::string key, std::string response, bool close_notify);
  ~TlsOrigin();
  TlsOrigin(const TlsOrigin&) = delete;
  TlsOrigin& operator=(const TlsOrigin&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }

 private:
  void Serve();

  std::string cert_, key_, response_;
  bool close_notify_;
  Fd listener_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

}  // namespace portico::it
