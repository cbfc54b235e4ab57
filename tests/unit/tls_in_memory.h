// A TLS client and server talking through a BIO pair in memory: handshake tests without
// sockets or threads. Every loop is bounded, so a stuck handshake fails instead of hanging.
#pragma once

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstring>
#include <string>

#include "tls/CertificateChain.h"
#include "tls/OpenSsl.h"

namespace portico::test {

struct Handshake {
  bool ok = false;
  std::string client_error;  // OpenSSL's reasons; "" when that side did not fail
  std::string server_error;
};

// Gives each SSL one end of a new BIO pair.
inline void connect_in_memory(SSL* client, SSL* server) {
  BIO* client_end = nullptr;
  BIO* server_end = nullptr;
  BIO_new_bio_pair(&client_end, 0, &server_end, 0);
  SSL_set_bio(client, client_end, client_end);
  SSL_set_bio(server, server_end, server_end);
}

// Runs both sides' handshakes in turn until both are done or one fails (the other then
// gets one more turn to read the alert).
inline Handshake run_handshake(SSL* client, SSL* server) {
  Handshake result;
  bool client_done = false;
  bool server_done = false;
  auto step = [](SSL* ssl, bool& done, std::string& error) {
    if (done || !error.empty()) return;
    ERR_clear_error();
    const int rc = SSL_do_handshake(ssl);
    if (rc == 1) {
      done = true;
      return;
    }
    const int e = SSL_get_error(ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
    error = tls::take_errors();
    if (error.empty()) error = "SSL_get_error " + std::to_string(e);
  };
  for (int round = 0; round < 20 && !(client_done && server_done); ++round) {
    step(client, client_done, result.client_error);
    step(server, server_done, result.server_error);
    if (!result.client_error.empty() || !result.server_error.empty()) {
      step(client, client_done, result.client_error);
      step(server, server_done, result.server_error);
      break;
    }
  }
  result.ok =
      client_done && server_done && result.client_error.empty() && result.server_error.empty();
  return result;
}

// The server sends a few bytes and the client reads them; on the way the client reads
// the TLS 1.3 session tickets the server sent after its handshake. True when they arrived.
inline bool exchange(SSL* client, SSL* server) {
  const char ping[] = "ping";
  if (SSL_write(server, ping, 4) != 4) return false;
  char buf[16];
  const int n = SSL_read(client, buf, sizeof buf);
  ERR_clear_error();
  return n == 4 && std::memcmp(buf, ping, 4) == 0;
}

// Both sides send close_notify. Needed before SSL_free for the session to stay resumable:
// OpenSSL takes a connection freed without it for a failed one and marks its session
// not resumable.
inline void shut_down(SSL* client, SSL* server) {
  SSL_shutdown(client);
  SSL_shutdown(server);
  ERR_clear_error();
}

// A client context that verifies servers against `ca_file` ("": verifies nothing).
inline tls::SslCtxPtr client_context(const std::string& ca_file) {
  tls::SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ca_file.empty()) {
    SSL_CTX_load_verify_file(ctx.get(), ca_file.c_str());
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  }
  return ctx;
}

// A client SSL in connect state that sends `server_name` as SNI ("": none).
inline tls::SslPtr new_client(SSL_CTX* ctx, const std::string& server_name) {
  tls::SslPtr ssl(SSL_new(ctx));
  SSL_set_connect_state(ssl.get());
  if (!server_name.empty()) SSL_set_tlsext_host_name(ssl.get(), server_name.c_str());
  return ssl;
}

// The subject of the certificate the server presented ("" when none).
inline std::string peer_subject(const SSL* ssl) {
  const X509* peer = SSL_get0_peer_certificate(ssl);
  return peer ? tls::subject_rfc2253(peer) : std::string();
}

}  // namespace portico::test
