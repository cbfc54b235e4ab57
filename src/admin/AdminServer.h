// The admin API's HTTP/1.1 server. It runs on the main thread's loop, never a worker's:
// admin traffic is rare and must not delay proxied requests, and what it reports or
// changes (config, health, stats) is the main thread's to touch. It handles HTTP only:
// framing, keep-alive, limits and the bearer token; what a path means is the handler's.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "admin/AdminMessages.h"
#include "config/Config.h"
#include "core/IntrusiveList.h"

namespace portico::admin {

class AdminConnection;

struct AdminLimits {
  size_t max_head_bytes = 16 * 1024;    // request line and fields; larger: 431
  size_t max_body_bytes = 1024 * 1024;  // larger: 413
  size_t max_connections = 64;          // more are accepted and closed at once
  // From accept or the last response, a whole request must arrive within this (else 408
  // and close, or a plain close when none has started); also the time a client gets to
  // take a response.
  std::chrono::milliseconds request_timeout{30'000};
};

class AdminServer {
 public:
  using Handler = std::function<AdminResponse(const AdminRequest&)>;

  AdminServer(uv_loop_t* loop, const config::Admin& config, Handler handler,
              AdminLimits limits = {});
  ~AdminServer();
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds and listens; "" on success, else a message naming the address and the reason.
  std::string open();
  // Stops accepting and closes every connection; idempotent. The loop finishes closing
  // them; the server may be destroyed right after.
  void close();
  // A reload may change the token; it applies to the next request (an empty one: none).
  void set_token(std::string token) { token_ = std::move(token); }
  // The bound port (useful when the config said port 0); 0 when not open.
  int port() const;
  size_t connection_count() const { return connections_.size(); }

 private:
  friend class AdminConnection;

  void on_connection(int status);
  void forget(AdminConnection* connection);

  uv_loop_t* loop_;
  config::SocketAddress address_;
  std::string token_;
  Handler handler_;
  AdminLimits limits_;
  std::unique_ptr<uv_tcp_t> listener_;
  core::IntrusiveList<AdminConnection> connections_;
  bool at_capacity_logged_ = false;
};

}  // namespace portico::admin
