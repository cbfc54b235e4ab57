// An HTTPS client for tests that must hold a TLS connection open (across a reload), look
// at the handshake (certificate, ALPN, resumption) or resume a session by hand: OpenSSL
// over a non-blocking loopback socket, every wait bounded by a deadline.
#pragma once

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "harness/Deadline.h"
#include "harness/ResponseParser.h"
#include "harness/Socket.h"

namespace portico::it {

using TlsSession = std::shared_ptr<SSL_SESSION>;

struct TlsClientOptions {
  std::string server_name;  // SNI; "" sends none
  std::string ca_file;      // verify the server against it; "" = no verification
  std::string verify_name;  // the name to verify ("" = server_name)
  std::string cert, key;    // a client certificate
  std::string alpn = "http/1.1";
  TlsSession session;   // resume this session
  int max_version = 0;  // e.g. TLS1_2_VERSION; 0 = the library's
  std::string sigalgs;  // e.g. "ECDSA+SHA256" to ask for an ECDSA certificate
};

class TlsClient {
 public:
  TlsClient();
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  // Connects and finishes the handshake; false with error() otherwise (the alert or
  // verification failure in its text).
  bool Connect(uint16_t port, const TlsClientOptions& options, Ms timeout = Ms{3000});
  bool Send(std::string_view data, Ms timeout = Ms{3000});
  std::optional<HttpResponse> ReadResponse(Ms timeout = Ms{5000});
  // True when the server closed the connection within `timeout`.
  bool WaitForClose(Ms timeout);

  std::string PeerSubject() const;  // the server certificate's subject, RFC 2253
  int PeerKeyBits() const;
  std::string PeerKeyType() const;  // "RSA", "EC"
  bool Resumed() const;
  std::string Alpn() const;
  std::string Version() const;  // "TLSv1.3"
  // The session to resume later. TLS 1.3 tickets arrive after the handshake: read a
  // response first.
  TlsSession Session() const;
  const std::string& error() const { return error_; }

 private:
  // Runs an SSL call until it succeeds, fails or the deadline passes.
  template <typename Op>
  bool Drive(Op op, Deadline deadline, const char* what);

  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> ctx_;
  std::unique_ptr<SSL, void (*)(SSL*)> ssl_;
  Fd fd_;
  ResponseParser parser_;
  std::string buf_;
  std::string error_;
};

}  // namespace portico::it
