#include "admin/AdminServer.h"

#include <arpa/inet.h>
#include <spdlog/spdlog.h>

#include "admin/AdminConnection.h"
#include "core/UvClose.h"
#include "core/UvError.h"

namespace portico::admin {

namespace {
constexpr int kBacklog = 64;
}  // namespace

AdminServer::AdminServer(uv_loop_t* loop, const config::Admin& config, Handler handler,
                         AdminLimits limits)
    : loop_(loop),
      address_(config.address),
      token_(config.token),
      handler_(std::move(handler)),
      limits_(limits) {}

AdminServer::~AdminServer() {
  close();
}

std::string AdminServer::open() {
  if (listener_) return "admin API on " + address_.text + " is already open";
  listener_ = std::make_unique<uv_tcp_t>();
  uv_tcp_init(loop_, listener_.get());
  listener_->data = this;
  const auto* sa = reinterpret_cast<const sockaddr*>(&address_.storage);
  // IPv6-only, as listeners are: "[::]:9901" must not take the IPv4 port as well.
  const unsigned flags = sa->sa_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0;
  int rc = uv_tcp_bind(listener_.get(), sa, flags);
  const char* step = "bind";
  if (rc == 0) {
    step = "listen on";
    // libuv reports some bind errors (EADDRINUSE) only here.
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(listener_.get()), kBacklog,
                   [](uv_stream_t* s, int status) {
                     static_cast<AdminServer*>(s->data)->on_connection(status);
                   });
  }
  if (rc != 0) {
    core::close_owned(listener_);
    return "admin API: cannot " + std::string(step) + " " + address_.text + ": " +
           core::uv_error_text(rc);
  }
  return {};
}

void AdminServer::close() {
  core::close_owned(listener_);
  while (AdminConnection* c = connections_.front()) {
    connections_.remove(c);
    c->detach_and_close();
  }
  at_capacity_logged_ = false;
}

int AdminServer::port() const {
  if (!listener_) return 0;
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (uv_tcp_getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(ss).sin_port);
  return ntohs(reinterpret_cast<const sockaddr_in6&>(ss).sin6_port);
}

void AdminServer::on_connection(int status) {
  if (status < 0) {
    spdlog::warn("admin API on {}: accept: {}", address_.text, core::uv_error_text(status));
    return;
  }
  auto* stream = reinterpret_cast<uv_stream_t*>(listener_.get());
  if (connections_.size() < limits_.max_connections) {
    AdminConnection::accept(*this, stream);
    return;
  }
  // Taken off the backlog and closed, so the client learns at once instead of waiting.
  auto refused = std::make_unique<uv_tcp_t>();
  uv_tcp_init(loop_, refused.get());
  uv_accept(stream, reinterpret_cast<uv_stream_t*>(refused.get()));
  core::close_owned(refused);
  if (!at_capacity_logged_) {
    spdlog::warn("admin API on {}: {} connections open, refusing more until one closes",
                 address_.text, connections_.size());
    at_capacity_logged_ = true;
  }
}

void AdminServer::forget(AdminConnection* connection) {
  connections_.remove(connection);
  if (connections_.size() < limits_.max_connections) at_capacity_logged_ = false;
}

}  // namespace portico::admin
