#include "harness/TlsOrigin.h"

#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>

namespace portico::it {

TlsOrigin::TlsOrigin(std::string cert, std::string key, std::string response, bool close_notify)
    : cert_(std::move(cert)),
      key_(std::move(key)),
      response_(std::move(response)),
      close_notify_(close_notify) {
  listener_ = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener_.get(), 16) != 0 ||
      ::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("TlsOrigin: cannot listen on 127.0.0.1");
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

TlsOrigin::~TlsOrigin() {
  stop_ = true;
  thread_.join();
}

void TlsOrigin::Serve() {
  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx.get(), key_.c_str(), SSL_FILETYPE_PEM) != 1)
    return;
  while (!stop_) {
    if (!WaitReadable(listener_.get(), Deadline(Ms{100}), &stop_)) continue;
    Fd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn) continue;
    timeval tv{2, 0};  // a blocking socket whose every wait is bounded
    ::setsockopt(conn.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(conn.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    std::unique_ptr<SSL, void (*)(SSL*)> ssl(SSL_new(ctx.get()), SSL_free);
    SSL_set_fd(ssl.get(), conn.get());
    if (SSL_accept(ssl.get()) != 1) continue;
    std::string head;
    char buf[4096];
    while (head.find("\r\n\r\n") == std::string::npos) {
      int n = SSL_read(ssl.get(), buf, sizeof buf);
      if (n <= 0) break;
      head.append(buf, size_t(n));
    }
    if (head.find("\r\n\r\n") == std::string::npos) continue;
    ++requests_;
    SSL_write(ssl.get(), response_.data(), int(response_.size()));
    if (close_notify_)
      SSL_shutdown(ssl.get());
    else
      SSL_set_quiet_shutdown(ssl.get(), 1);  // SSL_free sends nothing either
    ::shutdown(conn.get(), SHUT_WR);
  }
}

}  // namespace portico::it
