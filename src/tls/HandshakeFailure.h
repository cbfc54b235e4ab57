// Why a TLS handshake failed, in the words operators count and alert on
// (portico_tls_handshake_failures_total{reason}).
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstddef>
#include <string_view>

namespace portico::tls {

enum class HandshakeFailure {
  None,
  PlainHttp,          // an HTTP request on the TLS port (answered 400 in plain text)
  NotTls,             // bytes that are not a TLS record
  UnknownServerName,  // SNI missing or unknown, and the listener rejects those
  ProtocolVersion,    // the client offers only versions the listener refuses
  NoSharedCipher,
  ClientCertificate,  // mTLS: missing or not verified
  PeerCertificate,    // client side: the upstream's certificate did not verify
  PeerAlert,          // the peer refused the handshake (e.g. it does not trust us)
  Closed,             // the peer closed before finishing
  Timeout,            // not finished within handshake_timeout
  Other,
};
inline constexpr size_t kHandshakeFailureKinds = size_t(HandshakeFailure::Other) + 1;

std::string_view failure_name(HandshakeFailure f);

// What a server connection's first byte says before OpenSSL sees it: an upper-case letter
// starts a plain-HTTP request (PlainHttp), anything but a handshake record (0x16) is not
// TLS (NotTls); None lets the handshake go on.
HandshakeFailure classify_first_byte(unsigned char first);

// Classifies the failure from the SSL object and the error OpenSSL queued for it
// (ERR_peek_error(), before it is taken).
HandshakeFailure classify_failure(const SSL* ssl, unsigned long error);

}  // namespace portico::tls
