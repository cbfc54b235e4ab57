#include "harness/TlsClient.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <cstring>

namespace portico::it {

namespace {

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += out.empty() ? "" : "; ";
    out += buf;
  }
  return out;
}

bool WaitFor(int fd, short events, Deadline deadline) {
  while (!deadline.Expired()) {
    pollfd p{fd, events, 0};
    int ms = int(std::min<int64_t>(deadline.Remaining().count(), 100));
    int n = ::poll(&p, 1, ms < 1 ? 1 : ms);
    if (n > 0) return true;
  }
  return false;
}

}  // namespace

TlsClient::TlsClient() : ctx_(nullptr, SSL_CTX_free), ssl_(nullptr, SSL_free) {}
TlsClient::~TlsClient() {
  // Ended cleanly as far as OpenSSL knows: an SSL freed mid-connection spoils its session,
  // which a test may still resume on another connection.
  if (ssl_ && SSL_is_init_finished(ssl_.get()))
    SSL_set_shutdown(ssl_.get(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
}

template <typename Op>
bool TlsClient::Drive(Op op, Deadline deadline, const char* what) {
  while (true) {
    ERR_clear_error();
    int rc = op();
    if (rc > 0) return true;
    int err = SSL_get_error(ssl_.get(), rc);
    short events = err == SSL_ERROR_WANT_READ ? POLLIN : err == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
    if (events == 0) {
      long verify = SSL_get_verify_result(ssl_.get());
      error_ = std::string(what) + ": " +
               (err == SSL_ERROR_ZERO_RETURN ? "closed by the peer" : OpenSslErrors());
      if (err == SSL_ERROR_SYSCALL && error_.size() == std::strlen(what) + 2)
        error_ += "connection closed or reset";
      if (verify != X509_V_OK)
        error_ += std::string(" (") + X509_verify_cert_error_string(verify) + ")";
      return false;
    }
    if (!WaitFor(fd_.get(), events, deadline)) {
      error_ = std::string(what) + ": timed out";
      return false;
    }
  }
}

bool TlsClient::Connect(uint16_t port, const TlsClientOptions& o, Ms timeout) {
  Deadline deadline(timeout);
  ctx_.reset(SSL_CTX_new(TLS_client_method()));
  if (o.max_version) SSL_CTX_set_max_proto_version(ctx_.get(), o.max_version);
  if (!o.sigalgs.empty()) SSL_CTX_set1_sigalgs_list(ctx_.get(), o.sigalgs.c_str());
  SSL_CTX_set_session_cache_mode(ctx_.get(), SSL_SESS_CACHE_CLIENT);
  if (!o.ca_file.empty()) {
    SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, nullptr);
    if (SSL_CTX_load_verify_locations(ctx_.get(), o.ca_file.c_str(), nullptr) != 1) {
      error_ = "cannot load " + o.ca_file + ": " + OpenSslErrors();
      return false;
    }
  }
  if (!o.cert.empty() &&
      (SSL_CTX_use_certificate_chain_file(ctx_.get(), o.cert.c_str()) != 1 ||
       SSL_CTX_use_PrivateKey_file(ctx_.get(), o.key.c_str(), SSL_FILETYPE_PEM) != 1)) {
    error_ = "cannot load the client certificate: " + OpenSslErrors();
    return false;
  }
  ssl_.reset(SSL_new(ctx_.get()));
  if (!o.server_name.empty()) SSL_set_tlsext_host_name(ssl_.get(), o.server_name.c_str());
  std::string verify_name = o.verify_name.empty() ? o.server_name : o.verify_name;
  if (!o.ca_file.empty() && !verify_name.empty()) SSL_set1_host(ssl_.get(), verify_name.c_str());
  if (!o.alpn.empty()) {
    std::string wire(1, char(o.alpn.size()));
    wire += o.alpn;
    SSL_set_alpn_protos(ssl_.get(), reinterpret_cast<const unsigned char*>(wire.data()),
                        unsigned(wire.size()));
  }
  if (o.session) {
    // A copy per connection, as a session read from a file (s_client -sess_in): OpenSSL
    // marks the session object it resumed from as used.
    // Through its serialised form, exactly as s_client -sess_out/-sess_in would.
    int len = i2d_SSL_SESSION(o.session.get(), nullptr);
    std::string der(size_t(len > 0 ? len : 0), '\0');
    auto* out = reinterpret_cast<unsigned char*>(der.data());
    i2d_SSL_SESSION(o.session.get(), &out);
    const auto* in = reinterpret_cast<const unsigned char*>(der.data());
    SSL_SESSION* copy = d2i_SSL_SESSION(nullptr, &in, long(der.size()));
    SSL_set_session(ssl_.get(), copy);
    SSL_SESSION_free(copy);
  }
  int err = 0;
  fd_ = ConnectLoopback(port, deadline, &err);
  if (!fd_) {
    error_ = "connect to 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(err);
    return false;
  }
  SSL_set_fd(ssl_.get(), fd_.get());
  buf_.clear();
  return Drive([&] { return SSL_connect(ssl_.get()); }, deadline, "handshake");
}

bool TlsClient::Send(std::string_view data, Ms timeout) {
  Deadline deadline(timeout);
  size_t at = 0;
  while (at < data.size()) {
    size_t n = 0;
    if (!Drive([&] { return SSL_write_ex(ssl_.get(), data.data() + at, data.size() - at, &n); },
               deadline, "write"))
      return false;
    at += n;
  }
  return true;
}

std::optional<HttpResponse> TlsClient::ReadResponse(Ms timeout) {
  Deadline deadline(timeout);
  while (true) {
    if (!buf_.empty()) {
      size_t used = 0;
      ResponseParser::Result r = parser_.Feed(buf_, &used);
      buf_.erase(0, used);
      if (r == ResponseParser::Result::kError) {
        error_ = "response parse error: " + parser_.error();
        return std::nullopt;
      }
      if (r == ResponseParser::Result::kComplete) return parser_.Take();
    }
    char chunk[16384];
    size_t n = 0;
    if (!Drive([&] { return SSL_read_ex(ssl_.get(), chunk, sizeof chunk, &n); }, deadline,
               "read")) {
      if (parser_.started() && parser_.FinishAtEof() == ResponseParser::Result::kComplete)
        return parser_.Take();
      return std::nullopt;
    }
    buf_.append(chunk, n);
  }
}

bool TlsClient::WaitForClose(Ms timeout) {
  Deadline deadline(timeout);
  char chunk[4096];
  size_t n = 0;
  while (
      Drive([&] { return SSL_read_ex(ssl_.get(), chunk, sizeof chunk, &n); }, deadline, "read")) {
  }
  return error_.find("timed out") == std::string::npos;
}

std::string TlsClient::PeerSubject() const {
  X509* cert = SSL_get0_peer_certificate(ssl_.get());
  if (!cert) return "";
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, size_t(len));
  BIO_free(bio);
  return out;
}

int TlsClient::PeerKeyBits() const {
  X509* cert = SSL_get0_peer_certificate(ssl_.get());
  EVP_PKEY* key = cert ? X509_get0_pubkey(cert) : nullptr;
  return key ? EVP_PKEY_get_bits(key) : 0;
}

std::string TlsClient::PeerKeyType() const {
  X509* cert = SSL_get0_peer_certificate(ssl_.get());
  EVP_PKEY* key = cert ? X509_get0_pubkey(cert) : nullptr;
  if (!key) return "";
  return EVP_PKEY_is_a(key, "RSA") ? "RSA" : EVP_PKEY_is_a(key, "EC") ? "EC" : "other";
}

bool TlsClient::Resumed() const {
  return SSL_session_reused(ssl_.get()) == 1;
}

std::string TlsClient::Alpn() const {
  const unsigned char* p = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(ssl_.get(), &p, &len);
  return std::string(reinterpret_cast<const char*>(p), len);
}

std::string TlsClient::Version() const {
  return SSL_get_version(ssl_.get());
}

TlsSession TlsClient::Session() const {
  return TlsSession(SSL_get1_session(ssl_.get()), SSL_SESSION_free);
}

}  // namespace portico::it
