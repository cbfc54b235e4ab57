// TLS to a pool's endpoints: one client SSL_CTX per upstream, built when the config loads
// and shared read-only by every worker. Each connection gets its server name (SNI and the
// name its certificate is verified against) from the config or the endpoint's host.
//
// Session resumption: OpenSSL keeps no client sessions itself. A connection hands the
// sessions it receives to the SessionSink its SSL app data points to; the owner passes
// one back to new_connection() to resume it.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/Config.h"
#include "tls/OpenSsl.h"

namespace portico::tls {

// Gets the sessions a TLS client connection receives, so they can be resumed later. Set
// it with SSL_set_app_data(ssl, static_cast<SessionSink*>(sink)); the app data of SSLs
// from UpstreamTlsContext is reserved for it. Called from within SSL_do_handshake (TLS
// 1.2) or SSL_read (TLS 1.3 tickets come after the handshake), on the connection's thread.
//
// A session stays resumable only if its connection ends cleanly: SSL_shutdown, or
// SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN) for one closed without close_notify (an idle
// timeout). OpenSSL takes an SSL freed otherwise for a failed connection and marks its
// session not resumable (SSL_SESSION_is_resumable), as RFC 5246 §7.2.2 wants.
class SessionSink {
 public:
  virtual void on_new_session(SslSessionPtr session) = 0;

 protected:
  ~SessionSink() = default;
};

class UpstreamTlsContext {
  struct Token {
    explicit Token() = default;
  };

 public:
  // Throws std::invalid_argument "SOURCE:LINE:COL: upstream NAME: tls: PROBLEM" (the
  // position of the upstream's `tls:`).
  static std::shared_ptr<const UpstreamTlsContext> build(const config::Upstream& upstream,
                                                         std::string_view source);

  // A client SSL, in connect state, to an endpoint whose host is `host` (a name or an IP
  // literal, as written in the config). SNI and the verified name are the configured
  // server_name, else `host`; an IP literal is verified as an IP address and sent no SNI.
  // `session`: one to resume (may be null; ignored when session_reuse is off). nullptr
  // when OpenSSL fails (its errors are left in the thread's queue: take_errors()).
  SslPtr new_connection(std::string_view host, SSL_SESSION* session) const;

  bool session_reuse() const { return session_reuse_; }

  // Every file it read (CA bundle, client certificate and key), for the config watcher.
  const std::vector<std::string>& files() const { return files_; }

  // A digest of its settings and of the certificates and key it loaded (tls/Fingerprint.h):
  // equal for contexts that verify and present the same things.
  uint64_t fingerprint() const { return fingerprint_; }
  // Whether connections and sessions made under `a` may be used under `b`: both plain HTTP
  // (null), or both TLS with the same fingerprint. A reload that changes a file's content
  // keeps its path, so comparing the config's settings is not enough.
  static bool same(const UpstreamTlsContext* a, const UpstreamTlsContext* b) {
    if (!a || !b) return a == b;
    return a->fingerprint_ == b->fingerprint_;
  }

  explicit UpstreamTlsContext(Token) {}
  UpstreamTlsContext(const UpstreamTlsContext&) = delete;
  UpstreamTlsContext& operator=(const UpstreamTlsContext&) = delete;

 private:
  class Builder;

  static int on_new_session(SSL* ssl, SSL_SESSION* session);

  SslCtxPtr ctx_;
  std::string server_name_;  // empty: each endpoint's host
  bool verify_ = true;
  bool session_reuse_ = true;
  std::vector<std::string> files_;
  uint64_t fingerprint_ = 0;
};

}  // namespace portico::tls
