#include "tls/HandshakeFailure.h"

#include <openssl/ssl.h>

#include <openssl/err.h>

namespace portico::tls {

std::string_view failure_name(HandshakeFailure f) {
  static constexpr std::array<std::string_view, kHandshakeFailureKinds> kNames{
      "none",
      "plain_http",
      "not_tls",
      "unknown_server_name",
      "protocol_version",
      "no_shared_cipher",
      "client_certificate",
      "peer_certificate",
      "peer_alert",
      "closed",
      "timeout",
      "other"};
  return kNames[size_t(f)];
}

HandshakeFailure classify_first_byte(unsigned char first) {
  if (first >= 'A' && first <= 'Z') return HandshakeFailure::PlainHttp;
  if (first != 0x16) return HandshakeFailure::NotTls;  // a TLS handshake record
  return HandshakeFailure::None;
}

HandshakeFailure classify_failure(const SSL* ssl, unsigned long error) {
  if (ERR_GET_LIB(error) != ERR_LIB_SSL) return HandshakeFailure::Other;
  int reason = ERR_GET_REASON(error);
  switch (reason) {
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
      return HandshakeFailure::ProtocolVersion;
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_SHARED_GROUPS:
    case SSL_R_NO_SHARED_SIGNATURE_ALGORITHMS:
    case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
      return HandshakeFailure::NoSharedCipher;
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE:
      return HandshakeFailure::ClientCertificate;
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
      return SSL_is_server(ssl) ? HandshakeFailure::ClientCertificate
                                : HandshakeFailure::PeerCertificate;
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_RECORD_LENGTH_MISMATCH:
      return HandshakeFailure::NotTls;
    default:
      break;
  }
  // Alerts the peer sent: reasons SSL_AD_REASON_OFFSET + alert code.
  if (reason >= SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256)
    return HandshakeFailure::PeerAlert;
  return HandshakeFailure::Other;
}

}  // namespace portico::tls
