// A real nginx on 127.0.0.1 for tests that need a server Portico does not write: a TLS
// upstream that checks client certificates, keeps connections alive and reports what it
// saw ($ssl_server_name, $ssl_client_s_dn, $ssl_session_reused, $connection_requests).
// One process (master_process off), its files in a private directory.
#pragma once

#include <cstdint>
#include <string>

#include "harness/ChildProcess.h"
#include "harness/Deadline.h"
#include "harness/TempDir.h"

namespace portico::it {

class NginxServer {
 public:
  NginxServer();  // picks the port; does not start
  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;

  // Starts nginx with `server` as the body of its one server block, after a
  // `listen 127.0.0.1:PORT ssl;` line (so the block sets ssl_certificate and the rest),
  // and waits until it accepts connections. False with *error (nginx's own log) otherwise.
  bool Start(const std::string& server, std::string* error, Ms timeout = Ms{10000});

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  uint16_t port_;
  ChildProcess child_;
};

// The nginx program: $NGINX, else /usr/sbin/nginx or the first on $PATH ("" if none).
std::string NginxProgram();

}  // namespace portico::it
