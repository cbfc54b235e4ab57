// The TLS side of one listener: its certificates, protocol settings, session resumption
// and client certificate checks, compiled into OpenSSL contexts once per config load and
// shared read-only by every worker.
//
// Certificates with the same server names share one SSL_CTX, so that an RSA and an ECDSA
// certificate for the same site are both offered and OpenSSL picks the one the client's
// signature algorithms allow. The SNI callback moves a connection to the context of its
// server name; the first certificate's context answers clients without a known name
// (unless reject_unknown_server_name). Some settings are read from the context a
// connection started on and others from the one it moved to, so every context of a
// listener gets the same settings besides its certificates.
//
// Lifetime: the contexts' callbacks point into this object and its ticket ring, so each
// SSL from new_connection() holds a reference to it (in its ex_data): a reload may drop
// the old context while its connections are still open.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/Config.h"
#include "tls/OpenSsl.h"
#include "tls/ServerNameTable.h"
#include "tls/TicketKeyRing.h"

namespace portico::tls {

class ServerTlsContext : public std::enable_shared_from_this<ServerTlsContext> {
  struct Token {
    explicit Token() = default;
  };

 public:
  // Reads the listener's certificates and CA file and builds the SSL_CTXs. Throws
  // std::invalid_argument "SOURCE:LINE:COL: listener NAME: tls.certificates[I]: PROBLEM"
  // at a certificate's position, or "SOURCE:LINE:COL: listener NAME: tls: PROBLEM" at
  // `tls:` for the whole listener (versions, ciphers, ALPN, the client CA file). SOURCE:
  // the config file's name.
  // `tickets`: the ring of the previous config, kept when its rotation is still the
  // configured one (a ring with another rotation is replaced); nullptr: a new ring.
  static std::shared_ptr<const ServerTlsContext> build(const config::Listener& listener,
                                                       std::string_view source,
                                                       std::shared_ptr<TicketKeyRing> tickets);

  // A server-side SSL for one accepted connection, in accept state; nullptr when OpenSSL
  // fails (its errors are left in the thread's queue: take_errors()). Not for SSL_dup.
  SslPtr new_connection() const;

  // Null when session tickets are off.
  const std::shared_ptr<TicketKeyRing>& tickets() const { return tickets_; }

  // Every file it read (certificates, keys, the CA bundle), for the config watcher.
  const std::vector<std::string>& files() const { return files_; }

  struct CertificateInfo {
    std::vector<std::string> names;  // the names it answers for (server_names, else its own)
    std::string key_type;
    std::string subject;
    int64_t not_after = 0;  // unix seconds
    std::string cert_file;
  };
  // In config order.
  const std::vector<CertificateInfo>& certificates() const { return certificates_; }

  // After a failed handshake: whether it failed because this listener refused the client's
  // server name (unknown, or none sent, with reject_unknown_server_name).
  static bool refused_server_name(const SSL* ssl);

  // The verified client certificate's subject (RFC 2253) once the handshake is done; ""
  // when the client sent none.
  static std::string client_subject(const SSL* ssl);

  explicit ServerTlsContext(Token) {}
  ServerTlsContext(const ServerTlsContext&) = delete;
  ServerTlsContext& operator=(const ServerTlsContext&) = delete;

 private:
  class Builder;

  static int on_server_name(SSL* ssl, int* alert, void* self);
  static int on_alpn(SSL* ssl, const unsigned char** out, unsigned char* out_size,
                     const unsigned char* in, unsigned int in_size, void* self);

  std::vector<SslCtxPtr> contexts_;  // one per set of names; [0]: the default
  ServerNameTable names_;            // server name -> index into contexts_
  bool reject_unknown_server_name_ = false;
  std::string alpn_;  // the protocols in order of preference, in ALPN wire format
  std::shared_ptr<TicketKeyRing> tickets_;
  std::vector<std::string> files_;
  std::vector<CertificateInfo> certificates_;
};

}  // namespace portico::tls
